"""protocol.py: the pure rules (states, URLs, close codes, backoff, retry policy), no I/O."""

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
    OK_CLOSE_CODES,
    RETRY_CLOSE_CODES,
    Heartbeat,
    State,
    backoff,
    check_backoff,
    check_close,
    check_count,
    check_seconds,
    check_uri,
    closed_exception,
    should_retry,
)

# -- State -----------------------------------------------------------------------


def test_state_values_are_ready_state():
    """State's values are the browser's readyState numbers 0-3."""
    assert [(s.name, int(s)) for s in State] == [
        ("CONNECTING", 0),
        ("OPEN", 1),
        ("CLOSING", 2),
        ("CLOSED", 3),
    ]
    assert State(1) is State.OPEN


# -- check_uri ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "ws://example.com",
        "wss://example.com/",
        "ws://example.com/chat?room=1&x=%20",
        "ws://127.0.0.1:8765",
        "wss://[::1]:443/path",
        "ws://user:pw@example.com:80/",
        "WSS://EXAMPLE.COM/",
        "ws://localhost:0/",
        "ws://localhost:65535/",
    ],
)
def test_check_uri_accepts_websocket_urls(uri):
    """check_uri returns a valid ws:// or wss:// URL unchanged (the same object)."""
    assert check_uri(uri) is uri


@pytest.mark.parametrize(
    "uri", ["ftp://example.com/", "file:///tmp/x", "javascript:alert(1)", "data:,x", "blob:x"]
)
def test_check_uri_rejects_other_schemes(uri):
    """check_uri rejects a URL whose scheme is not ws, wss, http or https, naming the URL."""
    for base in (None, "http://page.test/app/"):
        with pytest.raises(InvalidURI) as info:
            check_uri(uri, base)
        assert repr(uri) in str(info.value)
        assert "ws://" in str(info.value)


@pytest.mark.parametrize("uri", ["example.com", "//example.com/", "/feed", "feed?x=1", ""])
def test_check_uri_rejects_relative_without_base(uri):
    """Without a page location (plain CPython) a relative URL is refused, naming the URL."""
    with pytest.raises(InvalidURI, match="relative URL") as info:
        check_uri(uri)
    assert repr(uri) in str(info.value)


@pytest.mark.parametrize(
    ("uri", "base", "expected"),
    [
        ("/feed", "http://page.test:8000/app/index.html", "ws://page.test:8000/feed"),
        ("feed?x=1", "http://page.test/app/index.html", "ws://page.test/app/feed?x=1"),
        ("../up", "https://page.test/a/b/c.html", "wss://page.test/a/up"),
        ("//other.test:81/x", "https://page.test/", "wss://other.test:81/x"),
        ("?q", "http://page.test/app/p.html?old", "ws://page.test/app/p.html?q"),
        ("http://h.test/x", None, "ws://h.test/x"),
        ("HTTPS://h.test:444/x", None, "wss://h.test:444/x"),
        ("https://h.test/", "http://page.test/", "wss://h.test/"),
        ("ws://h.test/x", "https://page.test/", "ws://h.test/x"),
        ("/worker-feed", "http://page.test/tests/worker.js", "ws://page.test/worker-feed"),
    ],
)
def test_check_uri_resolves_like_the_browser(uri, base, expected):
    """Relative URLs resolve against the base; http -> ws, https -> wss (WHATWG)."""
    assert check_uri(uri, base) == expected


@pytest.mark.parametrize("uri", ["/feed#top", "http://h/#", "#x"])
def test_check_uri_rejects_fragment_before_resolving(uri):
    """A #fragment is refused in relative and http URLs too, as the browser does."""
    with pytest.raises(InvalidURI, match="fragment"):
        check_uri(uri, "http://page.test/")


@pytest.mark.parametrize(
    "uri", ["ws://", "wss:///path", "ws://:8765/", "ws://@/", "ws://?q", "ws:example.com"]
)
def test_check_uri_rejects_no_host(uri):
    """check_uri rejects a ws:// URL without a host."""
    with pytest.raises(InvalidURI, match="has no host"):
        check_uri(uri)


@pytest.mark.parametrize("uri", ["ws://example.com/#top", "ws://example.com/#", "wss://h/?a=1#"])
def test_check_uri_rejects_fragment(uri):
    """check_uri rejects a URL with a #fragment, even an empty one."""
    with pytest.raises(InvalidURI, match="fragment"):
        check_uri(uri)


@pytest.mark.parametrize("uri", [None, b"ws://example.com/", 42, ["ws://example.com/"]])
def test_check_uri_rejects_non_str(uri):
    """check_uri rejects anything but a str, naming its type."""
    with pytest.raises(InvalidURI, match=f"not {type(uri).__name__}$"):
        check_uri(uri)


@pytest.mark.parametrize(
    "uri", ["ws://example.com:99999/", "ws://example.com:abc/", "ws://h:-1/", "ws://[::1/"]
)
def test_check_uri_rejects_bad_port_or_host(uri):
    """check_uri turns urllib's ValueError for a bad port or IPv6 host into InvalidURI."""
    with pytest.raises(InvalidURI, match="is not a valid URL") as info:
        check_uri(uri)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_invalid_uri_is_a_value_error():
    """A bad URL can be caught as ValueError too."""
    with pytest.raises(ValueError):
        check_uri("ftp://example.com/")


