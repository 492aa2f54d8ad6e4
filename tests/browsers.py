"""Engine-neutral browser launcher for the test suite: Chromium, Firefox and WebKit.

One small API over three quite different drivers::

    browser = launch("webkit")            # or "chromium", "firefox"
    try:
        page = browser.new_page("http://127.0.0.1:8000/")
        result = page.evaluate("async (arg) => ({sum: arg.a + arg.b})", {"a": 1, "b": 2})
        print(page.console())             # ["log: ...", "pageerror: Error: ...", ...]
    finally:
        browser.close()

How each engine is found, in order:

chromium
    1. Playwright's own Chromium, if installed (``python -m playwright install chromium``).
    2. A system Chromium (``$WS_STREAMING_CHROMIUM``, else ``chromium`` / ``chromium-browser`` on
       PATH, e.g. Debian's ``/usr/bin/chromium``) driven by Playwright over CDP.
firefox
    1. Playwright's own Firefox, if installed (``python -m playwright install firefox``).
    2. A system Firefox (``$WS_STREAMING_FIREFOX``, else ``firefox-esr`` / ``firefox`` on PATH)
       driven by Playwright's WebDriver-BiDi client (``channel="moz-firefox"``) through
       ``tests/firefox_bidi_relay.py``, which stubs the BiDi commands Firefox ESR lacks.
webkit
    1. Playwright's own WebKit, if installed (``python -m playwright install webkit``).
    2. WebKitGTK: Selenium's ``webdriver.WebKitGTK`` with ``WebKitWebDriver``
       (``$WS_STREAMING_WEBKIT_DRIVER``, else on PATH) and ``MiniBrowser``
       (``$WS_STREAMING_WEBKIT_BROWSER``, else the usual library directories), under the
       current ``$DISPLAY`` or, without one, under an ``Xvfb`` started (and stopped) here.

Setting one of the ``WS_STREAMING_*`` variables above forces the system path for that engine
(Playwright's own build is then not used); a value that is not an executable file makes
:func:`launch` raise :class:`BrowserUnavailable`.

Every step that can hang is bounded and raises :class:`BrowserTimeout` naming the engine and the
step.  All objects are thread-safe: Playwright runs on a private event-loop thread and WebDriver
commands on a private worker thread, so a Browser or Page may be used from any thread, and also
from code that runs inside an asyncio event loop (the calls block, though).  Calls on one
Browser are serialised.  Browsers not closed are closed at interpreter exit; WebKitGTK's
processes also die with the test process if it is killed (a small watchdog process sees to it).

Differences that remain between engines:

* Playwright engines give each page its own browser context; WebKitGTK pages are windows of one
  WebDriver session, sharing cookies and storage.
* A page that cannot be loaded (connection refused, blocked port) makes ``goto`` raise in the
  Playwright engines; WebKitGTK shows an error page and ``goto`` returns normally.
* Console lines: strings are reproduced exactly everywhere; objects are formatted by the engine
  (``{a: 2}``) in Playwright engines and as JSON (``{"a":2}``) by the WebKitGTK shim, which only
  sees what happens after it is injected (after each ``goto`` and before each ``evaluate``)
  unless the page includes :data:`CONSOLE_SHIM_JS` itself.
* Chromium also reports resource load failures (``error: Failed to load resource: ...``).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import glob
import importlib.util
import json
import os
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

__all__ = [
    "CONSOLE_SHIM_JS",
    "ENGINES",
    "Browser",
    "BrowserTimeout",
    "BrowserUnavailable",
    "Page",
    "PageError",
    "launch",
]

ENGINES = ("chromium", "firefox", "webkit")

#: Flags for a system Chromium: no sandbox (tests often run as root in containers) and no
#: background traffic to Google services.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)

#: Firefox preferences (on top of Playwright's) that stop background traffic Playwright's
#: profile leaves on: remote settings, studies, captive portal, region lookups, prefetching.
FIREFOX_PREFS: dict[str, str | bool] = {
    "services.settings.server": "data:,#remote-settings-dummy/v1",
    "app.shield.optoutstudies.enabled": False,
    "network.captive-portal-service.enabled": False,
    "browser.region.network.url": "",
    "browser.region.update.enabled": False,
    "toolkit.telemetry.server": "",
    "browser.safebrowsing.provider.mozilla.updateURL": "",
    "extensions.blocklist.enabled": False,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
}

RELAY_SCRIPT = Path(__file__).resolve().with_name("firefox_bidi_relay.py")

MINIBROWSER_CANDIDATES = (
    "/usr/lib/*/webkit2gtk-4.1/MiniBrowser",  # Debian, Ubuntu
    "/usr/lib/*/webkitgtk-6.0/MiniBrowser",
    "/usr/lib/*/webkit2gtk-4.0/MiniBrowser",
    "/usr/libexec/webkit2gtk-4.1/MiniBrowser",  # Fedora
    "/usr/libexec/webkitgtk-6.0/MiniBrowser",
    "/usr/libexec/webkit2gtk-4.0/MiniBrowser",
)

#: Extra seconds an outer guard waits beyond a step's own timeout, so that the driver's own
#: (more specific) timeout error normally wins.
_GRACE = 5.0
#: Bound for housekeeping calls that have no timeout parameter (console(), close()).
_HOUSEKEEPING_TIMEOUT = 15.0

# ---------------------------------------------------------------------------------------------
# Errors


class BrowserUnavailable(Exception):
    """The engine cannot be launched here: a browser, driver or X server is missing.

    The message names the engine, what is missing and how to install it.
    """


class PageError(Exception):
    """JavaScript threw (or rejected) during :meth:`Page.evaluate`.

    ``message`` is ``String(error)`` in the page (e.g. ``"TypeError: x is undefined"``) and
    ``stack`` is ``error.stack`` (which in JavaScriptCore lacks the message, hence both).
    """

    def __init__(self, engine: str, message: str, stack: str = "") -> None:
        self.engine = engine
        self.message = message
        self.stack = stack
        text = f"{engine}: {message}"
        if stack and stack.strip() != message.strip():
            text += "\n" + stack
        super().__init__(text)


class BrowserTimeout(TimeoutError):
    """A step did not finish in time; the message names engine and step ("webkit: new session")."""


# ---------------------------------------------------------------------------------------------
# JavaScript

#: Console capture for engines without a console API (WebKit via WebDriver).  Idempotent: a
#: second run does nothing.  Stores ``"level: text"`` strings in ``window.__wsConsole`` for
#: console.log/info/warn/error/debug (levels named as Playwright does: log, info, warning, error,
#: debug) and ``"pageerror: String(error)"`` for uncaught errors and unhandled rejections.
#: Pages we serve may include it early (``<script>`` + this text) to catch messages logged
#: before the driver could inject it.
CONSOLE_SHIM_JS = r"""(() => {
  if (window.__wsConsoleInstalled) return;
  window.__wsConsoleInstalled = true;
  if (!Array.isArray(window.__wsConsole)) window.__wsConsole = [];
  const push = (line) => { try { window.__wsConsole.push(line); } catch (_) {} };
  const fmt = (value) => {
    if (typeof value === "string") return value;
    try {
      if (value instanceof Error) return String(value);
      const json = JSON.stringify(value);
      return json === undefined ? String(value) : json;
    } catch (_) {
      try { return String(value); } catch (_) { return Object.prototype.toString.call(value); }
    }
  };
  const levels = { log: "log", info: "info", warn: "warning", error: "error", debug: "debug" };
  for (const name of Object.keys(levels)) {
    const original = console[name];
    console[name] = function (...args) {
      push(levels[name] + ": " + args.map(fmt).join(" "));
      return original.apply(this, args);
    };
  }
  window.addEventListener("error", (event) => {
    const error = event.error;
    const text = error !== undefined && error !== null ? fmt(error) : String(event.message);
    push("pageerror: " + text);
  });
  window.addEventListener("unhandledrejection", (event) => {
    push("pageerror: " + fmt(event.reason));
  });
})();"""

_DRAIN_CONSOLE_JS = (
    "return JSON.stringify(Array.isArray(window.__wsConsole) ? window.__wsConsole.splice(0) : []);"
)


_COMPILE_CHECK_JS = (
    "try { new Function('return (' + arguments[0] + '\\n);'); return null; }"
    " catch (e) { return String(e); }"
)


def _wrap_source(source: str) -> str:
    """An async function of a JSON string that runs ``source`` and returns a JSON envelope.

    The envelope is ``{"ok": true, "value": ...}`` or ``{"ok": false, "message": String(e),
    "stack": e.stack}``; stringifying in the page gives every engine the same result types.
    """
    return (
        "async (__wsArgJson) => {\n"
        "  try {\n"
        f"    const __wsValue = await ({source}\n)(JSON.parse(__wsArgJson));\n"
        "    const value = __wsValue === undefined ? null : __wsValue;\n"
        "    return JSON.stringify({ ok: true, value });\n"
        "  } catch (e) {\n"
        "    let message = '', stack = '';\n"
        "    try { message = String(e); }\n"
        "    catch (_) { message = Object.prototype.toString.call(e); }\n"
        "    try { stack = e && e.stack ? String(e.stack) : ''; } catch (_) {}\n"
        "    return JSON.stringify({ ok: false, message, stack });\n"
        "  }\n"
        "}"
    )


def _unwrap(engine: str, envelope: Any) -> Any:
    if not isinstance(envelope, str):
        raise PageError(engine, f"evaluate returned {type(envelope).__name__}, not a JSON string")
    data = json.loads(envelope)
    if data.get("ok"):
        return data.get("value")
    raise PageError(engine, str(data.get("message", "")), str(data.get("stack", "")))


# ---------------------------------------------------------------------------------------------
# Public classes


class Page:
    """One page (tab/window) of a :class:`Browser`."""

    engine: str

    def goto(self, url: str, *, timeout: float = 60.0) -> None:
        """Navigate to ``url`` and wait for its load event."""
        raise NotImplementedError

    def evaluate(self, source: str, arg: object = None, *, timeout: float = 60.0) -> Any:
        """Call the JS (async) function expression ``source`` with ``arg``; return its result.

        ``arg`` must be JSON-serialisable; the function's awaited result must be too (it is
        ``JSON.stringify``-ed in the page and ``json.loads``-ed here, so a ``Uint8Array`` comes
        back as ``{"0": .., "1": ..}``: return ``Array.from(bytes)`` or base64 instead;
        ``undefined`` becomes ``None``).  A JS exception or rejection raises :class:`PageError`;
        no result within ``timeout`` seconds raises :class:`BrowserTimeout`.
        """
        raise NotImplementedError

    def console(self) -> list[str]:
        """Console messages and uncaught errors of this page so far, oldest first.

        Lines are ``"<level>: <text>"`` (levels ``log``, ``info``, ``warning``, ``error``,
        ``debug``, ...) and ``"pageerror: <String(error)>"`` for uncaught exceptions and
        unhandled promise rejections.  Messages from every page loaded in this Page are kept.
        """
        raise NotImplementedError

    def screenshot(self, path: str) -> None:
        """Save a PNG screenshot of the viewport to ``path``."""
        raise NotImplementedError

    def call_playwright[T](self, fn: Callable[[Any], Awaitable[T]], *, timeout: float = 60.0) -> T:
        """Return ``await fn(page)`` for the underlying Playwright (async API) page.

        ``fn`` runs on the driver's event loop. Pages not driven by Playwright (WebKitGTK via
        Selenium) raise NotImplementedError.
        """
        raise NotImplementedError(f"{self.engine}: this page is not driven by Playwright")

    def close(self) -> None:
        """Close the page (idempotent)."""
        raise NotImplementedError

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Browser:
    """A running browser of one engine; :func:`launch` makes one."""

    engine: str
    #: What is running, e.g. "chromium 156.0.8078.108 (system /usr/bin/chromium via Playwright)".
    description: str

    def new_page(self, url: str, *, timeout: float = 60.0) -> Page:
        """Open a new page and navigate it to ``url`` (see :meth:`Page.goto`)."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the browser and end every process it started (idempotent)."""
        raise NotImplementedError

    _closed = False
    _close_lock: threading.Lock

    def _begin_close(self) -> bool:
        """True for the first close() call only; later calls have nothing to do."""
        with self._close_lock:
            if self._closed:
                return False
            self._closed = True
        _track(self, False)
        return True

    def _navigate_new(self, page: Page, url: str, deadline: float) -> Page:
        """Navigate a just-opened page, closing it if navigation fails."""
        try:
            page.goto(url, timeout=_remaining(deadline, self.engine, f"goto {url}"))
        except BaseException:
            page.close()
            raise
        return page

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"


