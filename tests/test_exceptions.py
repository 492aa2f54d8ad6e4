"""exceptions.py: the exception tree, its builtin bases, messages and attributes."""

from __future__ import annotations

import builtins
import copy
import pickle
import re

import pytest
from websocket_streaming import exceptions
from websocket_streaming.exceptions import (
    CLOSE_CODE_NAMES,
    ConcurrencyError,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    ConnectionFailed,
    InvalidCloseCode,
    InvalidURI,
    PayloadTooBig,
    QueueOverflow,
    ReconnectFailed,
    SendQueueFull,
    WebSocketError,
    describe_close,
)


def _drawn_tree() -> dict[str, tuple[str | None, str | None]]:
    """Parse the tree in the module docstring: name -> (drawn parent, builtin in parens)."""
    doc = exceptions.__doc__
    assert doc is not None
    tree: dict[str, tuple[str | None, str | None]] = {}
    stack: list[tuple[int, str]] = []
    for line in doc.splitlines():
        match = re.match(r"^(\s*(?:[│├└─ ]*))(\w+)(?: \((\w+)\))?(?:\s|$)", line)
        if not match or not line.startswith("    "):
            continue
        depth = len(match.group(1))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        tree[match.group(2)] = (stack[-1][1] if stack else None, match.group(3))
        stack.append((depth, match.group(2)))
    return tree


def test_docstring_tree_matches_the_classes():
    """The tree drawn in exceptions.py's docstring is exactly the real class tree."""
    tree = _drawn_tree()
    assert set(tree) == set(exceptions.__all__)
    for name, (parent, builtin) in tree.items():
        cls = getattr(exceptions, name)
        package_bases = [b.__name__ for b in cls.__bases__ if b.__module__ == exceptions.__name__]
        assert package_bases == ([parent] if parent else []), name
        if builtin is not None:
            assert issubclass(cls, getattr(builtins, builtin)), name
    assert tree["WebSocketError"] == (None, None)


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (ConnectionFailed, OSError),
        (InvalidURI, ValueError),
        (InvalidCloseCode, ValueError),
        (ConcurrencyError, RuntimeError),
    ],
)
def test_errors_are_also_builtin_errors(cls, builtin):
    """Errors that are also OSError, ValueError or RuntimeError are caught as those."""
    exc = cls("message")
    assert isinstance(exc, builtin)
    assert isinstance(exc, WebSocketError)
    assert str(exc) == "message"
    with pytest.raises(builtin):
        raise exc


@pytest.mark.parametrize("name", exceptions.__all__)
def test_every_exception_is_a_websocket_error(name):
    """Every exception in the package derives from WebSocketError, so one except catches all."""
    assert issubclass(getattr(exceptions, name), WebSocketError)


def test_connection_closed_is_not_a_builtin_error():
    """ConnectionClosed is not an OSError/ValueError/RuntimeError: generic handlers miss it."""
    for cls in (ConnectionClosed, ConnectionClosedOK, ConnectionClosedError):
        assert not issubclass(cls, (OSError, ValueError, RuntimeError))
    assert issubclass(ConnectionClosedOK, ConnectionClosed)
    assert issubclass(ConnectionClosedError, ConnectionClosed)
    assert not issubclass(ConnectionClosedOK, ConnectionClosedError)


def test_connection_closed_attributes():
    """ConnectionClosed keeps the code and reason as attributes and as args."""
    exc = ConnectionClosedError(4001, "go away")
    assert exc.code == 4001
    assert exc.reason == "go away"
    assert exc.args == (4001, "go away")


@pytest.mark.parametrize(
    ("code", "reason", "text"),
    [
        (1000, "bye", "connection closed: 1000 (normal closure) 'bye'"),
        (1000, "", "connection closed: 1000 (normal closure)"),
        (1001, "", "connection closed: 1001 (going away)"),
        (1005, "", "connection closed: 1005 (no status received)"),
        (1006, "", "connection closed: 1006 (abnormal closure)"),
        (1011, "it's broken", 'connection closed: 1011 (internal error) "it\'s broken"'),
        (3000, "x", "connection closed: 3000 (registered) 'x'"),
        (3999, "", "connection closed: 3999 (registered)"),
        (4000, "", "connection closed: 4000 (private use)"),
        (4999, "", "connection closed: 4999 (private use)"),
        (1004, "", "connection closed: 1004 (unknown)"),
        (2000, "", "connection closed: 2000 (unknown)"),
        (5000, "", "connection closed: 5000 (unknown)"),
    ],
)
def test_connection_closed_str_names_the_code(code, reason, text):
    """str(ConnectionClosed) names the close code and quotes the reason, if any."""
    assert str(ConnectionClosedOK(code, reason)) == text
    assert str(ConnectionClosedError(code, reason)) == text


