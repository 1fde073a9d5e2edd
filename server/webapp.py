"""Serves the built offline app (pwa/dist) at `/`, with the cache headers an offline app needs."""

import os
import re
from pathlib import Path

from flask import Blueprint, current_app, request, send_file
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

bp = Blueprint("webapp", __name__)

DEFAULT_DIST = Path(__file__).resolve().parent.parent / "pwa" / "dist"

# Bundles named by content hash never change: a browser may keep them for a year.
HASHED = re.compile(r"^assets/.+-[A-Z0-9]{8}\.(js|css)$")
# The worker and the page must be revalidated every time, or a phone keeps an old release.
ALWAYS_REVALIDATE = {"sw.js", "index.html", "manifest.webmanifest"}
# Werkzeug adds "; charset=utf-8" to text types itself: naming it here doubled it.
TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def dist_dir() -> Path:
    """Where the built app lives: PWA_DIST in the config or environment, else pwa/dist."""
    configured = current_app.config.get("PWA_DIST") or os.environ.get("PWA_DIST")
    return Path(configured).resolve() if configured else DEFAULT_DIST


def cache_control(name: str) -> str:
    if HASHED.match(name):
        return "public, max-age=31536000, immutable"
    if name in ALWAYS_REVALIDATE:
        return "no-cache"
    return "public, max-age=86400"


def _send(name: str):
    root = dist_dir()
    path = safe_join(str(root), name)
    if path is None or not os.path.isfile(path):
        raise NotFound()
    gzipped = path + ".gz"
    use_gzip = "gzip" in request.headers.get("Accept-Encoding", "") and os.path.isfile(gzipped)
    response = send_file(
        gzipped if use_gzip else path,
        mimetype=TYPES.get(Path(name).suffix, "application/octet-stream"),
        conditional=True,
        etag=True,
        max_age=None,
    )
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = cache_control(name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if name == "sw.js":
        response.headers["Service-Worker-Allowed"] = "/"
    if name.endswith(".html"):
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.get("/")
def index():
    """Serve the app."""
    return _send("index.html")


@bp.get("/<path:name>")
def asset(name):
    """Serve a file of the app, or the app itself for any of its paths (/members/new...)."""
    if name == "api" or name.startswith("api/"):
        raise NotFound()
    if os.path.isfile(os.path.join(dist_dir(), name)):
        return _send(name)
    # A file that is not there (a stale hashed bundle) is a 404; an app path is the page.
    if "." in name.rsplit("/", 1)[-1]:
        raise NotFound()
    return _send("index.html")


def init_app(app):
    app.register_blueprint(bp)
