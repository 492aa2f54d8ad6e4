"""The ``websockets`` data types and extra exceptions that :mod:`.compat` hands out.

``CloseCode``, ``Headers``, ``Request``, ``Response`` and the exceptions the
``websockets`` API has and the core does not need (``InvalidStatus``,
``InvalidState``). Pure Python, no ``js``.
"""

from __future__ import annotations

import enum
from collections.abc import (
    Iterator,
    Mapping,
)
from dataclasses import dataclass, field

from .exceptions import (
    ConcurrencyError,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    InvalidHandshake,
    InvalidURI,
    PayloadTooBig,
    WebSocketError,
)

__all__ = [
    "EXCEPTIONS",
    "CloseCode",
    "Headers",
    "InvalidState",
    "InvalidStatus",
    "Request",
    "Response",
]


# -- the data types the websockets API hands out --------------------------------------


class CloseCode(enum.IntEnum):
    """Close codes, as ``websockets.frames.CloseCode`` names them.

    A page may send only 1000 and 3000-4999: ``close()`` refuses the others
    with InvalidCloseCode.
    """

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RCVD = 1005
    ABNORMAL_CLOSURE = 1006
    INVALID_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015


class Headers(Mapping[str, str]):
    """HTTP headers, looked up without regard to case (``websockets.datastructures.Headers``).

    Read-only here: the headers a browser lets a page see.
    """

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items = {k.lower(): (k, v) for k, v in (items or {}).items()}

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def get_all(self, key: str) -> list[str]:
        """Every value of header ``key``: one at most here."""
        return [self[key]] if key in self else []

    def raw_items(self) -> Iterator[tuple[str, str]]:
        """The ``(name, value)`` pairs, names as they were given."""
        return iter(self._items.values())

    def __repr__(self) -> str:
        return f"Headers({dict(self.raw_items())!r})"


@dataclass
class Request:
    """The opening request, as far as the page knows it: its path and what it offered.

    The browser adds Host, Origin, User-Agent, cookies, the key and the
    extensions itself and does not tell the page; ``headers`` holds only
    ``Sec-WebSocket-Protocol`` (the subprotocols offered), if any.
    """

    path: str
    headers: Headers = field(default_factory=Headers)


@dataclass
class Response:
    """The handshake's response, as far as the browser exposes it.

    ``status_code`` is 101 (the connection opened; a page never sees another
    status), ``headers`` holds ``Sec-WebSocket-Protocol`` and
    ``Sec-WebSocket-Extensions`` when the server chose any (the browser's
    ``protocol`` and ``extensions``); ``body`` is empty.
    """

    status_code: int = 101
    reason_phrase: str = "Switching Protocols"
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""


# -- exceptions ---------------------------------------------------------------------

# websockets' exceptions we never raise (a page never sees the HTTP exchange or the
# frames), defined so that code importing or catching them runs: (name, bases).
_EXTRA_EXCEPTIONS: list[tuple[str, tuple[str, ...]]] = [
    ("InvalidProxy", ("WebSocketException",)),
    ("SecurityError", ("InvalidHandshake",)),
    ("RequestLineTooLong", ("SecurityError",)),
    ("StatusLineTooLong", ("SecurityError",)),
    ("HeaderLineTooLong", ("SecurityError",)),
    ("TooManyHeaders", ("SecurityError",)),
    ("TooManyFragments", ("WebSocketException",)),
    ("ProxyError", ("InvalidHandshake",)),
    ("InvalidProxyMessage", ("ProxyError",)),
    ("InvalidProxyStatus", ("ProxyError",)),
    ("InvalidMessage", ("InvalidHandshake",)),
    ("InvalidMethod", ("InvalidHandshake",)),
    ("InvalidProtocol", ("InvalidHandshake",)),
    ("InvalidHeader", ("InvalidHandshake",)),
    ("InvalidHeaderFormat", ("InvalidHeader",)),
    ("InvalidHeaderValue", ("InvalidHeader",)),
    ("InvalidOrigin", ("InvalidHeader",)),
    ("InvalidUpgrade", ("InvalidHeader",)),
    ("NegotiationError", ("InvalidHandshake",)),
    ("DuplicateParameter", ("NegotiationError",)),
    ("InvalidParameterName", ("NegotiationError",)),
    ("InvalidParameterValue", ("NegotiationError",)),
    ("ProtocolError", ("WebSocketException",)),
]


class InvalidStatus(InvalidHandshake):
    """The server rejected the handshake with an HTTP status (``websockets``' class).

    Never raised in a browser: a page does not see the status of a rejected
    handshake, only that it failed (ConnectionFailed, also an InvalidHandshake).
    """

    def __init__(self, response: Response) -> None:
        self.response = response
        super().__init__(response)

    def __str__(self) -> str:
        return f"server rejected WebSocket connection: HTTP {self.response.status_code:d}"


class InvalidState(WebSocketError, AssertionError):
    """An operation is not allowed in the connection's state (``websockets``' class)."""


#: Every name of ``websockets.exceptions``, bound to the class that stands for it.
EXCEPTIONS: dict[str, type[BaseException]] = {
    "WebSocketException": WebSocketError,
    "ConnectionClosed": ConnectionClosed,
    "ConnectionClosedOK": ConnectionClosedOK,
    "ConnectionClosedError": ConnectionClosedError,
    "InvalidURI": InvalidURI,
    "InvalidHandshake": InvalidHandshake,
    "InvalidStatus": InvalidStatus,
    "PayloadTooBig": PayloadTooBig,
    "InvalidState": InvalidState,
    "ConcurrencyError": ConcurrencyError,
}
for _name, _bases in _EXTRA_EXCEPTIONS:
    EXCEPTIONS[_name] = type(
        _name,
        tuple(EXCEPTIONS[b] for b in _bases),
        {"__module__": "websockets.exceptions", "__doc__": "Never raised in a browser."},
    )
