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
       ``tests/harness/firefox_bidi_relay.py``, which stubs the BiDi commands Firefox ESR lacks.
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

Where things are (one concern per module):

* :mod:`harness.discovery`: finding executables (Playwright's builds, system browsers, env overrides).
* :mod:`harness.processes`: process groups, the watchdog, leftover killing, driver threads, timeouts.
* :mod:`harness.page`: the :class:`Page` / :class:`Browser` base classes and the page protocol.
* :mod:`harness.playwright`: the Playwright driver (Chromium, Firefox via the BiDi relay, WebKit).
* :mod:`harness.webkitgtk`: WebKitGTK through Selenium and Xvfb.
* :mod:`harness.errors`: the exceptions.
* ``firefox_bidi_relay.py``: the relay Firefox ESR runs behind (a script, not imported).
"""

from __future__ import annotations

import time

from .discovery import (
    ENGINES,
    find_system_chromium,
    find_system_firefox,
    playwright_own_executable,
    system_override,
)
from .errors import BrowserTimeout, BrowserUnavailable, PageError
from .page import CONSOLE_SHIM_JS, Browser, Page
from .playwright import PlaywrightBrowser
from .webkitgtk import WebKitGTKBrowser

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
    if system_override(engine) is None and playwright_own_executable(engine, timeout):
        try:
            return PlaywrightBrowser.start(engine, deadline, system=None)
        except BrowserUnavailable as exc:  # e.g. headless shell missing: try the system one
            own_failure = exc
    try:
        if engine == "chromium":
            return PlaywrightBrowser.start(engine, deadline, system=find_system_chromium())
        if engine == "firefox":
            return PlaywrightBrowser.start(engine, deadline, system=find_system_firefox())
        return WebKitGTKBrowser.start(deadline)
    except BrowserUnavailable as exc:
        if own_failure is None:
            raise
        raise BrowserUnavailable(f"{exc}\nAlso: {own_failure}") from exc
