"""waiter.py: a future-like Waiter that can resume its task inside the call that wakes it."""

from __future__ import annotations

import asyncio
import contextvars

import pytest
from fake_transport import async_test
from websocket_streaming.waiter import Waiter, woken_inside

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="unset")


async def _started(coro) -> asyncio.Task:
    """A task running ``coro``, run until it first suspends."""
    task = asyncio.ensure_future(coro)
    await asyncio.sleep(0)
    return task


def _from_a_callback(fn) -> asyncio.Future:
    """Run ``fn`` in a plain loop callback (no task running: like a browser event)."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def run() -> None:
        try:
            done.set_result(fn())
        except BaseException as exc:
            done.set_exception(exc)

    loop.call_soon(run)
    return done


@async_test
async def test_wake_now_resumes_the_task_inside_the_call():
    """From a callback with no task running, the awaiting task runs its next step before
    wake_now() returns."""
    waiter = Waiter(asyncio.get_running_loop())
    steps: list[str] = []

    async def reader() -> None:
        await waiter
        steps.append("resumed")

    task = await _started(reader())

    def wake() -> list[str]:
        waiter.wake_now()
        return list(steps)

    before = woken_inside()
    assert await _from_a_callback(wake) == ["resumed"]
    assert woken_inside() == before + 1
    await task
    assert waiter.done() and not waiter.cancelled() and waiter.result() is None


@async_test
async def test_wake_now_inside_a_task_goes_through_the_loop():
    """Called from inside a running task, wake_now() never enters the other task (asyncio
    would refuse): it resumes one loop turn later, as set_result() does."""
    waiter = Waiter(asyncio.get_running_loop())
    steps: list[str] = []

    async def reader() -> None:
        await waiter
        steps.append("resumed")

    task = await _started(reader())
    waiter.wake_now()
    assert steps == []
    await task
    assert steps == ["resumed"]


@async_test
async def test_cancel_and_timeout_while_waiting():
    """task.cancel() and asyncio.timeout() end a wait with CancelledError / TimeoutError;
    a later wake_now() does nothing."""
    loop = asyncio.get_running_loop()
    waiter = Waiter(loop)

    async def wait() -> None:
        await waiter

    task = await _started(wait())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert waiter.cancelled() and waiter.done()
    waiter.wake_now()  # nothing to do
    with pytest.raises(asyncio.CancelledError):
        waiter.result()
    other = Waiter(loop)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await other
    assert other.cancelled()


@async_test
async def test_contextvars_survive_a_wake_now():
    """The resumed task sees its own context, not the caller's."""
    waiter = Waiter(asyncio.get_running_loop())
    seen: list[str] = []

    async def reader() -> None:
        VAR.set("reader")
        await waiter
        seen.append(VAR.get())

    task = await _started(reader())
    VAR.set("caller")
    await _from_a_callback(waiter.wake_now)
    await task
    assert seen == ["reader"] and VAR.get() == "caller"


@async_test
async def test_an_exception_in_the_resumed_code_stays_in_its_task():
    """Code that raises after the await fails its own task; wake_now() returns normally."""
    waiter = Waiter(asyncio.get_running_loop())

    async def reader() -> None:
        await waiter
        raise ValueError("boom")

    task = await _started(reader())
    await _from_a_callback(waiter.wake_now)
    with pytest.raises(ValueError, match="boom"):
        await task


@async_test
async def test_a_failing_callback_strands_no_task():
    """If a done callback raises in wake_now() (asyncio refusing to enter a task), it and
    the callbacks after it are handed to the loop: the awaiting task still resumes."""
    loop = asyncio.get_running_loop()
    waiter = Waiter(loop)
    calls: list[str] = []

    def refuses(w: Waiter) -> None:
        calls.append("refuses")
        if len(calls) == 1:
            raise RuntimeError("Cannot enter into task")

    waiter.add_done_callback(refuses)

    async def reader() -> None:
        await waiter
        calls.append("resumed")

    task = await _started(reader())
    await _from_a_callback(waiter.wake_now)
    await task
    assert calls == ["refuses", "refuses", "resumed"]