#: Browsers not closed yet; closed at interpreter exit in case a caller forgot.
_live_browsers: set[Browser] = set()
_live_lock = threading.Lock()


def _track(browser: Browser, live: bool) -> None:
    with _live_lock:
        if live:
            _live_browsers.add(browser)
        else:
            _live_browsers.discard(browser)


@atexit.register
def _close_live_browsers() -> None:
    with _live_lock:
        browsers = list(_live_browsers)
    for browser in browsers:
        with contextlib.suppress(Exception):
            browser.close()


def launch(engine: str, *, timeout: float = 60.0) -> Browser:
    """Start a browser of ``engine`` (one of :data:`ENGINES`), within ``timeout`` seconds.

    Raises :class:`BrowserUnavailable` when the engine is not installed here and
    :class:`BrowserTimeout` when it does not start in time.  Close it with
    :meth:`Browser.close` (or use it as a context manager).
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    deadline = time.monotonic() + timeout
    own_failure: BrowserUnavailable | None = None
    if _system_override(engine) is None and _playwright_own_executable(engine, timeout):
        try:
            return _PlaywrightBrowser.start(engine, deadline, system=None)
        except BrowserUnavailable as exc:  # e.g. headless shell missing: try the system one
            own_failure = exc
    try:
        if engine == "chromium":
            return _PlaywrightBrowser.start(engine, deadline, system=_find_system_chromium())
        if engine == "firefox":
            return _PlaywrightBrowser.start(engine, deadline, system=_find_system_firefox())
        return _WebKitGTKBrowser.start(deadline)
    except BrowserUnavailable as exc:
        if own_failure is None:
            raise
        raise BrowserUnavailable(f"{exc}\nAlso: {own_failure}") from exc


# ---------------------------------------------------------------------------------------------
# Discovery

_ENV_OVERRIDES = {
    "chromium": ("WS_STREAMING_CHROMIUM",),
    "firefox": ("WS_STREAMING_FIREFOX",),
    "webkit": ("WS_STREAMING_WEBKIT_DRIVER", "WS_STREAMING_WEBKIT_BROWSER"),
}

_own_executables: dict[str, str | None] = {}
_own_lock = threading.Lock()


def _system_override(engine: str) -> str | None:
    """The first WS_STREAMING_* variable set for ``engine`` (forces the system path), if any."""
    for name in _ENV_OVERRIDES[engine]:
        if os.environ.get(name):
            return name
    return None


def _executable(path: str | None) -> str | None:
    if path and os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    return None


def _from_env_or_path(engine: str, env: str, names: tuple[str, ...], what: str, how: str) -> str:
    """The executable named by ``$env``, else the first of ``names`` on PATH."""
    value = os.environ.get(env)
    if value:
        found = _executable(value)
        if found is None:
            raise BrowserUnavailable(
                f"{engine}: ${env}={value} is not an executable file (it should be {what}). {how}"
            )
        return found
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserUnavailable(
        f"{engine}: Playwright's own {engine} build is not installed and {what} was not found "
        f"(looked for {', '.join(names)} on PATH; ${env} is unset). {how}"
    )


def _find_system_chromium() -> str:
    return _from_env_or_path(
        "chromium",
        "WS_STREAMING_CHROMIUM",
        ("chromium", "chromium-browser"),
        "a system Chromium",
        "Install one: `python -m playwright install chromium`, or Debian/Ubuntu "
        "`apt-get install chromium`.",
    )


def _find_system_firefox() -> str:
    how = (
        "Install one: `python -m playwright install firefox`, or Debian "
        "`apt-get install firefox-esr`."
    )
    path = _from_env_or_path(
        "firefox",
        "WS_STREAMING_FIREFOX",
        ("firefox-esr", "firefox"),
        "a system Firefox",
        how,
    )
    if importlib.util.find_spec("websockets") is None:
        raise BrowserUnavailable(
            "firefox: the system-Firefox path needs the `websockets` package for "
            f"{RELAY_SCRIPT.name} (`pip install websockets`), or {how}"
        )
    if not RELAY_SCRIPT.is_file():
        raise BrowserUnavailable(f"firefox: {RELAY_SCRIPT} is missing")
    return path


def _find_webkitgtk() -> tuple[str, str]:
    how = (
        "Install Playwright's WebKit (`python -m playwright install webkit`) or WebKitGTK's "
        "driver and MiniBrowser (Debian/Ubuntu: `apt-get install webkit2gtk-driver xvfb`; "
        "MiniBrowser comes with libwebkit2gtk-4.1-0)."
    )
    driver = _from_env_or_path(
        "webkit",
        "WS_STREAMING_WEBKIT_DRIVER",
        ("WebKitWebDriver",),
        "WebKitGTK's WebKitWebDriver",
        how,
    )
    value = os.environ.get("WS_STREAMING_WEBKIT_BROWSER")
    if value:
        browser = _executable(value)
        if browser is None:
            raise BrowserUnavailable(
                f"webkit: MiniBrowser not found: $WS_STREAMING_WEBKIT_BROWSER={value} is not "
                f"an executable file. {how}"
            )
        return driver, browser
    for pattern in MINIBROWSER_CANDIDATES:
        for candidate in sorted(glob.glob(pattern)):
            if _executable(candidate):
                return driver, candidate
    raise BrowserUnavailable(
        f"webkit: WebKitWebDriver found ({driver}) but no MiniBrowser "
        f"(looked at {', '.join(MINIBROWSER_CANDIDATES)} and $WS_STREAMING_WEBKIT_BROWSER). {how}"
    )


def _require_package(engine: str, package: str) -> None:
    if importlib.util.find_spec(package) is None:
        raise BrowserUnavailable(
            f"{engine}: the Python package `{package}` is not installed (`pip install {package}`)"
        )


def _playwright_own_executable(engine: str, timeout: float) -> str | None:
    """Path of Playwright's own build of ``engine`` if it is installed, else None (cached)."""
    with _own_lock:
        if engine not in _own_executables:
            if importlib.util.find_spec("playwright") is None:
                _own_executables.update(dict.fromkeys(ENGINES))
            else:
                loop = _LoopThread(f"playwright-probe-{engine}")
                try:

                    async def probe() -> dict[str, str | None]:
                        from playwright.async_api import async_playwright

                        pw = await async_playwright().start()
                        try:
                            paths = {}
                            for name in ENGINES:
                                try:
                                    path = getattr(pw, name).executable_path
                                except Exception:  # unknown means not installed
                                    path = None
                                paths[name] = path if path and os.path.exists(path) else None
                            return paths
                        finally:
                            await pw.stop()

                    _own_executables.update(
                        loop.run(probe(), timeout, engine, "start Playwright driver")
                    )
                finally:
                    loop.stop()
        return _own_executables[engine]


