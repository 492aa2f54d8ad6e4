"""Processes and threads: nothing the harness starts outlives it, and no step waits forever.

Process groups are stopped with SIGTERM then SIGKILL (:func:`stop_process_group`); what a driver
left behind is found in /proc and killed (:func:`descendants`, :func:`kill_leftovers`); a
:class:`Watchdog` process ends registered groups if the test process dies.  Driver objects live
on private threads (:class:`LoopThread` for Playwright's asyncio API, :class:`Worker` for
blocking WebDriver calls), and every wait on them is bounded (:func:`wait_for`,
:func:`remaining`), raising :class:`~harness.errors.BrowserTimeout`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from .errors import BrowserTimeout

#: Extra seconds an outer guard waits beyond a step's own timeout, so that the driver's own
#: (more specific) timeout error normally wins.
GRACE = 5.0
#: Bound for housekeeping calls that have no timeout parameter (console(), close()).
HOUSEKEEPING_TIMEOUT = 15.0

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


def descendants(root: int) -> dict[int, str]:
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


def kill_leftovers(snapshot: dict[int, str]) -> None:
    """SIGKILL every process of ``snapshot`` that still runs (same pid and start time)."""
    table = _proc_table()
    for pid, start in snapshot.items():
        entry = table.get(pid)
        if entry is not None and entry[2] == start and entry[1] not in ("Z", "X"):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def stop_process_group(proc: subprocess.Popen[Any] | None, grace: float = 3.0) -> None:
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


class Watchdog:
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


class LoopThread:
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
        return wait_for(future, timeout, engine, step)

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


class Worker:
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
        return wait_for(self.submit(fn), timeout, engine, step)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            for _, future in self._queue:
                future.cancel()
            self._queue.clear()
            self._cond.notify()


def wait_for[T](future: concurrent.futures.Future[T], timeout: float, engine: str, step: str) -> T:
    try:
        return future.result(timeout)
    except TimeoutError as exc:  # concurrent.futures.TimeoutError is TimeoutError (3.11+)
        future.cancel()
        if isinstance(exc, BrowserTimeout):
            raise
        raise BrowserTimeout(f"{engine}: {step} did not finish within {timeout:.1f} s") from None


def remaining(deadline: float, engine: str, step: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise BrowserTimeout(f"{engine}: {step}: no time left (the timeout went on earlier steps)")
    return left
