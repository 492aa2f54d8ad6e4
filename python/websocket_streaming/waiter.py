"""Waiter: what ``recv()`` awaits, able to resume its task inside the event that wakes it.

An asyncio future resumes the task awaiting it one event-loop turn after
``set_result()``; in Pyodide that turn is one more browser task (a new Handle, a
proxy and a MessageChannel message each time), and it is most of a round trip's
cost. A :class:`Waiter` is awaited like a future (asyncio's Task accepts any
object with ``_asyncio_future_blocking``), and :meth:`Waiter.wake_now` runs the
task's wake-up callback at once: the task resumes inside the browser's
``message`` event, and a reply it sends goes out from there too.

``wake_now`` does so only when no task is running (the call comes straight
from a browser event, between the loop's callbacks); otherwise, and for ``set_result``
and ``cancel``, callbacks go through the loop as an asyncio future's do. If a
callback fails to start (asyncio refuses to enter the task), it and the ones
after it are handed to the loop instead, so no task is ever stranded. Pure
asyncio: no ``js``; tested on CPython.
"""

from __future__ import annotations

import asyncio
import contextvars
from asyncio import events
from collections.abc import Callable, Generator
from typing import Any

__all__ = ["Waiter", "woken_inside"]

Callback = Callable[["Waiter"], object]

# How many wakes ran their task inside Waiter.wake_now. A module global, not a class
# attribute: writing to the class on every wake would void the interpreter's specialised
# attribute lookups on every Waiter.
_woken_inside = 0


def woken_inside() -> int:
    """How many wakes so far ran their task inside :meth:`Waiter.wake_now` (over every
    Waiter): for tests and the benchmark, to see the fast path taken."""
    return _woken_inside


class Waiter:
    """A one-shot future-like object with no result (``None``), or cancelled."""

    _asyncio_future_blocking = False

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._callbacks: list[tuple[Callback, contextvars.Context | None]] = []
        self._done = False
        self._cancelled = False

    # -- the future protocol asyncio's Task uses ---------------------------------

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def done(self) -> bool:
        return self._done

    def cancelled(self) -> bool:
        return self._cancelled

    def result(self) -> None:
        """None once woken. Raises CancelledError if cancelled, InvalidStateError if pending."""
        if self._cancelled:
            raise asyncio.CancelledError
        if not self._done:
            raise asyncio.InvalidStateError("the waiter has not been woken")

    def exception(self) -> BaseException | None:
        """None once woken. Raises as ``result()`` does when cancelled or pending."""
        self.result()
        return None

    def add_done_callback(
        self, fn: Callback, *, context: contextvars.Context | None = None
    ) -> None:
        if self._done:
            self._loop.call_soon(fn, self, context=context)
        else:
            self._callbacks.append((fn, context))

    def remove_done_callback(self, fn: Callback) -> int:
        before = len(self._callbacks)
        self._callbacks = [(f, c) for f, c in self._callbacks if f != fn]
        return before - len(self._callbacks)

    def cancel(self, msg: object = None) -> bool:
        """Cancel: the awaiting task gets CancelledError, through the loop. Raises nothing."""
        if self._done:
            return False
        self._cancelled = True
        self._finish()
        return True

    def set_result(self, result: None = None) -> None:
        """Wake the awaiting task through the loop, as an asyncio future does. Raises
        InvalidStateError if already done."""
        if self._done:
            raise asyncio.InvalidStateError("the waiter is already done")
        self._finish()

    def __await__(self) -> Generator[Any, None, None]:
        if not self._done:
            self._asyncio_future_blocking = True
            yield self
        self.result()

    __iter__ = __await__

    # -- waking at once ---------------------------------------------------------------

    def wake_now(self) -> None:
        """Wake the awaiting task inside this call if nothing else runs, else through
        the loop. Does nothing if already done. Raises nothing."""
        if self._done:
            return
        running = events._get_running_loop()  # noqa: SLF001 - asyncio's own loop-entry API
        if (running is not None and running is not self._loop) or (
            running is not None and asyncio.current_task(running) is not None
        ):  # inside a task (or another loop): asyncio would refuse to enter ours
            self._finish()
            return
        self._done = True
        callbacks, self._callbacks = self._callbacks, []
        # Pyodide's loop stays set as the running loop between its callbacks; elsewhere
        # set it for the call, since asyncio enters a task only in its running loop.
        events._set_running_loop(self._loop)  # noqa: SLF001 - as above
        global _woken_inside
        _woken_inside += 1
        try:
            for i, (fn, context) in enumerate(callbacks):
                try:
                    if context is None:
                        fn(self)
                    else:
                        context.run(fn, self)
                except Exception:
                    # The task was not entered (asyncio refused): the loop runs it instead.
                    for later, later_context in callbacks[i:]:
                        self._loop.call_soon(later, self, context=later_context)
                    return
        finally:
            events._set_running_loop(running)  # noqa: SLF001 - as above

    def _finish(self) -> None:
        self._done = True
        callbacks, self._callbacks = self._callbacks, []
        for fn, context in callbacks:
            self._loop.call_soon(fn, self, context=context)

    def __repr__(self) -> str:
        state = "cancelled" if self._cancelled else "done" if self._done else "pending"
        return f"<Waiter {state}>"
