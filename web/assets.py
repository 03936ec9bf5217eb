"""Static files under content-hashed names, cached for a year and served pre-compressed.

WhiteNoise (used without Django) serves a build of static/ made at start-up in the
instance folder: every file under its own name (a short cache, for links that name it)
and under `name.<hash>.ext` (cached a year, `immutable`), each with the .br and .gz
variants that are smaller. Pages link through `asset_url`, so they always name the
current content and a browser never revalidates an asset: a later page costs its HTML.
"""

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from flask import current_app, request
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

HASH_LENGTH = 12
BUILD_PREFIX = "static-"


class StaticFiles(WhiteNoise):
    FOREVER = 365 * 24 * 3600  # a year (DESIGN §11), not WhiteNoise's ten


def hashed_name(name, data):
    """A name with the content hash before its extension: htmx-4.0.1.min.<hash>.js."""
    stem, extension = os.path.splitext(name)
    return f"{stem}.{hashlib.sha256(data).hexdigest()[:HASH_LENGTH]}{extension}"


def manifest(source):
    """{name: hashed name} of every file under `source`, and its contents by name."""
    contents = {
        path.relative_to(source).as_posix(): path.read_bytes()
        for path in sorted(source.rglob("*"))
        if path.is_file()
    }
    return {name: hashed_name(name, data) for name, data in contents.items()}, contents


def build(source, instance):
    """The build directory of `source` in `instance` and its manifest.

    The directory is named after the whole content, so a build is made once and never
    changed: it is written aside then renamed into place, and when several workers
    start together the first rename wins and the others use it.
    """
    names, contents = manifest(source)
    digest = hashlib.sha256(repr(sorted(names.items())).encode()).hexdigest()[:HASH_LENGTH]
    target = instance / f"{BUILD_PREFIX}{digest}"
    if target.is_dir():
        return target, names
    work = Path(tempfile.mkdtemp(prefix=f".{BUILD_PREFIX}", dir=instance))
    compressor = Compressor(quiet=True)
    for name, data in contents.items():
        for copy in (name, names[name]):
            path = work / copy
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            if compressor.should_compress(copy):
                compressor.compress(str(path))
    try:
        work.rename(target)
    except OSError:  # another worker's build, with the same content, is there already
        shutil.rmtree(work)
    clean_old_builds(instance, target)
    return target, names


# Builds kept besides the current one: during a restart, workers of the previous release
# still serve theirs. Half-written ones (.static-*) older than an hour are a crash's leftovers.
PREVIOUS_BUILDS_KEPT = 1
LEFTOVER_SECONDS = 3600


def clean_old_builds(instance, current):
    """Delete the static builds of older releases, which pile up at each upgrade."""
    builds = sorted(
        (p for p in instance.glob(f"{BUILD_PREFIX}*") if p.is_dir() and p != current),
        key=lambda p: p.stat().st_mtime,
    )
    old = builds[:-PREVIOUS_BUILDS_KEPT] if PREVIOUS_BUILDS_KEPT else builds
    now = time.time()
    old += [
        p
        for p in instance.glob(f".{BUILD_PREFIX}*")
        if p.is_dir() and now - p.stat().st_mtime > LEFTOVER_SECONDS
    ]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)  # another worker may be removing it too


def init_app(app, headers):
    """Serve the static files through WhiteNoise in front of the app, with `headers`
    (the security headers of the app's own responses)."""
    source, instance = Path(app.static_folder), Path(app.instance_path)
    root, names = build(source, instance)
    app.extensions["assets"] = names
    hashed_urls = {f"{app.static_url_path}/{hashed}" for hashed in names.values()}
    app.wsgi_app = StaticFiles(
        app.wsgi_app,
        root=root,
        prefix=app.static_url_path,
        immutable_file_test=lambda path, url: url in hashed_urls,
        add_headers_function=lambda static_headers, path, url: add(static_headers, headers),
    )
    app.add_template_global(asset_url)


def add(target, headers):
    for name, value in headers.items():
        target[name] = value


def asset_url(name):
    """The URL of static file `name` under its hashed name (a KeyError for a typo)."""
    hashed = current_app.extensions["assets"][name]
    return f"{request.script_root}{current_app.static_url_path}/{hashed}"
