"""Browser layer: the real app on a live server, Debian's Chromium driven by sync Playwright
on a phone viewport, JavaScript on and off, axe-core on every page.

Fixtures (see test_public_pages.py for examples):

- `live_server`: base URL of the real app (`create_app`, real SQLite file, or PostgreSQL
  database with TEST_DATABASE_URL, see tests/testdb.py). The server runs for the whole
  session, but every test gets its own fresh copy of the seeded database.
  During a test, `models.*` queries hit that same copy (e.g. to assert a lead was created).
  Never mix it with the test-client fixtures of tests/conftest.py (`app`, `client`, `db`):
  they re-point the module-level `models.db` proxy to another file.
- `page` (JS on), `page_nojs` (JS off), `phone_page` (JS on *and* off: parametrised by the
  `js` fixture, ids `js-on`/`js-off`), `new_page(js=...)` for more pages in one test.
  All are 375x740, fr-FR, mobile, touch, with `base_url` set: `page.goto("/")`.
- `console_errors`: console errors, uncaught exceptions and CSP violations fail the test at
  teardown; `console_errors.allow_http_error(422)` or `.allow(regex)` for expected ones
  (Chromium logs every 4xx/5xx document or fetch response as a console error).
- `assert_accessible(page)`: axe-core, WCAG 2.0/2.1/2.2 A and AA, zero violations.
- `evaluate(page, expression)`: a JavaScript expression's value, JS on or off.
- A failing test leaves a screenshot and the page's HTML in test-results/.
"""

import json
import os
import re
import ssl
import subprocess
import threading
import warnings
import weakref
from pathlib import Path

import pytest
from axe_playwright_python.base import AxeResults
from axe_playwright_python.sync_playwright import Axe
from flask import got_request_exception
from playwright.sync_api import sync_playwright
from testdb import open_databases
from werkzeug.serving import WSGIRequestHandler, make_server

import models
from app import create_app

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RESULTS_DIR = ROOT / "test-results"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # The live server's certificate is self-signed (tls_context): taken as valid, so
    # the pages are a secure context, downloads included.
    "--ignore-certificate-errors",
]
PHONE = {
    "viewport": {"width": 375, "height": 740},
    "locale": "fr-FR",
    "is_mobile": True,
    "has_touch": True,
}
# Playwright waits 30 s by default: far too long to learn that a locator matches nothing.
ACTION_TIMEOUT_MS = 5_000
NAVIGATION_TIMEOUT_MS = 10_000

# WCAG 2.2 AA brings target-size (2.5.8, targets of 24 × 24 px): axe-core runs it only when
# its tag is asked for (axe-playwright-python 0.1.8 bundles axe-core 4.12, which has it;
# WCAG 2.2 adds no level-A rule to axe, hence no "wcag22a" tag).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


# --- Collection ---------------------------------------------------------------------------


def pytest_collection_modifyitems(config, items):
    # This hook sees every item of the session: mark only ours.
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item, so fixtures know at teardown whether the test
    # failed (and leave a screenshot).
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def _failed(node):
    reports = node.stash.get(_REPORTS, {})
    return any(report.failed for report in reports.values())


# --- Live server --------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (errors are still logged)."""

    def log_request(self, code="-", size="-"):
        pass


class LiveServer:
    def __init__(self, url, app, databases, seed):
        self.url = url
        self.app = app
        self.databases = databases  # tests/testdb.py: SQLite files or PostgreSQL
        self.seed = seed
        self.exceptions = []  # unhandled exceptions raised by views, from any thread

    def use_fresh_database(self, directory):
        """Point the app (i.e. the models.db proxy) at a fresh copy of the seed database;
        returns its URL (drop it with `self.databases.drop(url)`)."""
        url = self.databases.copy(self.seed, directory, "live")
        models.init_db(url)
        _invalidate_caches()
        return url


def _invalidate_caches():
    # The catalogue keeps programmes in memory; a new database must not see stale ones.
    try:
        from services import catalogue
    except ImportError:
        return
    invalidate = getattr(catalogue, "invalidate", None)
    if invalidate:
        invalidate()


