"""WebKitGTK: MiniBrowser driven by Selenium through WebKitWebDriver, under $DISPLAY or Xvfb.

WebDriver calls run on a private :class:`~harness.processes.Worker` thread; pages are windows of
one session.  WebKitWebDriver and Xvfb run in their own process groups, registered with a
:class:`~harness.processes.Watchdog` so that they die with the test process.  The console is
captured by :data:`~harness.page.CONSOLE_SHIM_JS`, injected after each ``goto`` and before each
``evaluate``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .discovery import find_webkitgtk, require_package
from .errors import BrowserTimeout, BrowserUnavailable, PageError
from .page import CONSOLE_SHIM_JS, Browser, Page, track, unwrap, wrap_source
from .processes import (
    GRACE,
    HOUSEKEEPING_TIMEOUT,
    Watchdog,
    Worker,
    remaining,
    stop_process_group,
    wait_for,
)

_DRAIN_CONSOLE_JS = (
    "return JSON.stringify(Array.isArray(window.__wsConsole) ? window.__wsConsole.splice(0) : []);"
)


_COMPILE_CHECK_JS = (
    "try { new Function('return (' + arguments[0] + '\\n);'); return null; }"
    " catch (e) { return String(e); }"
)


class WebKitGTKBrowser(Browser):
    """MiniBrowser driven by WebKitWebDriver through Selenium, under $DISPLAY or our Xvfb."""

    engine = "webkit"

    def __init__(self) -> None:
        self.description = "webkit (starting)"
        self._worker = Worker("webkit-webdriver")
        self._tmpdir = tempfile.mkdtemp(prefix="ws-streaming-webkit-")
        self._xvfb: subprocess.Popen[bytes] | None = None
        self._service: Any = None
        self._driver: Any = None
        self._current: str | None = None  # window handle WebDriver commands go to
        self._idle: list[str] = []  # open windows no Page uses
        self._timeouts: dict[str, float] = {}
        self._closed = False
        self._close_lock = threading.Lock()
        self._watchdog = Watchdog()
        self._watchdog.add_dir(self._tmpdir)

    @classmethod
    def start(cls, deadline: float) -> WebKitGTKBrowser:
        require_package("webkit", "selenium")
        driver_path, browser_path = find_webkitgtk()
        display = os.environ.get("DISPLAY")
        xvfb = None if display else shutil.which("Xvfb")
        if not display and xvfb is None:
            raise BrowserUnavailable(
                "webkit: MiniBrowser needs an X display: $DISPLAY is unset and Xvfb is not "
                "installed (Debian/Ubuntu: `apt-get install xvfb`)."
            )
        self = cls()
        track(self, True)
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
            display = self._start_xvfb(xvfb, remaining(deadline, "webkit", "start Xvfb"))
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
        left = remaining(deadline, "webkit", step)
        future = self._worker.submit(new_session)
        # Hand WebKitWebDriver's process group to the watchdog as soon as it exists.
        end = time.monotonic() + left
        while not future.done() and _service_pid(service) is None and time.monotonic() < end:
            concurrent.futures.wait([future], timeout=0.02)
        pid = _service_pid(service)
        if pid is not None:
            self._watchdog.add_group(pid)
        try:
            self._driver = wait_for(future, max(end - time.monotonic(), 0.0), "webkit", step)
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
                self._worker.run(driver.quit, HOUSEKEEPING_TIMEOUT, "webkit", "close")
        self._worker.stop()
        service = self._service
        stop_process_group(getattr(service, "process", None) if service else None)
        stop_process_group(self._xvfb)
        self._watchdog.stop()
        shutil.rmtree(self._tmpdir, ignore_errors=True)


def _service_pid(service: Any) -> int | None:
    """The pid of a Selenium Service's driver process, once it has been started."""
    process = getattr(service, "process", None)
    return None if process is None else int(process.pid)


class _WebKitGTKPage(Page):
    engine = "webkit"

    def __init__(self, browser: WebKitGTKBrowser, handle: str) -> None:
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

        self._call(go, timeout + GRACE, step)

    def evaluate(self, source: str, arg: object = None, *, timeout: float = 60.0) -> Any:
        from selenium.common.exceptions import JavascriptException, TimeoutException

        arg_json = json.dumps(arg)
        script = (
            "const __wsDone = arguments[arguments.length - 1];\n"
            f"{CONSOLE_SHIM_JS}\n"
            f"({wrap_source(source)})(arguments[0]).then(__wsDone, (e) => __wsDone("
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

        return unwrap("webkit", self._call(run, timeout + GRACE, "evaluate"))

    def console(self) -> list[str]:
        if not self._closed and not self._browser._closed:
            self._call(self._drain, HOUSEKEEPING_TIMEOUT, "console")
        with self._lock:
            return list(self._console)

    def screenshot(self, path: str) -> None:
        png = self._call(
            self._browser._driver.get_screenshot_as_png, HOUSEKEEPING_TIMEOUT, "screenshot"
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
                browser._call(close_window, HOUSEKEEPING_TIMEOUT, "close page")
        self._closed = True
