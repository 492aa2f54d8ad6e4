"""protocol.py: the backoff schedule, the retry policy, option checks, Heartbeat and timer_delay."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import math
import time

import pytest
from fake_transport import exactly
from websocket_streaming.exceptions import (
    ConcurrencyError,
    ConnectionClosedError,
    ConnectionClosedOK,
    ConnectionFailed,
    InvalidCloseCode,
    InvalidURI,
    PayloadTooBig,
    QueueOverflow,
    SendQueueFull,
    WebSocketError,
)
from websocket_streaming.protocol import (
    RETRY_CLOSE_CODES,
    Heartbeat,
    backoff,
    check_backoff,
    check_count,
    check_seconds,
    should_retry,
)

# -- backoff -----------------------------------------------------------------------


def test_backoff_grows_by_factor_up_to_maximum():
    """With neutral jitter, delays grow by `factor` from `initial` and stay at `maximum`."""
    delays = backoff(min_delay=1.0, factor=2.0, max_delay=10.0, jitter=lambda: 0.5)
    assert list(itertools.islice(delays, 7)) == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


def test_backoff_scales_each_delay_by_jitter():
    """Each delay is the base delay times (0.5 + jitter()), still capped at `maximum`."""
    jitters = iter([0.0, 0.25, 0.5, 0.75, 0.99, 0.0])
    delays = backoff(min_delay=1.0, factor=2.0, max_delay=10.0, jitter=lambda: next(jitters))
    got = list(itertools.islice(delays, 6))
    assert got == pytest.approx([0.5, 1.5, 4.0, 10.0, 10.0, 5.0])


def test_backoff_defaults():
    """The default schedule starts at 0.5 s, grows by 1.618 and stops growing at 30 s."""
    got = list(itertools.islice(backoff(jitter=lambda: 0.5), 12))
    assert got[:3] == pytest.approx([0.5, 0.809, 1.309], rel=1e-3)
    assert got == sorted(got)
    assert got[-1] == 30.0 and got[-3] == 30.0


def test_backoff_default_jitter_stays_in_band():
    """With the default random jitter each delay is within [0.5, 1.5) of its base, max 30."""
    base = list(itertools.islice(backoff(jitter=lambda: 0.5), 40))
    for _ in range(20):
        got = list(itertools.islice(backoff(), 40))
        for delay, mid in zip(got, base, strict=True):
            assert 0.5 * mid <= delay <= min(30.0, 1.5 * mid)
    assert len({next(backoff()) for _ in range(20)}) > 1  # the jitter is random


def test_backoff_takes_no_time(monkeypatch):
    """backoff only computes delays: it never sleeps, so a thousand come at once."""

    def no_sleep(*args):
        raise AssertionError("backoff slept")

    monkeypatch.setattr(time, "sleep", no_sleep)
    monkeypatch.setattr(asyncio, "sleep", no_sleep)
    start = time.perf_counter()
    delays = list(itertools.islice(backoff(), 1000))
    assert time.perf_counter() - start < 0.5
    assert sum(delays) > 1000  # the delays themselves are long


# -- should_retry ------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionFailed("refused"),
        TimeoutError(),
        ConnectionClosedError(1006, ""),
        ConnectionClosedError(1011, "oops"),
    ],
    ids=repr,
)
def test_should_retry_transient_errors(exc):
    """should_retry says yes for a failed handshake, a timeout, or a close by error."""
    assert should_retry(exc) is True


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionClosedOK(1000, ""),
        InvalidURI("bad"),
        InvalidCloseCode("bad"),
        ConcurrencyError("two"),
        WebSocketError("the browser refused"),
        OSError("other"),
        ValueError("bug"),
        RuntimeError("bug"),
        asyncio.CancelledError(),
        KeyboardInterrupt(),
    ],
    ids=repr,
)
def test_should_retry_refuses_everything_else(exc):
    """should_retry says no for a clean close, a bad URL, a bug or a cancellation."""
    assert should_retry(exc) is False


# -- backoff: options and jitter ------------------------------------------------------


def test_backoff_draws_a_fresh_jitter_per_delay():
    """backoff calls jitter() once per delay, so each attempt gets its own random factor."""
    calls: list[int] = []

    def jitter() -> float:
        calls.append(1)
        return 0.0 if len(calls) % 2 else 0.999

    got = list(itertools.islice(backoff(2.0, 100.0, 1.0, jitter), 4))
    assert got == pytest.approx([1.0, 2.998, 1.0, 2.998])
    assert len(calls) == 4


def test_backoff_min_equal_to_max_is_constant():
    """min_delay == max_delay gives a constant schedule (then only the jitter varies it)."""
    got = list(itertools.islice(backoff(2.0, 2.0, 3.0, lambda: 0.5), 5))
    assert got == [2.0] * 5


def test_backoff_never_exceeds_max_delay_even_with_high_jitter():
    """A delay scaled up by the jitter is still capped at max_delay."""
    got = list(itertools.islice(backoff(4.0, 5.0, 2.0, lambda: 0.99), 3))
    assert got == [5.0, 5.0, 5.0]


BAD_SECONDS = [
    (None, TypeError, "must be a number of seconds, not NoneType"),
    (True, TypeError, "must be a number of seconds, not bool"),
    ("1", TypeError, "must be a number of seconds, not str"),
    (-1, ValueError, "must be a finite number >= 0, not -1"),
    (math.nan, ValueError, "must be a finite number >= 0, not nan"),
    (math.inf, ValueError, "must be a finite number >= 0, not inf"),
]


@pytest.mark.parametrize("name", ["min_delay", "max_delay", "factor"])
@pytest.mark.parametrize(("value", "exc_type", "message"), BAD_SECONDS, ids=repr)
def test_backoff_rejects_bad_options(name, value, exc_type, message):
    """backoff() and check_backoff() raise the exact error, naming the bad option, at once."""
    options = {"min_delay": 0.5, "max_delay": 30.0, "factor": 1.5, name: value}
    with pytest.raises(exc_type, match=exactly(f"{name} {message}")):
        backoff(**options)
    with pytest.raises(exc_type, match=exactly(f"{name} {message}")):
        check_backoff(**options)


def test_backoff_rejects_inconsistent_options():
    """max_delay below min_delay, or factor below 1, raise ValueError with the exact message."""
    with pytest.raises(
        ValueError, match=r"^max_delay \(1\.0\) must not be below min_delay \(2\.0\)$"
    ):
        backoff(min_delay=2.0, max_delay=1.0)
    with pytest.raises(ValueError, match=r"^factor must be at least 1, not 0\.5$"):
        backoff(factor=0.5)
    check_backoff(0, 0, 1)  # the extremes are allowed


# -- check_seconds / check_count -----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "exc_type", "message"),
    [
        (True, TypeError, "t must be a number of seconds or None, not bool"),
        ("5", TypeError, "t must be a number of seconds or None, not str"),
        (-0.1, ValueError, "t must be a finite number >= 0, not -0.1"),
        (math.nan, ValueError, "t must be a finite number >= 0, not nan"),
        (-math.inf, ValueError, "t must be a finite number >= 0, not -inf"),
    ],
    ids=repr,
)
def test_check_seconds_rejects(value, exc_type, message):
    """check_seconds raises TypeError for a non-number (bool too), ValueError out of range."""
    with pytest.raises(exc_type, match=exactly(message)):
        check_seconds("t", value)


def test_check_seconds_accepts():
    """check_seconds accepts None (where allowed), 0, ints and finite floats."""
    for value in (None, 0, 0.0, 5, 1e9):
        check_seconds("t", value)
    with pytest.raises(TypeError, match=exactly("t must be a number of seconds, not NoneType")):
        check_seconds("t", None, allow_none=False)


@pytest.mark.parametrize(
    ("value", "exc_type", "message"),
    [
        (False, TypeError, "n must be an int or None, not bool"),
        (1.0, TypeError, "n must be an int or None, not float"),
        ("1", TypeError, "n must be an int or None, not str"),
        (math.inf, TypeError, "n must be an int or None, not float"),
        (-1, ValueError, "n must be >= 0, not -1"),
    ],
    ids=repr,
)
def test_check_count_rejects(value, exc_type, message):
    """check_count raises TypeError for a non-int (bool and float too), ValueError if negative."""
    with pytest.raises(exc_type, match=exactly(message)):
        check_count("n", value)


def test_check_count_accepts():
    """check_count accepts None (where allowed), 0 and positive ints."""
    for value in (None, 0, 1, 1 << 40):
        check_count("n", value)
    with pytest.raises(TypeError, match=exactly("n must be an int, not NoneType")):
        check_count("n", None, allow_none=False)


# -- Heartbeat ---------------------------------------------------------------------


def test_heartbeat_defaults():
    """A Heartbeat sends "ping", expects "pong", and waits one interval for it by default."""
    heartbeat = Heartbeat(10)
    assert (heartbeat.ping, heartbeat.pong, heartbeat.timeout) == ("ping", "pong", None)
    assert heartbeat.reply_timeout == 10
    assert Heartbeat(10, timeout=2.5).reply_timeout == 2.5
    assert Heartbeat(1, ping=b"\x00", pong=bytes.isascii).pong is bytes.isascii


@pytest.mark.parametrize(
    ("kwargs", "exc_type", "message"),
    [
        (
            {"interval": None},
            TypeError,
            "heartbeat interval must be a number of seconds, not NoneType",
        ),
        ({"interval": True}, TypeError, "heartbeat interval must be a number of seconds, not bool"),
        ({"interval": "1"}, TypeError, "heartbeat interval must be a number of seconds, not str"),
        (
            {"interval": math.nan},
            ValueError,
            "heartbeat interval must be a finite number >= 0, not nan",
        ),
        (
            {"interval": math.inf},
            ValueError,
            "heartbeat interval must be a finite number >= 0, not inf",
        ),
        ({"interval": -1}, ValueError, "heartbeat interval must be a finite number >= 0, not -1"),
        ({"interval": 0}, ValueError, "heartbeat interval must be > 0, not 0"),
        ({"timeout": -1}, ValueError, "heartbeat timeout must be a finite number >= 0, not -1"),
        (
            {"timeout": math.nan},
            ValueError,
            "heartbeat timeout must be a finite number >= 0, not nan",
        ),
        (
            {"timeout": False},
            TypeError,
            "heartbeat timeout must be a number of seconds or None, not bool",
        ),
        ({"ping": 1}, TypeError, "heartbeat ping must be str or bytes, not int"),
        ({"ping": None}, TypeError, "heartbeat ping must be str or bytes, not NoneType"),
        ({"pong": 1}, TypeError, "heartbeat pong must be str, bytes or a callable, not int"),
    ],
    ids=repr,
)
def test_heartbeat_rejects_bad_fields(kwargs, exc_type, message):
    """Heartbeat raises the exact TypeError or ValueError for every bad field."""
    with pytest.raises(exc_type, match=exactly(message)):
        Heartbeat(**{"interval": 1.0, **kwargs})


# -- should_retry: the whole table -----------------------------------------------------


@pytest.mark.parametrize(
    ("code", "retry"),
    [
        (1000, False),
        (1001, True),
        (1002, False),
        (1003, False),
        (1005, False),
        (1006, True),
        (1007, False),
        (1008, False),
        (1009, False),
        (1010, False),
        (1011, True),
        (1012, True),
        (1013, True),
        (1014, True),
        (1015, False),
        (3000, False),
        (4000, False),
        (4999, False),
    ],
)
def test_should_retry_by_close_code(code, retry):
    """should_retry retries exactly RETRY_CLOSE_CODES, whether the close was OK or Error."""
    for cls in (ConnectionClosedOK, ConnectionClosedError):
        assert should_retry(cls(code, "r")) is retry
    assert (code in RETRY_CLOSE_CODES) is retry


def test_retry_close_codes():
    """RETRY_CLOSE_CODES is exactly 1001, 1006 and 1011-1014."""
    assert frozenset({1001, 1006, 1011, 1012, 1013, 1014}) == RETRY_CLOSE_CODES


@pytest.mark.parametrize(
    ("exc", "retry"),
    [
        (ConnectionFailed("refused"), True),
        (TimeoutError(), True),
        (TimeoutError(), True),
        (PayloadTooBig(10, 5), False),
        (QueueOverflow((1, 2), (1, None)), False),
        (SendQueueFull("full"), False),
        (ConnectionError("reset"), False),
    ],
    ids=repr,
)
def test_should_retry_by_exception_type(exc, retry):
    """should_retry by type: handshake failures and timeouts yes; our own limits no."""
    assert should_retry(exc) is retry


# -- timer_delay -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delay", "armed"),
    [(None, None), (0, 0), (0.0, 0.0), (1e-9, 0.01), (0.002, 0.01), (0.01, 0.01), (5.0, 5.0)],
)
def test_timer_delay_never_arms_a_timer_in_the_past(delay, armed):
    """timer_delay keeps None and 0 (asyncio's call_soon path) and lifts a tiny positive
    delay to MIN_TIMER, so Pyodide's call_at never computes a negative delay."""
    from websocket_streaming.protocol import MIN_TIMER, timer_delay

    assert MIN_TIMER == 0.01
    assert timer_delay(delay) == armed


def test_heartbeat_is_frozen():
    """A Heartbeat cannot be changed once made (a stream reads it when it opens)."""
    heartbeat = Heartbeat(10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        heartbeat.interval = 1  # type: ignore[misc]
