"""The ``websockets`` data types and extra exceptions that :mod:`.compat` hands out.

``CloseCode``, ``Opcode``, ``Side``, ``Headers`` (and ``HeadersLike``,
``MultipleValuesError``), ``Request``, ``Response`` and the exceptions the
``websockets`` API has and the core does not need (``InvalidStatus``,
``InvalidState``...). Pure Python, no ``js``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import (
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
)
from dataclasses import dataclass, field
from typing import Any, Protocol

from .compat_refused import refused_attribute
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
    "DEPRECATED_EXCEPTIONS",
    "EXCEPTIONS",
    "CloseCode",
    "Headers",
    "HeadersLike",
    "InvalidState",
    "InvalidStatus",
    "MultipleValuesError",
    "Opcode",
    "Request",
    "Response",
    "Side",
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


class MultipleValuesError(LookupError):
    """``headers[name]`` found several values: use ``headers.get_all(name)``."""

    def __str__(self) -> str:
        # As KeyError: the bare name in quotes.
        return repr(self.args[0]) if len(self.args) == 1 else super().__str__()


#: Header values with no control characters but tab: what websockets lets one set.
_valid_header_value = re.compile(r"[\x09\x20-\x7e\x80-\xff]*").fullmatch


class Headers(MutableMapping[str, str]):
    """HTTP headers, looked up without regard to case (``websockets.datastructures.Headers``).

    As in ``websockets``: a name may occur several times; ``headers[name]``
    returns its one value, raises KeyError if none and MultipleValuesError if
    several; setting appends a value, deleting removes all of them;
    :meth:`get_all` and :meth:`raw_items` see every value. Built from a
    Headers, a mapping, an iterable of ``(name, value)`` pairs and/or keywords.

    Raises:
        InvalidHeaderValue: a value set holds a control character (a
            hardening ``websockets`` does too).
    """

    __slots__ = ("_dict", "_list")

    def __init__(self, *args: HeadersLike, **kwargs: str) -> None:
        self._dict: dict[str, list[str]] = {}
        self._list: list[tuple[str, str]] = []
        self.update(*args, **kwargs)

    def __str__(self) -> str:
        return "".join(f"{key}: {value}\r\n" for key, value in self._list) + "\r\n"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"

    def copy(self) -> Headers:
        """A copy: changing it leaves this one as it is."""
        copy = type(self)()
        for key, value in self._list:
            copy.set_insecure(key, value)  # checked when they were set
        return copy

    def serialize(self) -> bytes:
        """The header lines and the blank line after them, in ISO-8859-1 (as ``websockets``)."""
        return str(self).encode("iso-8859-1")

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __getitem__(self, key: str) -> str:
        values = self._dict[key.lower()]
        if len(values) > 1:
            raise MultipleValuesError(key)
        return values[0]

    def __setitem__(self, key: str, value: str) -> None:
        if not _valid_header_value(str(value)):
            raise EXCEPTIONS["InvalidHeaderValue"](key, value)
        self.set_insecure(key, value)

    def __delitem__(self, key: str) -> None:
        lower = key.lower()
        del self._dict[lower]
        self._list = [(k, v) for k, v in self._list if k.lower() != lower]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return self._dict == {key: other.get_all(key) for key in other}

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dict

    def clear(self) -> None:
        """Remove every header."""
        self._dict = {}
        self._list = []

    def update(self, *args: HeadersLike, **kwargs: str) -> None:
        """Add the headers of Headers, mappings, ``(name, value)`` pairs and/or keywords."""
        unpacked = [arg.raw_items() if isinstance(arg, Headers) else arg for arg in args]
        super().update(*unpacked, **kwargs)

    def get_all(self, key: str) -> list[str]:
        """Every value of header ``key``, in order; empty if none."""
        return self._dict.get(key.lower(), [])

    def raw_items(self) -> Iterator[tuple[str, str]]:
        """Every ``(name, value)`` pair, names as they were given, in order."""
        return iter(self._list)

    def set_insecure(self, key: str, value: str) -> None:
        """Add a value without checking it for control characters."""
        self._dict.setdefault(key.lower(), []).append(value)
        self._list.append((key, value))


class _KeysAndGetItem(Protocol):
    """A dict-like object: ``keys()`` and ``[key]``."""

    def keys(self) -> Iterable[str]: ...

    def __getitem__(self, key: str) -> str: ...


#: What ``websockets`` accepts where it takes headers.
HeadersLike = Headers | Mapping[str, str] | Iterable[tuple[str, str]] | _KeysAndGetItem


@dataclass
class Request:
    """The opening request, as far as the page knows it: its path and what it offered.

    The browser adds Host, Origin, User-Agent, cookies, the key and the
    extensions itself and does not tell the page; ``headers`` holds only
    ``Sec-WebSocket-Protocol`` (the subprotocols offered), if any.
    ``parse()`` and ``serialize()`` are refused (see :mod:`.compat_refused`).
    """

    path: str
    headers: Headers = field(default_factory=Headers)
    method: str = "GET"
    protocol: str = "HTTP/1.1"

    @property
    def exception(self) -> Exception | None:
        """None: the browser reports no parse error of the handshake to the page."""
        return None

    def __getattr__(self, name: str) -> Any:
        raise refused_attribute(type(self), name)


@dataclass
class Response:
    """The handshake's response, as far as the browser exposes it.

    ``status_code`` is 101 (the connection opened; a page never sees another
    status), ``headers`` holds ``Sec-WebSocket-Protocol`` and
    ``Sec-WebSocket-Extensions`` when the server chose any (the browser's
    ``protocol`` and ``extensions``); ``body`` is empty. ``parse()`` and
    ``serialize()`` are refused (see :mod:`.compat_refused`).
    """

    status_code: int = 101
    reason_phrase: str = "Switching Protocols"
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @property
    def exception(self) -> Exception | None:
        """None: the browser reports no parse error of the handshake to the page."""
        return None

    def __getattr__(self, name: str) -> Any:
        raise refused_attribute(type(self), name)


class Opcode(enum.IntEnum):
    """Frame opcodes, as ``websockets.frames.Opcode`` (a page never sees frames)."""

    CONT, TEXT, BINARY = 0x00, 0x01, 0x02
    CLOSE, PING, PONG = 0x08, 0x09, 0x0A


class Side(enum.IntEnum):
    """Server or client, as ``websockets.protocol.Side``: a page is always the client."""

    SERVER, CLIENT = range(2)


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
    # The legacy API's, deprecated in websockets 14 and still importable from it.
    ("AbortHandshake", ("InvalidHandshake",)),
    ("InvalidStatusCode", ("InvalidHandshake",)),
    ("RedirectHandshake", ("InvalidHandshake",)),
]

#: The deprecated exception names: importable, left out of ``__all__`` as in ``websockets``.
DEPRECATED_EXCEPTIONS = (
    "AbortHandshake",
    "InvalidStatusCode",
    "RedirectHandshake",
    "WebSocketProtocolError",
)


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
EXCEPTIONS["WebSocketProtocolError"] = EXCEPTIONS["ProtocolError"]  # an alias there too