def test_close_code_names_cover_the_registry():
    """Every close code from 1000 to 1015 except 1004 has its RFC name."""
    assert sorted(CLOSE_CODE_NAMES) == [c for c in range(1000, 1016) if c != 1004]
    assert describe_close(1015, "") == "1015 (TLS handshake failure)"
    assert describe_close(1012, "r") == "1012 (service restart) 'r'"


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionClosedOK(1000, "bye"),
        ConnectionClosedError(1006, ""),
        ConnectionFailed("could not connect"),
        InvalidURI("bad"),
        InvalidCloseCode("bad"),
        ConcurrencyError("two"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_exceptions_pickle_and_copy(exc):
    """Exceptions survive pickling and copying with their type, message and attributes."""
    for clone in (pickle.loads(pickle.dumps(exc)), copy.copy(exc)):
        assert type(clone) is type(exc)
        assert str(clone) == str(exc)
        assert clone.args == exc.args
        if isinstance(exc, ConnectionClosed):
            assert (clone.code, clone.reason) == (exc.code, exc.reason)


# -- the exceptions for limits and reconnection ------------------------------------------


def test_payload_too_big():
    """PayloadTooBig is a 1009 ConnectionClosedError with the size and the limit."""
    exc = PayloadTooBig(11, 10)
    assert isinstance(exc, ConnectionClosedError)
    assert (exc.size, exc.max_size, exc.code) == (11, 10, 1009)
    assert exc.reason == "message of 11 bytes is over max_size=10"
    assert (
        str(exc)
        == "connection closed: 1009 (message too big) 'message of 11 bytes is over max_size=10'"
    )


def test_queue_overflow():
    """QueueOverflow is a 1008 ConnectionClosedError with what was held and the bounds."""
    exc = QueueOverflow((3, 120), (3, None))
    assert isinstance(exc, ConnectionClosedError)
    assert (exc.size, exc.limit, exc.code) == ((3, 120), (3, None), 1008)
    assert exc.reason == (
        "the reader fell behind: 3 messages / 120 bytes unread; max_queue=3, max_queue_bytes=None"
    )


def test_reconnect_failed():
    """ReconnectFailed is a 1006 ConnectionClosedError with the attempts and a copy of unsent."""
    unsent: list[str | bytes] = ["a", b"b"]
    exc = ReconnectFailed(4, unsent)
    unsent.append("c")
    assert isinstance(exc, ConnectionClosedError)
    assert (exc.attempts, exc.unsent, exc.code) == (4, ["a", b"b"], 1006)
    assert exc.reason == "gave up after 4 failed attempts to reconnect"
    assert ReconnectFailed(1).unsent == []


def test_send_queue_full_is_a_buffer_error():
    """SendQueueFull is a BufferError, not a ConnectionClosed: the stream is still usable."""
    exc = SendQueueFull("full")
    assert isinstance(exc, BufferError) and isinstance(exc, WebSocketError)
    assert not isinstance(exc, ConnectionClosed)
    assert str(exc) == "full"


@pytest.mark.parametrize(
    "exc",
    [PayloadTooBig(11, 10), QueueOverflow((3, 120), (3, 100)), ReconnectFailed(4, ["a", b"b"])],
    ids=lambda e: type(e).__name__,
)
def test_new_exceptions_pickle_with_their_attributes(exc):
    """The limit and reconnect exceptions survive pickling and copying with every attribute."""
    for clone in (pickle.loads(pickle.dumps(exc)), copy.copy(exc)):
        assert type(clone) is type(exc)
        assert vars(clone) == vars(exc)
        assert str(clone) == str(exc)


# -- the close frames, as the websockets library reports them ------------------------------


def test_close_frames_rcvd_and_sent():
    """rcvd and sent are the close frame (a Close, printed as describe_close prints it),
    the same one both ways since a browser echoes it; None when none arrived (1006);
    rcvd_then_sent is None, as a browser does not say."""
    exc = ConnectionClosedOK(1000, "bye")
    assert exc.rcvd == exceptions.Close(1000, "bye") == exc.sent
    assert str(exc.rcvd) == "1000 (normal closure) 'bye'"
    assert exc.rcvd_then_sent is None
    assert str(ConnectionClosedError(1005, "").sent) == "1005 (no status received)"
    dropped = ConnectionClosedError(1006, "")
    assert (dropped.rcvd, dropped.sent, dropped.rcvd_then_sent) == (None, None, None)
    assert ConnectionClosedError(1007, "").rcvd == exceptions.Close(1007, "")
