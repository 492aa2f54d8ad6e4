"""fake_clock.py: the virtual-time event loop the timing tests run on."""

from __future__ import annotations

import asyncio
import time

import pytest
from fake_clock import VirtualTimeLoop, fake_clock_test
from fake_transport import async_test, run_in_loop


@fake_clock_test
async def test_sleep_takes_virtual_time_only():
    """asyncio.sleep(60) advances the loop's clock by exactly 60 s and takes no real time."""
    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualTimeLoop)
    start, real_start = loop.time(), time.monotonic()
    await asyncio.sleep(60)
    assert loop.time() - start == 60
    assert time.monotonic() - real_start < 0.5


@fake_clock_test
async def test_timers_fire_in_order_at_their_instants():
    """call_later callbacks run in order of their deadlines, each at its virtual instant."""
    loop = asyncio.get_running_loop()
    fired: list[tuple[str, float]] = []
    done = loop.create_future()
    for name, delay in [("c", 3.0), ("a", 1.0), ("b", 2.5)]:
        loop.call_later(delay, lambda n=name: fired.append((n, loop.time())))
    loop.call_later(10, done.set_result, None)
    await done
    assert fired == [("a", 1.0), ("b", 2.5), ("c", 3.0)]
    assert loop.time() == 10


@fake_clock_test
async def test_clock_stands_still_while_work_is_ready():
    """The clock does not move while callbacks are ready; a cancelled timer is skipped."""
    loop = asyncio.get_running_loop()
    loop.call_later(5, lambda: None).cancel()
    for _ in range(100):
        await asyncio.sleep(0)
    assert loop.time() == 0
    await asyncio.sleep(1)
    assert loop.time() == 1


@fake_clock_test
async def test_timeout_fires_on_virtual_time():
    """asyncio.timeout() expires after its virtual delay, not before."""
    loop = asyncio.get_running_loop()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(30):
            await loop.create_future()
    assert loop.time() == 30


def test_callback_errors_fail_the_test():
    """An exception raised by a loop callback (only logged by asyncio) fails the test."""

    async def main() -> None:
        asyncio.get_running_loop().call_soon(lambda: 1 / 0)
        await asyncio.sleep(0)

    for factory in (None, VirtualTimeLoop):
        with pytest.raises(AssertionError, match="ZeroDivisionError"):
            run_in_loop(main, factory)


@async_test
async def test_async_test_keeps_real_time():
    """async_test still runs on a real-time loop (for tests of real delays)."""
    assert not isinstance(asyncio.get_running_loop(), VirtualTimeLoop)
