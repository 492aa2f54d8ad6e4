"""Finding browsers: Playwright's own builds, system Chromium/Firefox, WebKitGTK's driver.

Each ``find_*`` function returns executable paths or raises
:class:`~harness.errors.BrowserUnavailable` saying what is missing and how to install it.
The ``WS_STREAMING_*`` environment variables override the search (and force the system path);
:data:`RELAY_SCRIPT` is the Firefox ESR relay the Playwright driver wraps.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import threading
from pathlib import Path

from .errors import BrowserUnavailable
from .processes import LoopThread

ENGINES = ("chromium", "firefox", "webkit")

RELAY_SCRIPT = Path(__file__).resolve().with_name("firefox_bidi_relay.py")

MINIBROWSER_CANDIDATES = (
    "/usr/lib/*/webkit2gtk-4.1/MiniBrowser",  # Debian, Ubuntu
    "/usr/lib/*/webkitgtk-6.0/MiniBrowser",
    "/usr/lib/*/webkit2gtk-4.0/MiniBrowser",
    "/usr/libexec/webkit2gtk-4.1/MiniBrowser",  # Fedora
    "/usr/libexec/webkitgtk-6.0/MiniBrowser",
    "/usr/libexec/webkit2gtk-4.0/MiniBrowser",
)


_ENV_OVERRIDES = {
    "chromium": ("WS_STREAMING_CHROMIUM",),
    "firefox": ("WS_STREAMING_FIREFOX",),
    "webkit": ("WS_STREAMING_WEBKIT_DRIVER", "WS_STREAMING_WEBKIT_BROWSER"),
}

_own_executables: dict[str, str | None] = {}
_own_lock = threading.Lock()


def system_override(engine: str) -> str | None:
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


def find_system_chromium() -> str:
    return _from_env_or_path(
        "chromium",
        "WS_STREAMING_CHROMIUM",
        ("chromium", "chromium-browser"),
        "a system Chromium",
        "Install one: `python -m playwright install chromium`, or Debian/Ubuntu "
        "`apt-get install chromium`.",
    )


def find_system_firefox() -> str:
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


def find_webkitgtk() -> tuple[str, str]:
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


def require_package(engine: str, package: str) -> None:
    if importlib.util.find_spec(package) is None:
        raise BrowserUnavailable(
            f"{engine}: the Python package `{package}` is not installed (`pip install {package}`)"
        )


def playwright_own_executable(engine: str, timeout: float) -> str | None:
    """Path of Playwright's own build of ``engine`` if it is installed, else None (cached)."""
    with _own_lock:
        if engine not in _own_executables:
            if importlib.util.find_spec("playwright") is None:
                _own_executables.update(dict.fromkeys(ENGINES))
            else:
                loop = LoopThread(f"playwright-probe-{engine}")
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
