"""connection.py: WebSocketStream's options, checked with exact errors before anything opens."""

from __future__ import annotations

import math

import pytest
from fake_transport import FakeTransport, exactly
from test_connection import URL
from websocket_streaming import (
    WebSocketStream,
)

# -- options ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "exc_type", "message"),
    [
        ("write_limit", None, TypeError, "write_limit must be an int, not NoneType"),
        ("write_limit", -1, ValueError, "write_limit must be >= 0, not -1"),
        ("close_timeout", -1, ValueError, "close_timeout must be a finite number >= 0, not -1"),
        (
            "close_timeout",
            math.nan,
            ValueError,
            "close_timeout must be a finite number >= 0, not nan",
        ),
        (
            "close_timeout",
            math.inf,
            ValueError,
            "close_timeout must be a finite number >= 0, not inf",
        ),
        (
            "close_timeout",
            True,
            TypeError,
            "close_timeout must be a number of seconds or None, not bool",
        ),
        (
            "close_timeout",
            "5",
            TypeError,
            "close_timeout must be a number of seconds or None, not str",
        ),
        ("max_size", -1, ValueError, "max_size must be >= 0, not -1"),
        ("max_size", 1.5, TypeError, "max_size must be an int or None, not float"),
        ("max_size", True, TypeError, "max_size must be an int or None, not bool"),
        ("max_queue", -1, ValueError, "max_queue must be >= 0, not -1"),
        ("max_queue", math.inf, TypeError, "max_queue must be an int or None, not float"),
        ("max_queue", "1", TypeError, "max_queue must be an int or None, not str"),
        ("max_queue_bytes", -1, ValueError, "max_queue_bytes must be >= 0, not -1"),
        ("max_queue_bytes", False, TypeError, "max_queue_bytes must be an int or None, not bool"),
        ("idle_timeout", 0, ValueError, "idle_timeout must be > 0 (or None for no idle timeout)"),
        ("idle_timeout", -1, ValueError, "idle_timeout must be a finite number >= 0, not -1"),
        (
            "idle_timeout",
            math.nan,
            ValueError,
            "idle_timeout must be a finite number >= 0, not nan",
        ),
        (
            "idle_timeout",
            True,
            TypeError,
            "idle_timeout must be a number of seconds or None, not bool",
        ),
        (
            "on_overflow",
            "x",
            ValueError,
            "on_overflow must be one of ('close', 'drop-oldest'), not 'x'",
        ),
        (
            "on_overflow",
            None,
            ValueError,
            "on_overflow must be one of ('close', 'drop-oldest'), not None",
        ),
        ("heartbeat", 30, TypeError, "heartbeat must be a Heartbeat or None, not int"),
    ],
    ids=repr,
)
def test_options_are_validated(option, value, exc_type, message):
    """WebSocketStream raises the exact TypeError/ValueError for a bad option, touching nothing."""
    transport = FakeTransport(URL)
    with pytest.raises(exc_type, match=exactly(message)):
        WebSocketStream(URL, transport, **{option: value})
    assert transport.on_event is not None and transport.close_calls == []