@pytest.fixture(scope="session")
def browser_databases(request):
    """The `databases` fixture of tests/conftest.py, or the same backend made here."""
    try:
        return request.getfixturevalue("databases")
    except pytest.FixtureLookupError:
        pass
    backend = open_databases()
    request.addfinalizer(backend.close)
    return backend


@pytest.fixture(scope="session")
def browser_seed_db(request, browser_databases, tmp_path_factory):
    """The seeded database of tests/conftest.py (communes + demo catalogue), as a URL.

    Falls back to an empty, migrated database when that fixture is not loaded (running with
    `--confcutdir tests/browser` while the shared conftest cannot be imported).
    """
    try:
        return request.getfixturevalue("seed_db")
    except pytest.FixtureLookupError:
        pass
    warnings.warn(
        "seed_db (tests/conftest.py) absent : base migrée mais vide, sans communes ni catalogue",
        stacklevel=1,
    )
    url = browser_databases.new(tmp_path_factory.mktemp("browser-seed"), "seed")
    request.addfinalizer(lambda: browser_databases.drop(url))
    models.init_db(url)
    models.migrate()
    models.db.close_all()  # the last close checkpoints the WAL into the copied file
    return url


def tls_context(directory):
    """A TLS server context with a self-signed certificate for 127.0.0.1, made by Debian's
    openssl: the browser tests run over HTTPS, as production does (Secure cookies, the
    Referer that Flask-WTF's CSRF check asks of an HTTPS form)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture(scope="session")
def _live_server(browser_databases, browser_seed_db, tmp_path_factory):
    # The app starts on a copy; every test then gets its own (use_fresh_database).
    first = browser_databases.copy(browser_seed_db, tmp_path_factory.mktemp("live"), "live")
    app = create_app(
        {
            "SECRET_KEY": "browser-test-secret-key",
            "DATABASE_URL": first,
            # HTTPS, as in production: Secure cookies, HSTS.
            "SESSION_COOKIE_SECURE": True,
            # One server for the whole session: its demandes are not one person's; the
            # time trap and the limits have their own tests (test_bots.py, test_limits.py).
            "MIN_FILL_SECONDS": 0,
            "SENT_AGAIN_HOURS": 0,
            "LIMIT_DEMANDES": "100000 per hour",
            "LIMIT_ETAPES": "100000 per minute",
            # SMS as files of this run, never the worktree's instance/sms/ (mail/sms.py).
            "SMS_DIR": str(tmp_path_factory.mktemp("sms")),
        }
    )
    # Not TESTING: errors take the production path (our 500 page), but are recorded here.
    server = make_server(
        "127.0.0.1",
        0,
        app,
        threaded=True,
        request_handler=_QuietHandler,
        ssl_context=tls_context(tmp_path_factory.mktemp("tls")),
    )
    live = LiveServer(
        f"https://127.0.0.1:{server.server_port}", app, browser_databases, browser_seed_db
    )

    def record(sender, exception, **extra):
        live.exceptions.append(exception)

    got_request_exception.connect(record, app, weak=False)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield live
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    got_request_exception.disconnect(record, app)
    browser_databases.drop(first)


@pytest.fixture
def live_server(_live_server, tmp_path):
    """Base URL of the live app, over a fresh copy of the seeded database for this test."""
    url = _live_server.use_fresh_database(tmp_path)
    seen = len(_live_server.exceptions)
    yield _live_server.url
    if not models.db.is_closed():
        models.db.close()
    _live_server.databases.drop(url)
    raised = _live_server.exceptions[seen:]
    if raised:
        pytest.fail(
            "Le serveur a levé : " + "; ".join(f"{type(e).__name__}: {e}" for e in raised),
            pytrace=False,
        )


# --- Browser and pages ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        message = f"{CHROMIUM} absent : `make browser` l'installe (en root)."
        if os.environ.get("CI") == "true":
            pytest.fail(
                message + " CI=true : les tests navigateur sont obligatoires.", pytrace=False
            )
        pytest.skip(message)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
    except Exception:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


class ConsoleErrors:
    """Console errors, uncaught exceptions and CSP violations of the watched pages.

    Chromium reports a CSP violation, and every 4xx/5xx response ("Failed to load resource:
    the server responded with a status of 404"), as a console error.
    """

    def __init__(self):
        self.messages = []
        self._allowed = []

    def allow(self, pattern):
        """Expect messages matching `pattern` (re.search over "text (url)")."""
        self._allowed.append(re.compile(pattern))

    def allow_http_error(self, status, path=""):
        """Expect Chromium's "Failed to load resource" line for a `status` response (e.g. the
        422 of an invalid form, JS on or off) to a URL ending with `path`, or to any URL."""
        url = r"https?://[^)]*" + re.escape(path) if path else r"[^)]*"
        self.allow(rf"^console: Failed to load resource: .* status of {status} .*\({url}\)$")

    def watch(self, page):
        page.on("console", self._on_console)
        page.on("pageerror", self._on_pageerror)

    def _on_console(self, message):
        if message.type == "error":
            url = (message.location or {}).get("url", "")
            self.messages.append(f"console: {message.text} ({url})")

    def _on_pageerror(self, error):
        self.messages.append(f"exception: {error}")

    def unexpected(self):
        return [m for m in self.messages if not any(p.search(m) for p in self._allowed)]


@pytest.fixture
def console_errors():
    errors = ConsoleErrors()
    yield errors
    unexpected = errors.unexpected()
    if unexpected:
        pytest.fail("Erreurs dans la console :\n" + "\n".join(unexpected), pytrace=False)


# Contexts opened with JavaScript disabled (their pages, popups included): axe runs differently.
_NO_JS_CONTEXTS = weakref.WeakSet()


def js_enabled(page):
    return page.context not in _NO_JS_CONTEXTS


@pytest.fixture
def new_page(browser, live_server, console_errors, request):
    """Factory: `new_page(js=True, **context_options)` opens a phone page in a new context
    (own cookies), watched for console errors, closed at teardown."""
    opened = []

    def open_page(js=True, **context_options):
        options = {**PHONE, **context_options}
        # ignore_https_errors: for page.request (Playwright's own client, not Chromium's).
        context = browser.new_context(
            base_url=live_server, java_script_enabled=js, ignore_https_errors=True, **options
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        page = context.new_page()
        console_errors.watch(page)
        if not js:
            _NO_JS_CONTEXTS.add(context)
        opened.append(page)
        return page

    yield open_page
    if _failed(request.node):
        for number, page in enumerate(opened):
            suffix = f"-{number}" if len(opened) > 1 else ""
            screenshot(page, request.node.nodeid + suffix)
    for page in opened:
        page.context.close()


@pytest.fixture
def page(new_page):
    return new_page(js=True)


@pytest.fixture
def page_nojs(new_page):
    return new_page(js=False)


@pytest.fixture(params=[True, False], ids=["js-on", "js-off"])
def js(request):
    return request.param


@pytest.fixture
def phone_page(new_page, js):
    """The same test body with JavaScript on, then off (the `js` fixture says which)."""
    return new_page(js=js)


def screenshot(page, name):
    """Save a full-page screenshot and the DOM of `page` in test-results/; never raises."""
    safe = re.sub(r"[^\w.-]+", "_", name).strip("_")[:180]
    RESULTS_DIR.mkdir(exist_ok=True)
    try:
        page.screenshot(path=RESULTS_DIR / f"{safe}.png", full_page=True, timeout=5_000)
        (RESULTS_DIR / f"{safe}.html").write_text(page.content(), encoding="utf-8")
    except Exception as error:  # a screenshot must never hide the real failure
        print(f"capture impossible pour {name} : {error}")


# --- Accessibility ------------------------------------------------------------------------

_AXE = Axe()

# A document loaded with JavaScript disabled never runs timers, not even in an isolated world
# (checked in Chromium 156), and axe.run() defers its work with setTimeout(fn, 0 or 1): it
# would hang. In the audit's own world only, short timers become microtasks; long ones are
# dropped: axe uses them only as time-outs (iframes, asset preloading) that never fire first.
_TIMER_SHIM = """
window.setTimeout = function (fn, delay) {
  var args = Array.prototype.slice.call(arguments, 2);
  if ((delay | 0) <= 50) queueMicrotask(function () { fn.apply(null, args); });
  return 0;
};
window.clearTimeout = function () {};
"""


def _axe_options(disable):
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    if disable:
        options["rules"] = {rule: {"enabled": False} for rule in disable}
    return options


def _evaluate_without_js(page, *expressions):
    """The value of the last of `expressions`, run in turn in a page whose JavaScript is
    disabled, as that page really is.

    `page.evaluate` never returns in such a page. Through CDP we create an isolated world
    (its own globals, same DOM; the site's scripts stay off) and run the expressions in it:
    the DOM seen is the one a no-JS visitor gets, `<noscript>` content included.
    """
    cdp = page.context.new_cdp_session(page)
    try:
        frame_id = cdp.send("Page.getFrameTree")["frameTree"]["frame"]["id"]
        world = cdp.send("Page.createIsolatedWorld", {"frameId": frame_id, "worldName": "audit"})
        result = None
        for expression in expressions:
            result = cdp.send(
                "Runtime.evaluate",
                {
                    "expression": expression,
                    "contextId": world["executionContextId"],
                    "awaitPromise": True,
                    "returnByValue": True,
                },
            )
            if "exceptionDetails" in result:
                details = result["exceptionDetails"]
                text = details.get("exception", {}).get("description") or details.get("text")
                raise RuntimeError(f"JavaScript sans JS : {text}")
        return result["result"].get("value")
    finally:
        cdp.detach()


def evaluate(page, expression):
    """The value of a JavaScript expression (e.g. "() => document.title") in `page`, whether
    its JavaScript is on or off (then in an isolated world, see `_evaluate_without_js`)."""
    if js_enabled(page):
        return page.evaluate(expression)
    return _evaluate_without_js(page, f"({expression})()")


def _run_axe_without_js(page, options):
    """axe-core on a page whose JavaScript is disabled (axe-core itself treats <noscript>
    as hidden, as it does everywhere)."""
    value = _evaluate_without_js(
        page, _TIMER_SHIM, _AXE.axe_script, f"axe.run(document, {json.dumps(options)})"
    )
    return AxeResults(value)


def run_axe(page, disable=()):
    """axe-core results (violations only) for the current document of `page`."""
    options = _axe_options(disable)
    if not js_enabled(page):
        return _run_axe_without_js(page, options)
    # axe-playwright-python injects axe-core with page.evaluate (CDP Runtime.evaluate), which
    # the page's CSP does not govern: no bypass_csp needed (checked under script-src 'self').
    return _AXE.run(page, options=options)


def format_violations(violations):
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} [{violation.get('impact')}] {violation['help']}"
            f" ({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            target = " ".join(json.dumps(t, ensure_ascii=False) for t in node["target"])
            lines.append(f"    {target}")
            summary = (node.get("failureSummary") or "").replace("\n", " / ")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


def assert_accessible(page, disable=()):
    """Zero axe-core violations (WCAG 2.0/2.1/2.2, A and AA) on the current page.

    `disable`: rule ids to skip, for a known and documented exception only.
    """
    violations = run_axe(page, disable).response["violations"]
    if violations:
        js_state = "JS activé" if js_enabled(page) else "JS désactivé"
        report = (
            f"axe : {len(violations)} règle(s) enfreinte(s) sur {page.url} ({js_state})\n"
            + format_violations(violations)
        )
        print(report)
        pytest.fail(report, pytrace=False)


@pytest.fixture(name="run_axe")
def run_axe_fixture():
    """`run_axe(page)`: axe-core's results, for tests about the audit itself."""
    return run_axe


@pytest.fixture(name="evaluate")
def evaluate_fixture():
    """`evaluate(page, expression)` without importing from a conftest."""
    return evaluate


@pytest.fixture(name="assert_accessible")
def assert_accessible_fixture():
    """`assert_accessible(page)` without importing from a conftest."""
    return assert_accessible
