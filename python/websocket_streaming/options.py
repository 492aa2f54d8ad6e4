"""Every connection option, once: its names (Python and JS), kind, default, range and doc.

``connect()``, ``WebSocketStream`` and the JS facade take their defaults and checks
from :data:`OPTIONS`; ``tools/gen_options.py`` renders the same table into
``js/websocket_streaming.js`` (the checks the facade runs before Pyodide loads) and
``js/websocket_streaming.d.ts`` (the option types and their ``@default``). Pure Python:
no I/O, no ``js``; :class:`Heartbeat` lives here as the heartbeat option's value.

Kinds: ``seconds`` (a finite number >= 0), ``count`` (an int >= 0), ``choice`` (one of
``choices``), ``message`` (str or bytes; in JS a string, ArrayBuffer or Uint8Array),
``heartbeat`` (a :class:`Heartbeat`; in JS an object of the ``heartbeat`` group),
``headers`` (handshake headers: a mapping or (name, value) pairs of str, see
:func:`check_headers`),
``flag`` (a bool; in JS ``reconnect`` is true/false or an object of its sub-options),
``callable``, ``object`` and ``protocols``: the last three are not checked here (the
JS facade checks what is JS by nature: functions, ``protocols``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BACKENDS",
    "CLOSE_CODE",
    "CLOSE_CODE_RANGE",
    "DEFAULTS",
    "DEFAULT_BACKEND",
    "HEARTBEAT_FIELDS",
    "HOST_HEADERS",
    "MAX_REASON_BYTES",
    "OPTIONS",
    "OVERFLOW_POLICIES",
    "Builtin",
    "Heartbeat",
    "Option",
    "check_count",
    "check_headers",
    "check_options",
    "check_seconds",
]

#: The close code a page may always send; others must be in :data:`CLOSE_CODE_RANGE`.
CLOSE_CODE = 1000
#: The application close codes a page may send (inclusive).
CLOSE_CODE_RANGE = (3000, 4999)
#: The longest close reason a page may send, in bytes of UTF-8.
MAX_REASON_BYTES = 123
#: What ``max_queue`` / ``max_queue_bytes`` may do when unread data overflows.
OVERFLOW_POLICIES = ("close", "drop-oldest")
#: ``backend``: the browser API under the connection. "classic": ``WebSocket``, which reads
#: everything the server sends whether or not anyone reads it; "native": Chromium's
#: ``WebSocketStream``, read only as fast as the reader takes messages (TCP backpressure);
#: "auto": native where the browser has it, classic elsewhere.
BACKENDS = ("classic", "native", "auto")
#: The backend ``backend=None`` means (``connection.DEFAULT_BACKEND``, which a page may change).
DEFAULT_BACKEND = "classic"


@dataclass(frozen=True)
class Builtin:
    """A default that is a function of the core, by its dotted name (this module imports none)."""

    name: str


@dataclass(frozen=True)
class Option:
    """One option: its Python and JS names, kind, default, range, group and doc.

    ``group``: "open" (how to open: the facade's constructor handles it), "connection"
    (each connection's), "reconnect" (a reconnecting stream's; in JS the backoff ones sit
    in ``reconnect: {...}``, ``js_in``, and the others need ``reconnect``) or "heartbeat"
    (a :class:`Heartbeat` field). ``positive``: 0 is refused too; ``none_means``: what
    None (JS null) means, said in messages and docs; ``minimum``: the least value;
    ``not_below``: the option this one may not be below; ``callable_ok``: a message that
    may also be a callable; ``required``: no default (Heartbeat's interval); ``ts``: the
    TypeScript type, where the kind does not say it.
    """

    name: str
    js: str
    kind: str
    default: Any
    nullable: bool
    group: str
    doc: str
    js_in: str = ""
    choices: tuple[str, ...] = ()
    positive: bool = False
    minimum: float | None = None
    not_below: str = ""
    none_means: str = ""
    callable_ok: bool = False
    required: bool = False
    ts: str = ""

    @property
    def label(self) -> str:
        """The name Python's messages give it ("heartbeat interval" for a Heartbeat field)."""
        return f"heartbeat {self.name}" if self.group == "heartbeat" else self.name


_S, _C = "seconds", "count"

# fmt: off
#: Every option of ``connect()`` (keyword order), then the :class:`Heartbeat` fields.
OPTIONS: tuple[Option, ...] = (
    Option("subprotocols", "protocols", "protocols", None, True, "open",
           "Subprotocols to offer; the server picks one.",
           ts="string | string[]"),
    Option("additional_headers", "headers", "headers", None, True, "open",
           "HTTP headers for the opening handshake, sent where the host can (Node.js, Deno); "
           "a browser cannot set them and refuses them.",
           ts="Record<string, string> | [string, string][] | Headers"),
    Option("open_timeout", "openTimeout", _S, 10.0, True, "open",
           "Seconds to wait for the opening handshake.", none_means="wait forever"),
    Option("close_timeout", "closeTimeout", _S, 5.0, True, "connection",
           "Seconds close() waits for the server to answer.",
           none_means="wait for the browser (up to 60 s)"),
    Option("write_limit", "", _C, 8 << 20, False, "connection",
           "Bytes in the browser's send buffer above which send() waits for a drain."),
    Option("max_size", "maxSize", _C, 16 << 20, True, "connection",
           "The largest message, in bytes (UTF-8 for text); a larger one closes the "
           "connection: PayloadTooBig.", none_means="no limit"),
    Option("max_queue", "maxQueue", _C, None, True, "connection",
           "Unread messages held for the reader.", none_means="no bound by count"),
    Option("max_queue_bytes", "maxQueueBytes", _C, 64 << 20, True, "connection",
           "Unread bytes held for the reader (text counts one per UTF-16 unit).",
           none_means="no bound by size"),
    Option("on_overflow", "onOverflow", "choice", "close", False, "connection",
           'Over maxQueue / maxQueueBytes: "close" (QueueOverflow after the messages that '
           'fit) or "drop-oldest" (counted in `dropped`).', choices=OVERFLOW_POLICIES),
    Option("heartbeat", "heartbeat", "heartbeat", None, True, "connection",
           "An application-level ping the server answers.", none_means="none",
           ts="HeartbeatOptions"),
    Option("idle_timeout", "idleTimeout", _S, None, True, "connection",
           "Seconds without a message after which the peer is declared dead and dropped.",
           positive=True, none_means="no idle timeout"),
    Option("process_exception", "", "callable", Builtin("protocol.should_retry"), False,
           "reconnect", "The retry policy: given what ended a connection, True to retry."),
    Option("reconnect", "reconnect", "flag", False, False, "reconnect",
           "Reconnect after a drop, with this backoff: one stream across connections.",
           ts="boolean | ReconnectOptions"),
    Option("min_delay", "minDelay", _S, 0.5, False, "reconnect",
           "Seconds before the first retry.", js_in="reconnect"),
    Option("max_delay", "maxDelay", _S, 30.0, False, "reconnect",
           "Seconds at most between retries.", js_in="reconnect", not_below="min_delay"),
    Option("factor", "factor", _S, 1.618, False, "reconnect",
           "How much each delay grows on the one before.", js_in="reconnect", minimum=1),
    Option("max_retries", "maxRetries", _C, None, True, "reconnect",
           "Failed attempts in a row after which to give up with ReconnectFailed.",
           js_in="reconnect", none_means="never"),
    Option("on_connect", "onConnect", "callable", None, True, "reconnect",
           "Awaited on every (re)connection before the queue is flushed (re-subscribe); "
           "throwing ends the stream with that error.",
           ts="((connection: Connection) => void | Promise<void>)"),
    Option("send_queue", "sendQueue", _C, 1000, False, "reconnect",
           "Messages queued by send() while disconnected (0: send() fails at once)."),
    Option("send_queue_bytes", "sendQueueBytes", _C, 1 << 20, False, "reconnect",
           "Bytes queued by send() while disconnected."),
    Option("on_event", "", "callable", None, True, "reconnect",
           "Given every StateEvent from the start (the first attempt included)."),
    Option("lifecycle", "", "object", None, True, "reconnect",
           "The page's online/offline/visibility events.", none_means="the browser's"),
    Option("backend", "backend", "choice", None, True, "connection",
           '"classic" (WebSocket), "native" (Chromium\'s WebSocketStream: a slow reader makes '
           'the server wait; fails where absent) or "auto" (native where available).',
           choices=BACKENDS, none_means=f"\"{DEFAULT_BACKEND}\""),
    Option("transport_factory", "", "callable", None, True, "open",
           "What opens the socket (tests pass a fake).", none_means="the browser's"),
    # Heartbeat's fields (JS: heartbeat: {interval, timeout, ping, pong}).
    Option("interval", "interval", _S, None, False, "heartbeat",
           "Seconds between pings.", js_in="heartbeat", positive=True, required=True),
    Option("timeout", "timeout", _S, None, True, "heartbeat",
           "Seconds to wait for the reply before the peer is declared dead and dropped.",
           js_in="heartbeat", none_means="the interval"),
    Option("ping", "ping", "message", "ping", False, "heartbeat",
           "What to send.", js_in="heartbeat"),
    Option("pong", "pong", "message", "pong", False, "heartbeat",
           "The reply: a message equal to it, or for which the function (called on each "
           "message) returns true; it sets `latency` and is never returned by recv().",
           js_in="heartbeat", callable_ok=True,
           ts="string | ArrayBuffer | Uint8Array | ((data: Message) => boolean)"),
)
# fmt: on

_BY_NAME = {option.name: option for option in OPTIONS if option.group != "heartbeat"}
#: The :class:`Heartbeat` fields' rows, by name.
HEARTBEAT_FIELDS = {option.name: option for option in OPTIONS if option.group == "heartbeat"}


class _Defaults:
    """Every option's default by Python name (``DEFAULTS.max_size``); an unknown name raises
    AttributeError. ``process_exception``'s is a :class:`Builtin` naming ``should_retry``."""

    def __init__(self, options: Mapping[str, Option]) -> None:
        self.__dict__.update({name: option.default for name, option in options.items()})

    def __getattr__(self, name: str) -> Any:  # only for unknown names: typing says Any
        raise AttributeError(f"no option {name!r}")


#: The defaults of ``connect()``'s options: ``DEFAULTS.min_delay``.
DEFAULTS = _Defaults(_BY_NAME)
_HEARTBEAT = _Defaults(HEARTBEAT_FIELDS)


def check_seconds(name: str, value: object, *, allow_none: bool = True) -> None:
    """Check a duration option: a finite number >= 0 (or None where allowed).

    Raises:
        TypeError: ``value`` is not a number (bool is refused too).
        ValueError: ``value`` is negative, NaN or infinite.
    """
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "a number of seconds or None" if allow_none else "a number of seconds"
        raise TypeError(f"{name} must be {kind}, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, not {value}")


def check_count(name: str, value: object, *, allow_none: bool = True) -> None:
    """Check a size or count option: an int >= 0 (or None where allowed).

    Raises:
        TypeError: ``value`` is not an int (bool is refused too).
        ValueError: ``value`` is negative.
    """
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        kind = "an int or None" if allow_none else "an int"
        raise TypeError(f"{name} must be {kind}, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, not {value}")


#: Handshake headers the host's WebSocket sets itself: a name here in ``additional_headers``
#: is refused (Node.js would send a second ``Sec-WebSocket-Protocol``, Deno drops it quietly).
HOST_HEADERS = frozenset(
    {"host", "connection", "upgrade", "content-length", "transfer-encoding"}
    | {f"sec-websocket-{name}" for name in ("key", "version", "extensions", "protocol", "accept")}
)
# An HTTP field name (RFC 9110's token) and a value with no line break or NUL in it.
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def check_headers(value: object) -> tuple[tuple[str, str], ...]:
    """Check handshake headers (``additional_headers``) and return them as (name, value)
    pairs, in order: None gives ``()``; a mapping gives its items (a ``Headers`` with
    ``raw_items()``, as ``websockets``' has, every one of them); any other iterable must
    yield (name, value) pairs. A name may repeat.

    Raises:
        TypeError: not a mapping or an iterable of pairs, or a name or value not a str.
        ValueError: a name that is not an HTTP token, a value with CR, LF or NUL, or a
            header the host's WebSocket sets itself (:data:`HOST_HEADERS`).
    """
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(
            "additional_headers must be a mapping or (name, value) pairs of str, "
            f"not {type(value).__name__}"
        )
    raw = getattr(value, "raw_items", None)
    items = raw() if callable(raw) else value.items() if isinstance(value, Mapping) else value
    pairs = []
    for item in items:
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise TypeError(f"additional_headers: {item!r} is not a (name, value) pair")
        name, text = item
        if not isinstance(name, str) or not isinstance(text, str):
            raise TypeError(
                f"additional_headers: {name!r}: names and values must be str, not "
                f"{type(name).__name__} and {type(text).__name__}"
            )
        if not name or not _TOKEN.issuperset(name):
            raise ValueError(f"additional_headers: {name!r} is not a valid header name")
        if any(c in text for c in "\r\n\0"):
            raise ValueError(f"additional_headers: the value of {name} has a line break or NUL")
        if name.lower() in HOST_HEADERS:
            how = " (use subprotocols)" if name.lower() == "sec-websocket-protocol" else ""
            raise ValueError(
                f"additional_headers may not set {name}: the WebSocket sets it itself{how}"
            )
        pairs.append((name, text))
    return tuple(pairs)


def _check_kind(option: Option, value: object) -> None:
    """Check ``value``'s type and basic range by the option's kind."""
    label, nullable = option.label, option.nullable
    if option.kind == "seconds":
        check_seconds(label, value, allow_none=nullable)
    elif option.kind == "count":
        check_count(label, value, allow_none=nullable)
    elif option.kind == "choice":
        if not (value in option.choices or (value is None and nullable)):
            also = " or None" if nullable else ""
            raise ValueError(f"{label} must be one of {option.choices}{also}, not {value!r}")
    elif option.kind == "heartbeat":
        if value is not None and not isinstance(value, Heartbeat):
            raise TypeError(f"{label} must be a Heartbeat or None, not {type(value).__name__}")
    elif option.kind == "headers":
        check_headers(value)
    elif option.kind == "message":
        if not (isinstance(value, (str, bytes)) or (option.callable_ok and callable(value))):
            kinds = "str, bytes or a callable" if option.callable_ok else "str or bytes"
            raise TypeError(f"{label} must be {kinds}, not {type(value).__name__}")


def _check_range(option: Option, value: Any, values: Mapping[str, object]) -> None:
    """Check the rules beyond the kind: > 0, a minimum, not below another option."""
    if value is None:
        return
    if option.positive and value == 0:
        if option.nullable:
            raise ValueError(f"{option.label} must be > 0 (or None for {option.none_means})")
        raise ValueError(f"{option.label} must be > 0, not {value}")
    if option.minimum is not None and value < option.minimum:
        raise ValueError(f"{option.label} must be at least {option.minimum}, not {value}")
    if option.not_below:
        other = values.get(option.not_below, _BY_NAME[option.not_below].default)
        if value < other:
            raise ValueError(
                f"{option.label} ({value}) must not be below {option.not_below} ({other})"
            )


def check_options(values: Mapping[str, object], rows: Mapping[str, Option] = _BY_NAME) -> None:
    """Check options by Python name (those of ``connect()``, or with ``rows`` =
    :data:`HEARTBEAT_FIELDS` a Heartbeat's fields): each one's type and range first,
    then the rules between them (``max_delay`` not below ``min_delay``). Kinds
    ``flag``, ``callable``, ``object`` and ``protocols`` are not checked.

    Raises:
        TypeError: an option has the wrong type (bool is refused for numbers).
        ValueError: an option is out of range; the message names it.
    """
    for name, value in values.items():
        _check_kind(rows[name], value)
    for name, value in values.items():
        _check_range(rows[name], value, values)


@dataclass(frozen=True)
class Heartbeat:
    """An application-level ping, since a page cannot send WebSocket ping frames.

    Every ``interval`` seconds the stream sends ``ping``; a message for which
    ``pong`` matches (equal to it, or ``pong(message)`` true when it is a
    callable) is the reply: it is not handed to the reader, and it sets the
    stream's ``latency``. No reply within ``timeout`` seconds (default:
    ``interval``) declares the peer dead: the connection is dropped and
    reported as closed with 1006.

    Raises:
        TypeError: a field has the wrong type.
        ValueError: ``interval`` is not > 0, or ``timeout`` is negative.
    """

    interval: float
    timeout: float | None = _HEARTBEAT.timeout
    ping: str | bytes = _HEARTBEAT.ping
    pong: str | bytes | Callable[[str | bytes], bool] = _HEARTBEAT.pong

    def __post_init__(self) -> None:
        check_options(vars(self), HEARTBEAT_FIELDS)

    @property
    def reply_timeout(self) -> float:
        """Seconds to wait for the reply to a ping."""
        return self.interval if self.timeout is None else self.timeout
