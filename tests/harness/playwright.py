"""Chromium and Firefox (and Playwright's own WebKit) driven by Playwright's async API.

A system Chromium is launched by path; a system Firefox ESR through Playwright's WebDriver-BiDi
client, with a two-line wrapper script that starts ``firefox_bidi_relay.py`` (beside this file)
in front of the real Firefox.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from .discovery import RELAY_SCRIPT, require_package
from .errors import BrowserTimeout, BrowserUnavailable, PageError
from .page import Browser, Page, track, unwrap, wrap_source
from .processes import (
    GRACE,
    HOUSEKEEPING_TIMEOUT,
    LoopThread,
    descendants,
    kill_leftovers,
    remaining,
)

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


class PlaywrightBrowser(Browser):
    """Chromium/Firefox/WebKit driven by Playwright's async API on a private loop thread."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        self.description = f"{engine} (starting)"
        self._loop = LoopThread(f"playwright-{engine}")
        self._pw: Any = None
        self._browser: Any = None
        self._driver_pid: int | None = None
        self._tmpdir: str | None = None
        self._closed = False
        self._close_lock = threading.Lock()

    @classmethod
    def start(cls, engine: str, deadline: float, system: str | None) -> PlaywrightBrowser:
        """Launch Playwright's own build (``system`` None) or the system executable ``system``."""
        require_package(engine, "playwright")
        self = cls(engine)
        track(self, True)
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
            start_driver(), remaining(deadline, self.engine, step), self.engine, step
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
        left = remaining(deadline, self.engine, step)

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

        self._browser = self._loop.run(launch_browser(), left + GRACE, self.engine, step)
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
        snapshot = descendants(self._driver_pid) if self._driver_pid else {}
        if self._browser is not None:
            with contextlib.suppress(Exception):
                self._loop.run(self._browser.close(), HOUSEKEEPING_TIMEOUT, self.engine, "close")
        if self._pw is not None:
            with contextlib.suppress(Exception):
                self._loop.run(self._pw.stop(), HOUSEKEEPING_TIMEOUT, self.engine, "stop driver")
        self._loop.stop()
        # Whatever Playwright did not end (a hung browser, a stuck relay) goes now.
        kill_leftovers(snapshot)
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)


class _PlaywrightPage(Page):
    def __init__(self, browser: PlaywrightBrowser) -> None:
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

        self._run(go(), timeout + GRACE, step)

    def evaluate(self, source: str, arg: object = None, *, timeout: float = 60.0) -> Any:
        from playwright.async_api import Error as PlaywrightError

        arg_json = json.dumps(arg)
        wrapped = wrap_source(source)

        async def run() -> Any:
            try:
                return await self._page.evaluate(wrapped, arg_json)
            except PlaywrightError as exc:
                # A source that does not compile fails before our try/catch in the page.
                text = (exc.message or str(exc)).removeprefix("Page.evaluate: ")
                if text.startswith("SyntaxError"):
                    raise PageError(self.engine, text.splitlines()[0], text) from None
                raise

        return unwrap(self.engine, self._run(run(), timeout, "evaluate"))

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
            self._page.screenshot(path=path, timeout=HOUSEKEEPING_TIMEOUT * 1000),
            HOUSEKEEPING_TIMEOUT + GRACE,
            "screenshot",
        )

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._page is not None and not self._browser._closed:
            with contextlib.suppress(Exception):
                self._browser._loop.run(
                    self._page.close(), HOUSEKEEPING_TIMEOUT, self.engine, "close page"
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
