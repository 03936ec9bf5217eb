"""Static files: hashed names in the pages, a year of immutable cache, pre-compressed
variants, and what a first visit weighs (DESIGN §11)."""

import gzip
import re
from pathlib import Path

import brotli
import pytest

from web import assets

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
ASSET_RE = re.compile(r'(?:href|src)="(/static/[^"]+)"')
HASHED_RE = re.compile(r"^/static/(.+)\.[0-9a-f]{12}(\.\w+)$")
YEAR = "max-age=31536000, public, immutable"
FIRST_VISIT = ["/", "/jeune/age"]


def asset_urls(client, url="/"):
    return ASSET_RE.findall(client.get(url).get_data(as_text=True))


def original(url):
    """The file in static/ that a hashed URL names."""
    stem, extension = HASHED_RE.match(url).groups()
    return (STATIC / f"{stem}{extension}").read_bytes()


@pytest.mark.parametrize("url", ["/", "/jeune/age", "/mentor/situation"])
def test_pages_link_every_asset_by_its_hashed_name(client, url):
    urls = asset_urls(client, url)
    assert len(urls) == 4  # stylesheet, icon, htmx, app.js
    assert all(HASHED_RE.match(u) for u in urls), urls
    # The htmx version stays readable in its name.
    assert any(u.startswith("/static/vendor/htmx-4.0.1.min.") for u in urls)


def test_a_hashed_name_is_the_content_hash_of_the_file(client):
    for url in asset_urls(client):
        stem, extension = HASHED_RE.match(url).groups()
        name = f"{stem}{extension}"
        assert url == f"/static/{assets.hashed_name(name, (STATIC / name).read_bytes())}"
        response = client.get(url)
        assert response.status_code == 200
        assert response.data == original(url)


def test_hashed_files_are_cached_a_year_and_immutable(client):
    for url in asset_urls(client):
        response = client.get(url)
        assert response.headers["Cache-Control"] == YEAR
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_unhashed_names_are_still_served_with_a_short_cache(client):
    response = client.get("/static/js/app.js")
    assert response.status_code == 200
    assert response.data == (STATIC / "js" / "app.js").read_bytes()
    assert response.headers["Cache-Control"] == "max-age=60, public"


@pytest.mark.parametrize(
    ("encoding", "decompress"), [("br", brotli.decompress), ("gzip", gzip.decompress)]
)
def test_compressed_variants_are_served_to_who_accepts_them(client, encoding, decompress):
    for url in asset_urls(client):
        response = client.get(url, headers={"Accept-Encoding": encoding})
        assert response.headers["Content-Encoding"] == encoding
        assert response.headers["Vary"] == "Accept-Encoding"
        assert response.headers["Cache-Control"] == YEAR
        assert decompress(response.data) == original(url)
        assert len(response.data) < len(original(url))


def test_without_accept_encoding_the_file_is_sent_as_is(client):
    url = next(u for u in asset_urls(client) if "htmx" in u)
    response = client.get(url)
    assert "Content-Encoding" not in response.headers
    assert response.data == original(url)


def test_first_visit_weighs_under_30_kb_with_js_under_20_kb(client):
    """Home + first step (their HTML as sent, uncompressed) + every asset they link,
    compressed as a browser accepting Brotli gets it."""
    headers = {"Accept-Encoding": "br, gzip"}
    pages = sum(len(client.get(url, headers=headers).data) for url in FIRST_VISIT)
    urls = {u for url in FIRST_VISIT for u in asset_urls(client, url)}
    sizes = {u: len(client.get(u, headers=headers).data) for u in urls}
    javascript = sum(size for u, size in sizes.items() if u.endswith(".js"))
    assert javascript < 20 * 1024, sizes
    assert pages + sum(sizes.values()) < 30 * 1024, (pages, sizes)


def test_a_changed_file_gets_a_new_name_in_a_new_build(tmp_path):
    source, instance = tmp_path / "static", tmp_path / "instance"
    (source / "css").mkdir(parents=True)
    instance.mkdir()
    (source / "css" / "site.css").write_text("body { color: black; }\n" * 50)
    first, names = assets.build(source, instance)
    assert assets.build(source, instance) == (first, names)  # made once, then reused
    (source / "css" / "site.css").write_text("body { color: navy; }\n" * 50)
    second, changed = assets.build(source, instance)
    assert second != first and first.is_dir()  # pages already sent still find theirs
    assert changed["css/site.css"] != names["css/site.css"]
    built = sorted(p.name for p in (second / "css").iterdir())
    hashed = changed["css/site.css"].split("/")[1]
    assert built == sorted(
        [f"{hashed}", f"{hashed}.br", f"{hashed}.gz", "site.css", "site.css.br", "site.css.gz"]
    )
    assert not [p for p in instance.iterdir() if p.name.startswith(".")]  # no work left
