/** Builds the app into dist/: hashed bundles, index.html, manifest, icons, the precaching worker. */

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

import * as esbuild from 'esbuild';

import { allIcons } from './tools/icons.mjs';

const root = dirname(fileURLToPath(import.meta.url));
const src = join(root, 'src');
// PWA_OUT lets a test build a second release elsewhere while the first is being served.
const out = process.env.PWA_OUT || join(root, 'dist');

/** @param {string} dir */
function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** The release id: PWA_RELEASE, else a hash of the sources and the lockfile (same input, same id). */
function releaseId() {
  if (process.env.PWA_RELEASE) return process.env.PWA_RELEASE;
  const hash = createHash('sha256');
  for (const path of [...filesUnder(src), join(root, 'package-lock.json'), join(root, 'build.mjs')].sort()) {
    hash.update(relative(root, path));
    hash.update(readFileSync(path));
  }
  return hash.digest('hex').slice(0, 10);
}

const release = releaseId();
const { default: hi } = await import(pathToFileURL(join(src, 'i18n', 'hi.js')).href);

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'icons'), { recursive: true });

const common = {
  bundle: true,
  minify: true,
  legalComments: 'none',
  target: ['es2020'],
  define: { __RELEASE__: JSON.stringify(release) },
  logLevel: 'warning',
};

const app = await esbuild.build({
  ...common,
  entryPoints: { app: join(src, 'main.jsx') },
  outdir: out,
  entryNames: 'assets/[name]-[hash]',
  format: 'esm',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  metafile: true,
});
const outputs = Object.keys(app.metafile.outputs).map((path) => '/' + relative(out, path));
const script = outputs.find((path) => path.endsWith('.js'));
const style = outputs.find((path) => path.endsWith('.css'));
if (!script || !style) throw new Error(`expected one script and one stylesheet, got ${outputs}`);

const html = readFileSync(join(src, 'index.html'), 'utf8')
  .replaceAll('{{title}}', hi.app.name)
  .replace('{{style}}', style)
  .replace('{{script}}', script)
  .replace('{{noscript}}', hi.app.noscript);
writeFileSync(join(out, 'index.html'), html);

for (const [name, bytes] of Object.entries(allIcons())) writeFileSync(join(out, 'icons', name), bytes);
const manifest = {
  name: hi.app.name,
  short_name: hi.app.shortName,
  description: hi.app.description,
  lang: 'hi',
  dir: 'ltr',
  id: '/',
  start_url: '/',
  scope: '/',
  display: 'standalone',
  orientation: 'portrait',
  background_color: '#ffffff',
  theme_color: '#0b6e4f',
  icons: [
    { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
    { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
    { src: '/icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
  ],
};
writeFileSync(join(out, 'manifest.webmanifest'), JSON.stringify(manifest, null, 2));

// The worker carries the precache list (URL + revision) that workbox-precaching installs;
// a changed file changes sw.js, which is what makes a phone see a new release.
const precached = [
  'index.html',
  'manifest.webmanifest',
  ...filesUnder(join(out, 'assets')).map((path) => relative(out, path)),
  ...filesUnder(join(out, 'icons')).map((path) => relative(out, path)),
].sort();
const precacheList = precached.map((path) => ({
  url: '/' + path,
  // Hashed names carry their revision already.
  revision: /^assets\/.+-[A-Z0-9]{8}\.(js|css)$/.test(path)
    ? null
    : createHash('md5').update(readFileSync(join(out, path))).digest('hex'),
}));
await esbuild.build({
  ...common,
  entryPoints: [join(src, 'sw.js')],
  outfile: join(out, 'sw.js'),
  format: 'iife',
  define: { ...common.define, 'self.__WB_MANIFEST': JSON.stringify(precacheList) },
});

// Precompressed copies: the server sends these to browsers that accept gzip.
for (const path of filesUnder(out)) {
  if (/\.(js|css|html|webmanifest)$/.test(path)) {
    writeFileSync(path + '.gz', gzipSync(readFileSync(path), { level: 9 }));
  }
}

const gz = (/** @type {string} */ path) => statSync(join(out, path + '.gz')).size;
const shell = ['/index.html', script, style, '/sw.js'].reduce((sum, path) => sum + gz(path), 0);
console.log(
  `built release ${release} into ${relative(process.cwd(), out) || '.'}: ` +
    `${precacheList.length} files precached; app shell ${(shell / 1024).toFixed(1)} KB gzip`,
);