@async_test
async def test_future_protocol():
    """result()/exception() before and after, set_result() twice, callbacks added late, and
    remove_done_callback()."""
    loop = asyncio.get_running_loop()
    waiter = Waiter(loop)
    assert waiter.get_loop() is loop and repr(waiter) == "<Waiter pending>"
    with pytest.raises(asyncio.InvalidStateError):
        waiter.result()
    with pytest.raises(asyncio.InvalidStateError):
        waiter.exception()
    cancelled = Waiter(loop)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        cancelled.exception()

    def callback(w: Waiter) -> None:
        pass

    waiter.add_done_callback(callback)
    assert waiter.remove_done_callback(callback) == 1
    waiter.set_result(None)
    assert waiter.exception() is None and repr(waiter) == "<Waiter done>"
    with pytest.raises(asyncio.InvalidStateError):
        waiter.set_result(None)
    assert waiter.cancel() is False
    late = loop.create_future()
    waiter.add_done_callback(lambda w: late.set_result(w))
    assert await late is waiter
    await waiter  # done: returns at once


@async_test
async def test_awaiting_a_done_waiter_returns_or_raises_at_once():
    """Awaiting a waiter already woken returns None without suspending; one already
    cancelled raises CancelledError."""
    loop = asyncio.get_running_loop()
    woken = Waiter(loop)
    woken.set_result()
    assert await woken is None
    cancelled = Waiter(loop)
    assert cancelled.cancel() is True
    with pytest.raises(asyncio.CancelledError):
        await cancelled


def test_wake_now_with_no_loop_running_resumes_the_task_inside_the_call():
    """With no loop running (between two runs), wake_now() resumes the task before it
    returns, then leaves no loop set as running."""
    loop = asyncio.new_event_loop()
    try:
        waiter = Waiter(loop)
        steps: list[str] = []

        async def wait() -> None:
            await waiter
            steps.append("resumed" if asyncio.get_running_loop() is loop else "no loop")

        task = loop.create_task(wait())
        loop.run_until_complete(asyncio.sleep(0))  # the task now awaits the waiter
        assert steps == []
        waiter.wake_now()
        assert steps == ["resumed"] and task.done()
        assert asyncio._get_running_loop() is None
    finally:
        loop.close()


@async_test
async def test_wake_now_inside_a_task_goes_through_the_loop_uncounted():
    """From inside a running task, wake_now() runs the callbacks one loop turn later and
    does not count in woken_inside."""
    waiter = Waiter(asyncio.get_running_loop())
    calls: list[Waiter] = []
    waiter.add_done_callback(calls.append)
    before = woken_inside()
    waiter.wake_now()
    assert calls == [] and waiter.done()
    await asyncio.sleep(0)
    assert calls == [waiter]
    assert woken_inside() == before


@async_test
async def test_wake_now_of_a_done_waiter_does_nothing():
    """wake_now() of a waiter already woken or cancelled runs no callback again and does not
    count in woken_inside."""
    loop = asyncio.get_running_loop()
    for finish in (Waiter.set_result, Waiter.cancel):
        waiter = Waiter(loop)
        calls: list[Waiter] = []
        waiter.add_done_callback(calls.append)
        finish(waiter)
        await asyncio.sleep(0)
        before = woken_inside()
        await _from_a_callback(waiter.wake_now)
        await asyncio.sleep(0)
        assert calls == [waiter]
        assert woken_inside() == before


@async_test
async def test_remove_done_callback_returns_how_many_it_removed():
    """remove_done_callback() removes every registration of that callback and returns how
    many; the others stay."""
    waiter = Waiter(asyncio.get_running_loop())
    calls: list[str] = []

    def first(w: Waiter) -> None:
        calls.append("first")

    def second(w: Waiter) -> None:
        calls.append("second")

    for callback in (first, second, first):
        waiter.add_done_callback(callback)
    assert waiter.remove_done_callback(first) == 2
    assert waiter.remove_done_callback(first) == 0
    waiter.set_result()
    await asyncio.sleep(0)
    assert calls == ["second"]