# ---------------------------------------------------------------------------------------------
# Process helpers (Linux /proc; elsewhere they do nothing)


def _proc_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (ppid, state, start time) for every process."""
    table: dict[int, tuple[int, str, str]] = {}
    if not os.path.isdir("/proc"):
        return table
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 19:
            table[int(entry)] = (int(fields[1]), fields[0], fields[19])
    return table


def _descendants(root: int) -> dict[int, str]:
    """pid -> start time of every live descendant of ``root`` (and ``root`` itself)."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: dict[int, str] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in table and pid not in found:
            found[pid] = table[pid][2]
            todo.extend(children.get(pid, []))
    return found


def _kill_leftovers(snapshot: dict[int, str]) -> None:
    """SIGKILL every process of ``snapshot`` that still runs (same pid and start time)."""
    table = _proc_table()
    for pid, start in snapshot.items():
        entry = table.get(pid)
        if entry is not None and entry[2] == start and entry[1] not in ("Z", "X"):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _stop_process_group(proc: subprocess.Popen[Any] | None, grace: float = 3.0) -> None:
    """SIGTERM the process group led by ``proc`` (start_new_session=True), then SIGKILL; reap."""
    if proc is None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # Members of the group that outlive the leader: no grace.
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)


_WATCHDOG_PY = """
import os, shutil, signal, sys, time
groups, dirs = [], []
for line in sys.stdin:
    command, _, arg = line.rstrip("\\n").partition(" ")
    if command == "group":
        groups.append(int(arg))
    elif command == "dir":
        dirs.append(arg)
    elif command == "clear":
        groups.clear()
        dirs.clear()
for sig in (signal.SIGTERM, signal.SIGKILL):
    for group in groups:
        try:
            os.killpg(group, sig)
        except OSError:
            pass
    if groups and sig == signal.SIGTERM:
        time.sleep(1)
for path in dirs:
    shutil.rmtree(path, ignore_errors=True)
"""


