"""The one retry engine: after a failed connection or attempt, try again or stop.

``async for ws in connect(url)``, :class:`~websocket_streaming.ReconnectingStream`
and the ``websockets``-compatible ``async for`` all ask a :class:`Retry` what to do
after each failure; only how they wait and what they raise at the end is theirs.
Pure Python: no event loop, no clock, no browser.
"""

from __future__ import annotations

import asyncio
import logging
import random
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager

from .options import DEFAULTS, check_count
from .protocol import backoff, check_backoff

__all__ = ["Retry", "logger", "retrying"]

#: The library's logger. Silent unless the application configures logging
#: (``logging.basicConfig(level=logging.INFO)``), as in the ``websockets`` library.
logger = logging.getLogger("websocket_streaming")


class Retry:
    """Whether and when to try again after a failure.

    ``policy(exc)`` decides (True: retry). It may also raise, which ends the
    retrying with that exception (the ``websockets``-style ``process_exception``
    that returns another exception does so). The delays come from
    :func:`~websocket_streaming.protocol.backoff` with ``min_delay``,
    ``max_delay``, ``factor``, or from ``delays()`` when given; they start
    again after :meth:`succeeded`. ``max_retries`` failures in a row are
    retried; one more ends it (None: never).

    Raises:
        TypeError / ValueError: a backoff parameter or ``max_retries`` is of the
            wrong type or out of range.
    """

    def __init__(
        self,
        policy: Callable[[BaseException], bool],
        *,
        min_delay: float = DEFAULTS.min_delay,
        max_delay: float = DEFAULTS.max_delay,
        factor: float = DEFAULTS.factor,
        max_retries: int | None = DEFAULTS.max_retries,
        delays: Callable[[], Iterator[float]] | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        check_backoff(min_delay, max_delay, factor)
        check_count("max_retries", max_retries)
        self.policy = policy
        self.max_retries = max_retries
        self._delays_factory = delays or (lambda: backoff(min_delay, max_delay, factor, jitter))
        self._delays: Iterator[float] | None = None
        #: Failed attempts since the last success.
        self.failures = 0
        #: Whether the last :meth:`failed` stopped because of ``max_retries``.
        self.exhausted = False

    def succeeded(self) -> None:
        """A connection opened: the count and the delays start again."""
        self.failures = 0
        self._delays = None

    def failed(
        self, exc: BaseException, what: str = "connect failed", *, attempt: bool = True
    ) -> float | None:
        """The seconds to wait before the next attempt after ``exc``, or None to stop
        (the policy declined, or ``max_retries`` is reached: then ``exhausted``).
        ``attempt=False``: an open connection ended, which is not a failed attempt
        (not counted against ``max_retries``). Logs the decision, ``what`` saying
        what failed.

        Raises:
            Exception: what the policy raised.
        """
        self.exhausted = False
        if not self.policy(exc):
            logger.info("not retrying after %s", _describe(exc))
            return None
        self.failures += attempt
        if attempt and self.max_retries is not None and self.failures > self.max_retries:
            self.exhausted = True
            logger.warning(
                "giving up after %d failed attempts in a row: %s", self.failures, _describe(exc)
            )
            return None
        if self._delays is None:
            self._delays = self._delays_factory()
        delay = next(self._delays)
        logger.info("%s; reconnecting in %.1f seconds: %s", what, delay, _describe(exc))
        return delay


async def retrying[T: AbstractAsyncContextManager[object]](
    open_one: Callable[[], Awaitable[T]], retry: Retry
) -> AsyncIterator[T]:
    """Yield a new connection per iteration, each entered (``async with``: closed when the
    loop body is done with it); failures are retried after ``retry``'s delays, and the
    first one it stops on is raised. The loop of ``async for ws in connect(url)``.

    Raises:
        Exception: the failure ``retry`` stops on (or what its policy raised).
    """
    while True:
        try:
            conn = await open_one()
            retry.succeeded()
            async with conn:
                yield conn
        except Exception as exc:
            delay = retry.failed(exc)
            if delay is None:
                raise
            await asyncio.sleep(delay)


def _describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)).strip()
