"""The engine-neutral page protocol: the :class:`Page` and :class:`Browser` base classes.

Also what every driver shares to run code in a page: :func:`wrap_source` turns a JS function
expression into one that returns a JSON envelope, :func:`unwrap` turns the envelope back into a
value or a :class:`~harness.errors.PageError`, and :data:`CONSOLE_SHIM_JS` captures the console
where the driver cannot.  Browsers not closed by their caller are closed at interpreter exit
(:func:`track`).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from .errors import PageError
from .processes import remaining

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


def wrap_source(source: str) -> str:
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


def unwrap(engine: str, envelope: Any) -> Any:
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
        track(self, False)
        return True

    def _navigate_new(self, page: Page, url: str, deadline: float) -> Page:
        """Navigate a just-opened page, closing it if navigation fails."""
        try:
            page.goto(url, timeout=remaining(deadline, self.engine, f"goto {url}"))
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


def track(browser: Browser, live: bool) -> None:
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