class _Watchdog:
    """A helper process that ends registered process groups and directories when we die.

    Playwright's driver already takes its browsers down when we die (its stdin closes).
    Selenium's WebKitWebDriver and our Xvfb have nobody to do that: if the test process is
    SIGKILLed (or pytest-timeout calls os._exit), the watchdog's stdin closes and it kills them.
    """

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG_PY],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            start_new_session=True,  # not in any group it may have to kill
        )

    def _send(self, line: str) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()

    def add_group(self, pgid: int) -> None:
        self._send(f"group {pgid}")

    def add_dir(self, path: str) -> None:
        self._send(f"dir {path}")

    def stop(self) -> None:
        """Forget the groups (we ended them ourselves) and let the watchdog exit."""
        self._send("clear")
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ---------------------------------------------------------------------------------------------
# Threads that own driver objects


class _LoopThread:
    """An asyncio event loop on a daemon thread; Playwright's async API lives on it."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run[T](self, coro: Coroutine[Any, Any, T], timeout: float, engine: str, step: str) -> T:
        """Run ``coro`` on the loop; wait at most ``timeout`` s (then cancel it, raise)."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return _wait(future, timeout, engine, step)

    def stop(self) -> None:
        if self.loop.is_closed():
            return

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=2)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()


class _Worker:
    """A daemon thread running blocking calls one at a time (WebDriver commands)."""

    def __init__(self, name: str) -> None:
        self._queue: list[tuple[Callable[[], Any], concurrent.futures.Future[Any]]] = []
        self._cond = threading.Condition()
        self._stopped = False
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.thread.start()

    def _main(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopped:
                    self._cond.wait()
                if not self._queue:
                    return
                fn, future = self._queue.pop(0)
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:  # handed to the waiting caller
                future.set_exception(exc)

    def submit[T](self, fn: Callable[[], T]) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._cond:
            if self._stopped:
                raise RuntimeError("browser is closed")
            self._queue.append((fn, future))
            self._cond.notify()
        return future

    def run[T](self, fn: Callable[[], T], timeout: float, engine: str, step: str) -> T:
        return _wait(self.submit(fn), timeout, engine, step)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            for _, future in self._queue:
                future.cancel()
            self._queue.clear()
            self._cond.notify()


def _wait[T](future: concurrent.futures.Future[T], timeout: float, engine: str, step: str) -> T:
    try:
        return future.result(timeout)
    except TimeoutError as exc:  # concurrent.futures.TimeoutError is TimeoutError (3.11+)
        future.cancel()
        if isinstance(exc, BrowserTimeout):
            raise
        raise BrowserTimeout(f"{engine}: {step} did not finish within {timeout:.1f} s") from None


def _remaining(deadline: float, engine: str, step: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise BrowserTimeout(f"{engine}: {step}: no time left (the timeout went on earlier steps)")
    return left


# ---------------------------------------------------------------------------------------------
# Playwright engines


class _PlaywrightBrowser(Browser):
    """Chromium/Firefox/WebKit driven by Playwright's async API on a private loop thread."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        self.description = f"{engine} (starting)"
        self._loop = _LoopThread(f"playwright-{engine}")
        self._pw: Any = None
        self._browser: Any = None
        self._driver_pid: int | None = None
        self._tmpdir: str | None = None
        self._closed = False
        self._close_lock = threading.Lock()

    @classmethod
    def start(cls, engine: str, deadline: float, system: str | None) -> _PlaywrightBrowser:
        """Launch Playwright's own build (``system`` None) or the system executable ``system``."""
        _require_package(engine, "playwright")
        self = cls(engine)
        _track(self, True)
        try:
            self._launch(deadline, system)
        except BaseException:
            self.close()
            raise
        return self

    def _launch(self, deadline: float, system: str | None) -> None:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import TimeoutError as PlaywrightTimeout
        from playwright.async_api import async_playwright

        step = "start Playwright driver"

        manager = async_playwright()

        async def start_driver() -> Any:
            return await manager.start()

        self._pw = self._loop.run(
            start_driver(), _remaining(deadline, self.engine, step), self.engine, step
        )
        self._driver_pid = _driver_pid(manager)
        browser_type = getattr(self._pw, self.engine)
        options: dict[str, Any] = {}
        if self.engine == "chromium":
            options["args"] = list(CHROMIUM_ARGS)
        if self.engine == "firefox":
            options["firefox_user_prefs"] = dict(FIREFOX_PREFS)
        if system is None:
            how = "Playwright's own build"
        elif self.engine == "chromium":
            options["executable_path"] = system
            how = f"system {system} via Playwright"
        elif self.engine == "firefox":
            self._tmpdir = tempfile.mkdtemp(prefix="ws-streaming-firefox-")
            options["channel"] = "moz-firefox"
            options["executable_path"] = _write_relay_wrapper(self._tmpdir, system)
            how = f"system {system} via Playwright WebDriver-BiDi and {RELAY_SCRIPT.name}"
        else:  # pragma: no cover - WebKit's system path is Selenium
            raise AssertionError(self.engine)

        step = "launch browser"
        left = _remaining(deadline, self.engine, step)

        async def launch_browser() -> Any:
            try:
                return await browser_type.launch(timeout=left * 1000, **options)
            except PlaywrightTimeout as exc:
                raise BrowserTimeout(f"{self.engine}: {step}: {exc.message}") from None
            except PlaywrightError as exc:
                if system is None and "Executable doesn't exist" in exc.message:
                    # Part of Playwright's build is missing (e.g. chromium's headless shell).
                    raise BrowserUnavailable(
                        f"{self.engine}: Playwright's own build is incomplete: "
                        f"{exc.message.splitlines()[0]} "
                        f"(`python -m playwright install {self.engine}`)"
                    ) from None
                raise

        self._browser = self._loop.run(launch_browser(), left + _GRACE, self.engine, step)
        self.description = f"{self.engine} {self._browser.version} ({how})"

    def new_page(self, url: str, *, timeout: float = 60.0) -> Page:
        if self._closed:
            raise RuntimeError(f"{self.engine}: browser is closed")
        deadline = time.monotonic() + timeout
        page = _PlaywrightPage(self)
        step = "new page"

        async def open_page() -> None:
            page._page = await self._browser.new_page()
            page._page.on("console", page._on_console)
            page._page.on("pageerror", page._on_pageerror)

        self._loop.run(open_page(), timeout, self.engine, step)
        return self._navigate_new(page, url, deadline)

    def close(self) -> None:
        if not self._begin_close():
            return
        snapshot = _descendants(self._driver_pid) if self._driver_pid else {}
        if self._browser is not None:
            with contextlib.suppress(Exception):
                self._loop.run(self._browser.close(), _HOUSEKEEPING_TIMEOUT, self.engine, "close")
        if self._pw is not None:
            with contextlib.suppress(Exception):
                self._loop.run(self._pw.stop(), _HOUSEKEEPING_TIMEOUT, self.engine, "stop driver")
        self._loop.stop()
        # Whatever Playwright did not end (a hung browser, a stuck relay) goes now.
        _kill_leftovers(snapshot)
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)


class _PlaywrightPage(Page):
    def __init__(self, browser: _PlaywrightBrowser) -> None:
        self.engine = browser.engine
        self._browser = browser
        self._page: Any = None
        self._console: list[str] = []
        self._lock = threading.Lock()
        self._closed = False

    def _on_console(self, message: Any) -> None:
        with self._lock:
            self._console.append(f"{message.type}: {message.text}")

    def _on_pageerror(self, error: Any) -> None:
        name = getattr(error, "name", "") or ""
        text = getattr(error, "message", None) or str(error)
        with self._lock:
            self._console.append(f"pageerror: {name}: {text}" if name else f"pageerror: {text}")

    def _run[T](self, coro: Coroutine[Any, Any, T], timeout: float, step: str) -> T:
        if self._closed:
            coro.close()
            raise RuntimeError(f"{self.engine}: page is closed")
        return self._browser._loop.run(coro, timeout, self.engine, step)

    def goto(self, url: str, *, timeout: float = 60.0) -> None:
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        step = f"goto {url}"

        async def go() -> None:
            try:
                await self._page.goto(url, timeout=timeout * 1000)
            except PlaywrightTimeout as exc:
                raise BrowserTimeout(f"{self.engine}: {step}: {exc.message}") from None

        self._run(go(), timeout + _GRACE, step)

    def evaluate(self, source: str, arg: object = None, *, timeout: float = 60.0) -> Any:
        from playwright.async_api import Error as PlaywrightError

        arg_json = json.dumps(arg)
        wrapped = _wrap_source(source)

        async def run() -> Any:
            try:
                return await self._page.evaluate(wrapped, arg_json)
            except PlaywrightError as exc:
                # A source that does not compile fails before our try/catch in the page.
                text = (exc.message or str(exc)).removeprefix("Page.evaluate: ")
                if text.startswith("SyntaxError"):
                    raise PageError(self.engine, text.splitlines()[0], text) from None
                raise

        return _unwrap(self.engine, self._run(run(), timeout, "evaluate"))

    def console(self) -> list[str]:
        # A no-op round trip first: events the browser sent before it are then delivered.
        if not self._closed:
            with contextlib.suppress(Exception):
                self._run(self._page.evaluate("0"), 5.0, "console")
        with self._lock:
            return list(self._console)

    def call_playwright[T](self, fn: Callable[[Any], Awaitable[T]], *, timeout: float = 60.0) -> T:
        async def call() -> T:
            return await fn(self._page)

        return self._run(call(), timeout, "call_playwright")

    def screenshot(self, path: str) -> None:
        self._run(
            self._page.screenshot(path=path, timeout=_HOUSEKEEPING_TIMEOUT * 1000),
            _HOUSEKEEPING_TIMEOUT + _GRACE,
            "screenshot",
        )

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._page is not None and not self._browser._closed:
            with contextlib.suppress(Exception):
                self._browser._loop.run(
                    self._page.close(), _HOUSEKEEPING_TIMEOUT, self.engine, "close page"
                )


def _driver_pid(manager: Any) -> int | None:
    """The pid of Playwright's Node.js driver (private attributes; None if they moved)."""
    with contextlib.suppress(Exception):
        return int(manager._client._transport._proc.pid)
    return None


def _write_relay_wrapper(directory: str, firefox: str) -> str:
    """Write the executable Playwright starts as 'Firefox': runs the relay with this Python."""
    path = os.path.join(directory, "firefox")
    command = " ".join(shlex.quote(part) for part in (sys.executable, str(RELAY_SCRIPT), firefox))
    with open(path, "w", encoding="utf-8") as f:
        f.write(f'#!/bin/sh\nexec {command} "$@"\n')
    os.chmod(path, 0o755)
    return path


# ---------------------------------------------------------------------------------------------
# WebKitGTK through Selenium


class _WebKitGTKBrowser(Browser):
    """MiniBrowser driven by WebKitWebDriver through Selenium, under $DISPLAY or our Xvfb."""

    engine = "webkit"

    def __init__(self) -> None:
        self.description = "webkit (starting)"
        self._worker = _Worker("webkit-webdriver")
        self._tmpdir = tempfile.mkdtemp(prefix="ws-streaming-webkit-")
        self._xvfb: subprocess.Popen[bytes] | None = None
        self._service: Any = None
        self._driver: Any = None
        self._current: str | None = None  # window handle WebDriver commands go to
        self._idle: list[str] = []  # open windows no Page uses
        self._timeouts: dict[str, float] = {}
        self._closed = False
        self._close_lock = threading.Lock()
        self._watchdog = _Watchdog()
        self._watchdog.add_dir(self._tmpdir)

    @classmethod
    def start(cls, deadline: float) -> _WebKitGTKBrowser:
        _require_package("webkit", "selenium")
        driver_path, browser_path = _find_webkitgtk()
        display = os.environ.get("DISPLAY")
        xvfb = None if display else shutil.which("Xvfb")
        if not display and xvfb is None:
            raise BrowserUnavailable(
                "webkit: MiniBrowser needs an X display: $DISPLAY is unset and Xvfb is not "
                "installed (Debian/Ubuntu: `apt-get install xvfb`)."
            )
        self = cls()
        _track(self, True)
        try:
            self._launch(deadline, driver_path, browser_path, display, xvfb)
        except BaseException:
            self.close()
            raise
        return self

    def _launch(
        self,
        deadline: float,
        driver_path: str,
        browser_path: str,
        display: str | None,
        xvfb: str | None,
    ) -> None:
        from selenium import webdriver
        from selenium.webdriver.webkitgtk.options import Options
        from selenium.webdriver.webkitgtk.service import Service

        where = f"DISPLAY={display}"
        if display is None:
            assert xvfb is not None
            display = self._start_xvfb(xvfb, _remaining(deadline, "webkit", "start Xvfb"))
            where = f"Xvfb {display}"
        options = Options()
        options.binary_location = browser_path
        options.add_argument("--automation")
        env = dict(os.environ, DISPLAY=display)
        # An explicit driver path keeps Selenium Manager (which downloads drivers) out of it.
        self._service = Service(
            executable_path=driver_path,
            env=env,
            log_output=os.path.join(self._tmpdir, "WebKitWebDriver.log"),
            popen_kw={"start_new_session": True},
        )
        service = self._service

        def new_session() -> Any:
            return webdriver.WebKitGTK(options=options, service=service)

        step = "new session"
        left = _remaining(deadline, "webkit", step)
        future = self._worker.submit(new_session)
        # Hand WebKitWebDriver's process group to the watchdog as soon as it exists.
        end = time.monotonic() + left
        while not future.done() and _service_pid(service) is None and time.monotonic() < end:
            concurrent.futures.wait([future], timeout=0.02)
        pid = _service_pid(service)
        if pid is not None:
            self._watchdog.add_group(pid)
        try:
            self._driver = _wait(future, max(end - time.monotonic(), 0.0), "webkit", step)
        except BrowserTimeout as exc:
            raise BrowserTimeout(
                f"{exc} (MiniBrowser never answered; is the X display {display} usable?)"
            ) from None
        self._current = self._driver.current_window_handle
        self._idle.append(self._current)
        version = self._driver.capabilities.get("browserVersion", "?")
        self.description = (
            f"webkit {version} (system {browser_path} via Selenium {driver_path}, {where})"
        )

    def _start_xvfb(self, xvfb: str, timeout: float) -> str:
        """Start Xvfb on a free display (it picks one and reports it); return ':N'."""
        read_fd, write_fd = os.pipe()
        log = open(os.path.join(self._tmpdir, "Xvfb.log"), "wb")
        try:
            self._xvfb = subprocess.Popen(
                [
                    xvfb,
                    "-displayfd",
                    str(write_fd),
                    "-screen",
                    "0",
                    "1280x1024x24",
                    "-nolisten",
                    "tcp",
                    "-noreset",
                ],
                pass_fds=(write_fd,),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        finally:
            os.close(write_fd)
            log.close()
        self._watchdog.add_group(self._xvfb.pid)
        try:
            data = b""
            end = time.monotonic() + timeout
            while not data.endswith(b"\n"):
                left = end - time.monotonic()
                ready, _, _ = select.select([read_fd], [], [], max(left, 0))
                if not ready:
                    raise BrowserTimeout(
                        f"webkit: start Xvfb did not finish within {timeout:.1f} s"
                    )
                chunk = os.read(read_fd, 64)
                if not chunk:
                    tail = Path(self._tmpdir, "Xvfb.log").read_text(errors="replace")[-2000:]
                    raise BrowserUnavailable(f"webkit: Xvfb exited before it was ready:\n{tail}")
                data += chunk
        finally:
            os.close(read_fd)
        return ":" + data.decode().strip()

    # -- WebDriver helpers used by pages --------------------------------------------------

    def _call[T](self, fn: Callable[[], T], timeout: float, step: str) -> T:
        if self._closed:
            raise RuntimeError("webkit: browser is closed")
        return self._worker.run(fn, timeout, "webkit", step)

    def _set_timeout(self, kind: str, seconds: float) -> None:
        """Set a WebDriver session timeout ("script" or "pageLoad"); worker thread only."""
        if self._timeouts.get(kind) != seconds:
            if kind == "script":
                self._driver.set_script_timeout(seconds)
            else:
                self._driver.set_page_load_timeout(seconds)
            self._timeouts[kind] = seconds

    def _switch(self, handle: str) -> None:
        """Direct WebDriver commands to window ``handle``; worker thread only."""
        if self._current != handle:
            self._driver.switch_to.window(handle)
            self._current = handle

    def new_page(self, url: str, *, timeout: float = 60.0) -> Page:
        deadline = time.monotonic() + timeout

        def open_window() -> str:
            if self._idle:
                return self._idle.pop()
            # A separate window, not a tab: WebKitGTK does not paint a background tab, and a
            # screenshot of one never returns.
            self._driver.switch_to.new_window("window")
            self._current = self._driver.current_window_handle
            return self._current

        handle = self._call(open_window, timeout, "new page")
        page = _WebKitGTKPage(self, handle)
        return self._navigate_new(page, url, deadline)

    def close(self) -> None:
        if not self._begin_close():
            return
        driver = self._driver
        if driver is not None:
            # Ends the session (MiniBrowser exits) and stops WebKitWebDriver.
            with contextlib.suppress(Exception):
                self._worker.run(driver.quit, _HOUSEKEEPING_TIMEOUT, "webkit", "close")
        self._worker.stop()
        service = self._service
        _stop_process_group(getattr(service, "process", None) if service else None)
        _stop_process_group(self._xvfb)
        self._watchdog.stop()
        shutil.rmtree(self._tmpdir, ignore_errors=True)


def _service_pid(service: Any) -> int | None:
    """The pid of a Selenium Service's driver process, once it has been started."""
    process = getattr(service, "process", None)
    return None if process is None else int(process.pid)


class _WebKitGTKPage(Page):
    engine = "webkit"

    def __init__(self, browser: _WebKitGTKBrowser, handle: str) -> None:
        self._browser = browser
        self._handle = handle
        self._console: list[str] = []
        self._lock = threading.Lock()
        self._closed = False

    def _call[T](self, fn: Callable[[], T], timeout: float, step: str) -> T:
        if self._closed:
            raise RuntimeError("webkit: page is closed")

        def in_window() -> T:
            self._browser._switch(self._handle)
            return fn()

        return self._browser._call(in_window, timeout, step)

    def _drain(self) -> None:
        """Move the page's captured console lines here (worker thread only)."""
        driver = self._browser._driver
        lines = json.loads(driver.execute_script(CONSOLE_SHIM_JS + "\n" + _DRAIN_CONSOLE_JS))
        with self._lock:
            self._console.extend(str(line) for line in lines)

    def goto(self, url: str, *, timeout: float = 60.0) -> None:
        from selenium.common.exceptions import TimeoutException

        step = f"goto {url}"

        def go() -> None:
            with contextlib.suppress(Exception):
                self._drain()  # keep what the old document logged
            self._browser._set_timeout("pageLoad", timeout)
            try:
                self._browser._driver.get(url)
            except TimeoutException as exc:
                detail = f" ({exc.msg})" if exc.msg else ""
                raise BrowserTimeout(
                    f"webkit: {step}: no load event within {timeout:.1f} s{detail}"
                ) from None
            self._browser._driver.execute_script(CONSOLE_SHIM_JS)

        self._call(go, timeout + _GRACE, step)

    def evaluate(self, source: str, arg: object = None, *, timeout: float = 60.0) -> Any:
        from selenium.common.exceptions import JavascriptException, TimeoutException

        arg_json = json.dumps(arg)
        script = (
            "const __wsDone = arguments[arguments.length - 1];\n"
            f"{CONSOLE_SHIM_JS}\n"
            f"({_wrap_source(source)})(arguments[0]).then(__wsDone, (e) => __wsDone("
            "JSON.stringify({ ok: false, message: String(e), stack: '' })));"
        )

        def compile_error() -> str | None:
            with contextlib.suppress(Exception):
                message = self._browser._driver.execute_script(_COMPILE_CHECK_JS, source)
                if isinstance(message, str) and message.startswith("SyntaxError"):
                    return message
            return None

        def run() -> Any:
            self._browser._set_timeout("script", timeout)
            try:
                return self._browser._driver.execute_async_script(script, arg_json)
            except TimeoutException as exc:
                detail = f" ({exc.msg})" if exc.msg else ""
                raise BrowserTimeout(
                    f"webkit: evaluate: no result within {timeout:.1f} s{detail}"
                ) from None
            except JavascriptException as exc:
                # Runtime errors are caught in the page, so the source did not compile;
                # WebKitWebDriver's message lacks the "SyntaxError: " that others give.
                raise PageError("webkit", compile_error() or exc.msg or str(exc)) from None

        return _unwrap("webkit", self._call(run, timeout + _GRACE, "evaluate"))

    def console(self) -> list[str]:
        if not self._closed and not self._browser._closed:
            self._call(self._drain, _HOUSEKEEPING_TIMEOUT, "console")
        with self._lock:
            return list(self._console)

    def screenshot(self, path: str) -> None:
        png = self._call(
            self._browser._driver.get_screenshot_as_png, _HOUSEKEEPING_TIMEOUT, "screenshot"
        )
        Path(path).write_bytes(png)

    def close(self) -> None:
        if self._closed:
            return
        browser = self._browser
        if not browser._closed:

            def close_window() -> None:
                driver = browser._driver
                browser._switch(self._handle)
                with contextlib.suppress(Exception):
                    self._drain()  # console() still answers after close()
                if len(driver.window_handles) > 1:
                    driver.close()
                    browser._current = None
                    driver.switch_to.window(driver.window_handles[0])
                    browser._current = driver.current_window_handle
                else:
                    # Closing the last window would end the session: blank it and keep it.
                    driver.get("about:blank")
                    browser._idle.append(self._handle)

            with contextlib.suppress(Exception):
                browser._call(close_window, _HOUSEKEEPING_TIMEOUT, "close page")
        self._closed = True
