/** Draws the app's icons as PNG files at build time, so no binary image lives in the repo. */

import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encode RGBA pixels (a Buffer of size*size*4) as a PNG. */
function png(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const GREEN = [11, 110, 79];
const WHITE = [255, 255, 255];
const SAFFRON = [242, 140, 40];

/**
 * The mark: a white ring on green with a saffron centre (a booth's pin seen from above),
 * kept inside the central 80% circle so maskable crops never cut it.
 * @param {number} size
 * @param {{rounded?: boolean}} [options]  rounded corners for the plain (non-maskable) icon
 */
export function drawIcon(size, { rounded = false } = {}) {
  const rgba = Buffer.alloc(size * size * 4);
  const c = size / 2;
  const corner = rounded ? size * 0.18 : 0;
  const samples = 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const px = x + (sx + 0.5) / samples;
          const py = y + (sy + 0.5) / samples;
          // Outside the rounded corners: transparent.
          const dx = Math.max(corner - px, 0, px - (size - corner));
          const dy = Math.max(corner - py, 0, py - (size - corner));
          if (corner && Math.hypot(dx, dy) > corner) continue;
          const r = Math.hypot(px - c, py - c) / size;
          const colour = r < 0.14 ? SAFFRON : r < 0.2 ? GREEN : r < 0.3 ? WHITE : GREEN;
          acc[0] += colour[0];
          acc[1] += colour[1];
          acc[2] += colour[2];
          acc[3] += 255;
        }
      }
      const n = samples * samples;
      const i = (y * size + x) * 4;
      const alpha = acc[3] / n;
      const cover = acc[3] / 255 || 1;
      rgba[i] = Math.round(acc[0] / cover);
      rgba[i + 1] = Math.round(acc[1] / cover);
      rgba[i + 2] = Math.round(acc[2] / cover);
      rgba[i + 3] = Math.round(alpha);
    }
  }
  return png(size, rgba);
}

/** Every icon the manifest and the page name, by file name. */
export function allIcons() {
  return {
    'icon-192.png': drawIcon(192, { rounded: true }),
    'icon-512.png': drawIcon(512, { rounded: true }),
    'icon-maskable-512.png': drawIcon(512),
    'apple-touch-icon.png': drawIcon(180),
  };
}
