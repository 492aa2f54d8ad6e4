"""An event loop with virtual time, so that tests of timing logic never wait.

:class:`VirtualTimeLoop` is a ``SelectorEventLoop`` whose ``time()`` is a
virtual clock. Whenever nothing is ready to run, the clock jumps to the next
scheduled timer (``loop._scheduled``, the heap ``call_at`` fills), so a test
that waits 60 virtual seconds takes milliseconds, and timers fire in the same
order and at the same virtual instants as they would in real time.
``asyncio.sleep``, ``asyncio.timeout``, ``call_later`` and everything built on
them run on it unchanged. Real I/O is not simulated: the loop is for tests
that only use in-memory transports (``FakeTransport``).

Use :func:`fake_clock_test` as ``async_test`` is used; the test starts at
virtual time 0.0.
"""

from __future__ import annotations

import asyncio
import time

from fake_transport import loop_test

__all__ = ["VirtualTimeLoop", "fake_clock_test"]

#: A test on the fake clock fails after this many virtual seconds...
VIRTUAL_TIMEOUT = 3600.0
#: ...or this many real ones (a loop that spins without ever sleeping).
REAL_TIMEOUT = 10.0


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose clock only moves when the loop would sleep."""

    def __init__(self) -> None:
        super().__init__()
        self._virtual_now = 0.0
        self._real_deadline = time.monotonic() + REAL_TIMEOUT

    def time(self) -> float:
        """The virtual time, in seconds since the loop was made."""
        return self._virtual_now

    def _run_once(self) -> None:
        # Nothing to run now: instead of sleeping in select(), jump to the next live
        # timer; the base class then finds it due and runs it in this iteration.
        if not self._ready and not self._stopping:  # type: ignore[attr-defined]
            due = [h.when() for h in self._scheduled if not h.cancelled()]  # type: ignore[attr-defined]
            if due:
                self._virtual_now = max(self._virtual_now, min(due))
        if time.monotonic() > self._real_deadline:
            raise TimeoutError(f"the test ran for more than {REAL_TIMEOUT} real seconds")
        super()._run_once()  # type: ignore[misc]


#: Run an async test on a :class:`VirtualTimeLoop`, failing it after an hour of virtual time.
fake_clock_test = loop_test(VIRTUAL_TIMEOUT, VirtualTimeLoop)
