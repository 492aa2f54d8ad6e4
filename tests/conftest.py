"""Fixtures shared by every test: servers on 127.0.0.1, one browser page per engine and module.

Browser tests take the `py` fixture (a page with Pyodide and our package loaded,
in each engine) and are usually written with `@run_in_pyodide`: the test body
is Python that runs inside Pyodide, in the browser.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
#: Pinned pure wheels of third-party libraries for the page (build.sh's third_party_wheels).
THIRD_PARTY = ROOT / "build" / "third-party"
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import hypothesis_profiles  # noqa: E402, F401 - loads $HYPOTHESIS_PROFILE (default "ci")
from servers import StaticServer, WebSocketServer  # noqa: E402
from websocket_streaming.connection import BACKENDS, DEFAULT_BACKEND  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

#: The connect() default in every test page ($WS_STREAMING_BACKEND), or None: the library's.
PAGE_BACKEND = os.environ.get("WS_STREAMING_BACKEND") or None
if PAGE_BACKEND is not None and PAGE_BACKEND not in BACKENDS:
    raise pytest.UsageError(f"WS_STREAMING_BACKEND must be one of {BACKENDS}")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engine",
        action="append",
        choices=harness.ENGINES,
        help="run browser tests in this engine only (repeatable); "
        "default: $WS_STREAMING_ENGINES (comma-separated) or all three",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_backends: also run in Chromium with the other backend (conftest.py)"
    )
    config.addinivalue_line(
        "markers",
        "engines(*names): run only in these engines, for a browser feature the others lack "
        "(the test's docstring says which); never a skip",
    )


def selected_engines(config: pytest.Config) -> list[str]:
    chosen = config.getoption("--engine")
    if not chosen and os.environ.get("WS_STREAMING_ENGINES"):
        chosen = [e.strip() for e in os.environ["WS_STREAMING_ENGINES"].split(",") if e.strip()]
        unknown = set(chosen) - set(harness.ENGINES)
        if unknown:
            raise pytest.UsageError(f"WS_STREAMING_ENGINES names unknown engines: {unknown}")
    return list(chosen or harness.ENGINES)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Browser tests run once per engine; in a module marked ``both_backends``, once more in
    Chromium with the backend its default does not pick there (test id ``chromium-native``
    or ``chromium-classic``)."""
    if "engine" not in metafunc.fixturenames:
        return
    engines = selected_engines(metafunc.config)
    only = metafunc.definition.get_closest_marker("engines")
    if only is not None:
        engines = [e for e in engines if e in only.args]
    if "backend" not in metafunc.fixturenames:  # no page: the browser itself
        metafunc.parametrize("engine", engines, scope="session")
        return
    runs: list[Any] = [pytest.param(engine, PAGE_BACKEND, id=engine) for engine in engines]
    if metafunc.definition.get_closest_marker("both_backends") and "chromium" in engines:
        other = "classic" if (PAGE_BACKEND or DEFAULT_BACKEND) != "classic" else "native"
        runs.append(pytest.param("chromium", other, id=f"chromium-{other}"))
    metafunc.parametrize(("engine", "backend"), runs, scope="session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


# -- servers -------------------------------------------------------------------


@pytest.fixture(scope="session")
def static_server() -> Iterator[StaticServer]:
    """dist/ at /, the tests folder at /tests/, build/third-party/ (test-only wheels) at
    /third-party/."""
    if not (DIST / "pyodide" / "pyodide-lock.json").exists():
        pytest.fail("dist/ is not built: run ./build.sh (or ./build.sh test)")
    extra = {"/tests/": Path(__file__).resolve().parent, "/third-party/": THIRD_PARTY}
    server = StaticServer(DIST, extra)
    yield server
    server.close()


@pytest.fixture(scope="session")
def packages_tarball() -> Path:
    """Our npm tarball, from `./build.sh packages` (built once per session), for the apps
    that install it (tests/test_bundler.py, tests/test_vite.py)."""
    built = subprocess.run(
        [str(ROOT / "build.sh"), "packages"], capture_output=True, text=True, timeout=600
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return ROOT / "build" / "packages" / "websocket-streaming-0.1.0.tgz"


@pytest.fixture(scope="session")
def ws_server() -> Iterator[WebSocketServer]:
    server = WebSocketServer()
    yield server
    server.close()


@pytest.fixture
def ws_url(ws_server: WebSocketServer) -> str:
    """The base URL of the test WebSocket server, e.g. ws://127.0.0.1:PORT."""
    return ws_server.url


@pytest.fixture
def refused_url() -> str:
    """A ws:// URL on 127.0.0.1 where nothing listens (a port just freed), so connecting is refused."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"ws://127.0.0.1:{port}/"


# -- browsers ------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(engine: str) -> Iterator[harness.Browser]:
    """One browser per engine for the whole session; a missing engine fails in CI."""
    try:
        b = harness.launch(engine)
    except harness.BrowserUnavailable as exc:
        if IN_CI:
            pytest.fail(f"{engine} is required in CI (CI=true) but unavailable: {exc}")
        pytest.skip(f"{engine} unavailable: {exc}")
    yield b
    b.close()


class PyodidePage:
    """A page with Pyodide and websocket_streaming loaded; runs Python or JS in it."""

    def __init__(self, page: harness.Page, engine: str) -> None:
        self.page = page
        self.engine = engine

    def js(self, source: str, arg: Any = None, timeout: float = 120.0) -> Any:
        """Evaluate an async JS function expression `(arg) => ...` and return its JSON result."""
        return self.page.evaluate(source, arg, timeout=timeout)

    def run(self, code: str, timeout: float = 120.0) -> Any:
        """Run Python `code` in fresh globals; return `json.loads` of its global `result`."""
        out = self.js(_RUN_PYTHON_JS, textwrap.dedent(code), timeout=timeout)
        return _unwrap(out, self)


_RUN_PYTHON_JS = """
async (code) => {
  const globals = pyodide.globals.get("dict")();
  try {
    await pyodide.runPythonAsync(code, { globals });
    const out = pyodide.runPython(
      "import json; json.dumps(globals().get('result'))", { globals });
    return { ok: true, value: JSON.parse(out) };
  } catch (e) {
    return { ok: false, error: String(e.message || e) };
  } finally {
    globals.destroy();
  }
}
"""


def _unwrap(out: Any, page: PyodidePage) -> Any:
    if not out["ok"]:
        raise PyodideError(f"[{page.engine}] Python in the page failed:\n{out['error']}")
    return out["value"]


class PyodideError(AssertionError):
    """Python code run in the page raised; the message holds its traceback."""


@pytest.fixture(scope="session")
def backend() -> str | None:
    """The page's connect() default (a test id's "-native"/"-classic"), or None: the library's."""
    return PAGE_BACKEND


@pytest.fixture(scope="module")
def py(
    browser: harness.Browser, static_server: StaticServer, backend: str | None
) -> Iterator[PyodidePage]:
    """One page per engine (and backend) and test module, with Pyodide and our package loaded."""
    page = browser.new_page(static_server.url + "/tests/page.html")
    started = time.monotonic()
    page.evaluate("async () => { await window.pyodideReady; return true; }", timeout=120)
    pyodide_page = PyodidePage(page, browser.engine)
    if backend is not None:
        pyodide_page.run(
            f"import websocket_streaming.connection as c\nc.DEFAULT_BACKEND = {backend!r}"
        )
    pyodide_page.load_seconds = time.monotonic() - started  # type: ignore[attr-defined]
    yield pyodide_page
    page.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failing browser test, attach the page's console to the report."""
    report = yield
    if report.failed and "py" in getattr(item, "funcargs", {}):
        try:
            lines = item.funcargs["py"].page.console()
        except Exception as exc:  # the page may be gone; say so rather than hide the failure
            lines = [f"(console unavailable: {exc})"]
        report.sections.append(("browser console", "\n".join(lines[-200:]) or "(empty)"))
    return report


# -- requests ------------------------------------------------------------------


def record_requests(context: Any) -> list[str]:
    """Record the URL of every request made from now on in a browser context.

    Covers pages, their Web Workers (the kernel runs in one; Chromium reports
    worker requests on the context) and WebSockets (reported per page, worker
    ones included). Returns the list, which keeps filling as requests happen.
    """
    urls: list[str] = []

    def watch(page: Any) -> None:
        page.on("websocket", lambda ws: urls.append(ws.url))

    context.on("request", lambda request: urls.append(request.url))
    context.on("page", watch)
    for page in context.pages:
        watch(page)
    return urls


def off_host(urls: list[str], hosts: tuple[str, ...] = ("127.0.0.1",)) -> list[str]:
    """The URLs whose host is not one of ``hosts`` (data: and blob: URLs are local)."""
    return [
        url
        for url in urls
        if not url.startswith(("data:", "blob:")) and urlsplit(url).hostname not in hosts
    ]


def start_recording(page: harness.Page) -> list[str] | None:
    """Record the URL of every request of the page's context; None if the driver cannot."""

    async def record(playwright_page: Any) -> list[str]:
        return record_requests(playwright_page.context)

    try:
        return page.call_playwright(record)
    except NotImplementedError:  # WebKitGTK via Selenium: no network events
        return None


# -- run_in_pyodide ------------------------------------------------------------


def run_in_pyodide(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run the decorated test's body inside Pyodide, in the page of the `py` fixture.

    The test's first parameter must be `py`; it is None inside Pyodide. Its
    other parameters are pytest fixtures, resolved on the host and passed in
    as JSON. The body may be `async def`. A failing `assert` fails the test
    with the Python traceback from the page.
    """
    signature = inspect.signature(func)
    names = list(signature.parameters)
    if not names or names[0] != "py":
        raise TypeError(f"{func.__name__}: the first parameter of a run_in_pyodide test must be py")
    lines = textwrap.dedent(inspect.getsource(func)).splitlines()
    while not lines[0].lstrip().startswith(("def ", "async def ")):
        lines.pop(0)  # drop decorators
    source = "\n".join(lines)
    call = f"{func.__name__}(None, *_args)"
    if inspect.iscoroutinefunction(func):
        call = "await " + call
    code = f"{source}\nimport json as _json\n_args = _json.loads(_ARGS)\nresult = {call}\n"

    @functools.wraps(func)
    def wrapper(py: PyodidePage, **kwargs: Any) -> Any:
        args = [kwargs[name] for name in names[1:]]
        return py.run(f"_ARGS = {json.dumps(json.dumps(args))}\n{code}")

    return wrapper


# -- summary -------------------------------------------------------------------


def _tier(nodeid: str) -> str:
    """The tier of a test from its id: the engine (and backend) its parameters start with."""
    params = nodeid.partition("[")[2].rstrip("]")
    keys = [f"{e}-{b}" for e in harness.ENGINES for b in ("native", "classic")]
    for key in [*keys, *harness.ENGINES]:  # the longer keys first
        if params == key or params.startswith(key + "-"):
            return f"browser: {key}"
    return "CPython (no browser)"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Count what ran: tests on CPython, and browser tests per engine."""
    counts: Counter[tuple[str, str]] = Counter()
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            if outcome == "passed" and report.when != "call":
                continue
            counts[(_tier(report.nodeid), outcome)] += 1
    if not counts:
        return
    terminalreporter.section("tests by tier")
    for tier in sorted({t for t, _ in counts}):
        parts = [
            f"{counts[(tier, o)]} {o}"
            for o in ("passed", "failed", "error", "skipped")
            if counts[(tier, o)]
        ]
        terminalreporter.write_line(f"{tier}: {', '.join(parts)}")
