"""The browser harness itself: a missing engine is named, and in CI it fails the run."""

from __future__ import annotations

import os
import subprocess
import sys

import harness
import pytest
from conftest import ROOT


def test_missing_webkit_driver_is_named(monkeypatch):
    """launch("webkit") without its driver raises BrowserUnavailable naming WebKit and the fix."""
    monkeypatch.setenv("WS_STREAMING_WEBKIT_DRIVER", "/nonexistent/WebKitWebDriver")
    with pytest.raises(harness.BrowserUnavailable) as info:
        harness.launch("webkit")
    message = str(info.value)
    assert message.startswith("webkit") and "webkit2gtk-driver" in message


def run_pytest_without_webkit(ci: str) -> subprocess.CompletedProcess[str]:
    """Run one WebKit browser test in a child pytest, with WebKit's driver made unavailable."""
    env = {**os.environ, "CI": ci, "WS_STREAMING_WEBKIT_DRIVER": "/nonexistent/WebKitWebDriver"}
    command = ["-m", "pytest", "-p", "no:cacheprovider", "-rs", "--engine", "webkit"]
    return subprocess.run(
        [sys.executable, *command, "tests/test_browser.py::test_invalid_urls"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ci_fails_instead_of_skipping_a_missing_engine():
    """With CI=true, a browser test whose engine is missing fails the pytest run, naming WebKit."""
    run = run_pytest_without_webkit("true")
    assert run.returncode != 0, run.stdout
    assert "webkit is required in CI" in run.stdout and "skipped" not in run.stdout


def test_outside_ci_a_missing_engine_is_skipped_with_the_reason():
    """Without CI, the same run skips the test and says why."""
    run = run_pytest_without_webkit("")
    assert run.returncode == 0, run.stdout
    assert "1 skipped" in run.stdout and "webkit unavailable" in run.stdout
