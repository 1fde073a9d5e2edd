"""The server hands out the built app: every app path is the page, caching suits an
offline app (worker and page always revalidated, hashed bundles kept for a year)."""

import gzip

import pytest


def fetch(client, path, **kw):
    """GET and read the whole answer, closing the file it was sent from."""
    response = client.get(path, **kw)
    response.get_data()
    response.close()
    return response


@pytest.fixture
def dist(app, tmp_path, monkeypatch):
    (tmp_path / "assets").mkdir()
    (tmp_path / "icons").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><html lang="hi"><title>app</title>')
    (tmp_path / "index.html.gz").write_bytes(gzip.compress(b"<!doctype html>"))
    (tmp_path / "sw.js").write_text("self.addEventListener('fetch', () => {});")
    (tmp_path / "assets" / "app-ABCDEFGH.js").write_text("console.log(1)")
    (tmp_path / "assets" / "app-ABCDEFGH.js.gz").write_bytes(gzip.compress(b"console.log(1)"))
    (tmp_path / "manifest.webmanifest").write_text("{}")
    (tmp_path / "icons" / "icon-192.png").write_bytes(b"\x89PNG")
    monkeypatch.setitem(app.config, "PWA_DIST", str(tmp_path))
    return tmp_path


def test_app_paths_are_the_page_and_never_cached_long(client, dist):
    for path in ("/", "/members/new", "/grievances/123", "/sync", "/meetings/abc"):
        response = fetch(client, path)
        assert response.status_code == 200, path
        assert b'lang="hi"' in response.data
        assert response.headers["Cache-Control"] == "no-cache"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_worker_revalidates_and_hashed_bundles_are_immutable(client, dist):
    worker = fetch(client, "/sw.js")
    assert worker.status_code == 200
    assert worker.headers["Cache-Control"] == "no-cache"
    assert worker.mimetype == "text/javascript"
    bundle = fetch(client, "/assets/app-ABCDEFGH.js")
    assert bundle.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert fetch(client, "/manifest.webmanifest").mimetype == "application/manifest+json"
    assert fetch(client, "/icons/icon-192.png").headers["Cache-Control"] == "public, max-age=86400"


def test_gzip_copies_go_to_browsers_that_accept_them(client, dist):
    zipped = fetch(client, "/assets/app-ABCDEFGH.js", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(zipped.data) == b"console.log(1)"
    plain = fetch(client, "/assets/app-ABCDEFGH.js")
    assert "Content-Encoding" not in plain.headers
    assert plain.data == b"console.log(1)"


def test_a_missing_file_is_a_404_not_the_page(client, dist):
    assert fetch(client, "/assets/app-OLDHASH1.js").status_code == 404
    assert fetch(client, "/../setup.cfg").status_code == 404
    assert fetch(client, "/%2e%2e/setup.cfg").status_code == 404


def test_unknown_api_paths_stay_json_errors(client, dist):
    response = fetch(client, "/api/no-such-thing")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