# -- check_close -------------------------------------------------------------------


@pytest.mark.parametrize("code", [1000, 3000, 3999, 4000, 4999])
def test_check_close_accepts_allowed_codes(code):
    """check_close accepts 1000 and 3000-4999, the codes a page may send."""
    assert check_close(code, "") is None


@pytest.mark.parametrize("code", [0, 999, 1001, 1005, 1006, 1011, 2999, 5000, 65535, -1000])
def test_check_close_rejects_other_codes(code):
    """check_close rejects every code but 1000 and 3000-4999, naming it."""
    with pytest.raises(InvalidCloseCode, match=f"close code {code} is not allowed"):
        check_close(code, "")


@pytest.mark.parametrize("code", [True, False, "1000", 1000.0, None])
def test_check_close_rejects_non_int_codes(code):
    """check_close rejects a code that is not an int (bool included), naming its type."""
    with pytest.raises(InvalidCloseCode, match=f"must be an int, not {type(code).__name__}"):
        check_close(code, "")


@pytest.mark.parametrize(
    "reason",
    ["", "a" * 123, "é" * 61 + "a", "€" * 41, "😀" * 30 + "abc", "\ud800" * 41],
    ids=["empty", "ascii", "2-byte", "3-byte", "4-byte", "lone-surrogate"],
)
def test_check_close_accepts_123_byte_reason(reason):
    """check_close accepts a reason of up to 123 bytes of UTF-8, however many characters."""
    assert len(reason.encode("utf-8", "surrogatepass")) <= 123
    assert check_close(1000, reason) is None


@pytest.mark.parametrize(
    "reason",
    ["a" * 124, "é" * 62, "€" * 41 + "a", "😀" * 31, "\ud800" * 41 + "a"],
    ids=["ascii", "2-byte", "3-byte", "4-byte", "lone-surrogate"],
)
def test_check_close_rejects_124_byte_reason(reason):
    """check_close rejects a reason of 124 bytes of UTF-8, even with fewer characters."""
    assert len(reason.encode("utf-8", "surrogatepass")) == 124
    with pytest.raises(InvalidCloseCode, match="124 bytes"):
        check_close(4000, reason)


@pytest.mark.parametrize("reason", [None, b"bye", 1])
def test_check_close_rejects_non_str_reason(reason):
    """check_close rejects a reason that is not a str, naming its type."""
    with pytest.raises(InvalidCloseCode, match=f"must be a str, not {type(reason).__name__}"):
        check_close(1000, reason)


def test_invalid_close_code_is_a_value_error():
    """A bad close code can be caught as ValueError too."""
    with pytest.raises(ValueError):
        check_close(1001, "")


# -- closed_exception ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "was_clean", "cls"),
    [
        (1000, True, ConnectionClosedOK),
        (1001, True, ConnectionClosedOK),
        (1005, True, ConnectionClosedOK),
        (1000, False, ConnectionClosedError),
        (1001, False, ConnectionClosedError),
        (1005, False, ConnectionClosedError),
        (1006, False, ConnectionClosedError),
        (1006, True, ConnectionClosedError),
        (1011, True, ConnectionClosedError),
        (3000, True, ConnectionClosedError),
        (4000, True, ConnectionClosedError),
    ],
)
def test_closed_exception_classifies(code, was_clean, cls):
    """closed_exception is OK only for a clean 1000/1001/1005, Error otherwise."""
    reason = "" if code == 1005 else "why"  # 1005 with a reason was on the wire: an error
    exc = closed_exception(code, reason, was_clean)
    assert type(exc) is cls
    assert (exc.code, exc.reason) == (code, reason)


def test_ok_close_codes():
    """OK_CLOSE_CODES is exactly 1000, 1001 and 1005."""
    assert frozenset({1000, 1001, 1005}) == OK_CLOSE_CODES


@pytest.mark.parametrize(
    ("code", "reason", "cls"),
    [
        (1005, "", ConnectionClosedOK),  # an empty close frame: legitimate, in every browser
        (1005, "bad", ConnectionClosedError),  # 1005 on the wire (Firefox passes it through)
        (1006, "", ConnectionClosedError),  # reserved for reporting, never on the wire
        (1015, "", ConnectionClosedError),
        (999, "bad", ConnectionClosedError),  # out of range: Chromium and Firefox report it clean
        (0, "", ConnectionClosedError),
        (1004, "", ConnectionClosedError),  # reserved
        (1016, "", ConnectionClosedError),  # unassigned: 1016-2999
        (2999, "", ConnectionClosedError),
        (5000, "bad", ConnectionClosedError),  # >= 5000: out of range
        (65535, "", ConnectionClosedError),
        (1000, "", ConnectionClosedOK),
        (1001, "going", ConnectionClosedOK),
    ],
)
def test_codes_never_allowed_on_the_wire_are_errors_even_when_clean(code, reason, cls):
    """A clean close with a code that may never be sent (1006, 1015, out of range, unassigned)
    or 1005 with a reason (so not an empty frame) is an error close, whatever the browser's
    wasClean said; an empty close frame (the browser's 1005, no reason) stays OK."""
    exc = closed_exception(code, reason, True)
    assert type(exc) is cls
    assert (exc.code, exc.reason) == (code, reason)


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
