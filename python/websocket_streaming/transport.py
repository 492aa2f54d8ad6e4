"""The Transport seam: what a WebSocketStream needs from the thing that holds the socket.

``browser.py`` implements it over the page's ``WebSocket`` (or Chromium's
``WebSocketStream``); the unit tests implement it with a fake on plain CPython
(``tests/fake_transport.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from .exceptions import ConnectionClosed
from .protocol import State

__all__ = ["Data", "Transport"]

#: A received message: ``str`` for a text frame, ``bytes`` for a binary frame.
Data = str | bytes


class Transport(Protocol):
    """What a WebSocketStream needs from the thing that really holds the socket.

    The transport calls ``on_event(now=False, message=None)`` when the socket
    opens, when it closes, when a heartbeat reply arrives, and when a message
    arrives after a ``take()`` found none (once, then it must be asked again).
    It never calls it re-entrantly from its own methods. Browsers report the open
    with ``now=True``, from inside its event, so that the task awaiting the open
    resumes there and a reader it starts waits before the next event.

    A message reaches the reader in one of two ways:

    - **handed over with the wake-up**: the message that ends a reader's wait is
      removed from the transport and passed as ``message`` (``str`` or
      ``bytes``), so resuming the reader costs no further call; it is older than
      any message still in the transport. Browsers do this for the first
      message after a wait, inside its event (``now=True``: nothing else runs,
      so the reader may resume inside the call).
    - **taken in a batch**: ``message`` is None and the reader calls ``take()``,
      which returns every message waiting, oldest first. Browsers do this while
      messages arrive back to back (one loop turn later, ``now=False``), so the
      reader takes the burst in one call.
    """

    #: ``on_event(now=False, message=None)``: see the class docstring.
    on_event: Callable[..., None]

    @property
    def state(self) -> State:
        """The browser's ``readyState``."""
        ...

    @property
    def protocol(self) -> str:
        """The subprotocol the server chose, ``""`` if none (or not open yet)."""
        ...

    @property
    def extensions(self) -> str:
        """The extensions the server chose, ``""`` if none."""
        ...

    @property
    def buffered_amount(self) -> int:
        """The browser's ``bufferedAmount``: bytes sent but not yet on the wire."""
        ...

    @property
    def close_info(self) -> tuple[int, str, bool] | None:
        """``(code, reason, was_clean)`` once closed, else None."""
        ...

    @property
    def opened(self) -> bool:
        """Whether the open event fired (the socket may have closed since)."""
        ...

    @property
    def fault(self) -> ConnectionClosed | None:
        """The exception to report when the transport closed the connection itself:
        a message over ``max_size`` (PayloadTooBig) or unread data over ``max_queue``
        with the "close" policy (QueueOverflow); else None."""
        ...

    @property
    def pending(self) -> int:
        """How many received messages wait to be taken."""
        ...

    @property
    def dropped(self) -> int:
        """How many unread messages the "drop-oldest" policy has dropped."""
        ...

    @property
    def received(self) -> int:
        """How many messages arrived so far, heartbeat replies included."""
        ...

    @property
    def pongs(self) -> int:
        """How many heartbeat replies arrived so far."""
        ...

    @property
    def latency(self) -> float | None:
        """Seconds from the last ``send_ping()`` to the reply that followed it."""
        ...

    def set_limits(
        self, max_size: int | None, max_messages: int | None, max_bytes: int | None, drop: bool
    ) -> None:
        """Bound what is held for the reader: a message over ``max_size`` bytes closes
        the connection (``fault`` PayloadTooBig); a message that would make the unread
        messages more than ``max_messages`` or ``max_bytes`` drops the oldest ones
        (``drop``) or closes the connection (``fault`` QueueOverflow). None: no bound."""
        ...

    def set_pong(self, pong: Data | Callable[[Data], bool] | None) -> None:
        """Recognise heartbeat replies: counted in ``pongs``, never queued."""
        ...

    def take(self, max_messages: int, max_bytes: int) -> Sequence[Data] | None:
        """Remove and return the oldest messages received, at least one if any is
        waiting, then as many as fit in ``max_messages`` and ``max_bytes``.

        If none is waiting: None when the socket is closed (none will come), else an
        empty batch, and ``on_event()`` is called when the next message arrives (once:
        an empty ``take()`` asks again). One call, so that a reader that waits costs one
        crossing into JS."""
        ...

    def send_text(self, data: str) -> int:
        """Queue a text frame (the browser encodes it to UTF-8) and return the
        ``buffered_amount`` after it; if the socket is not OPEN, send nothing and
        return -1."""
        ...

    def send_binary(self, data: memoryview) -> int:
        """Queue a binary frame with the bytes of ``data``, a C-contiguous view, as
        ``send_text`` does."""
        ...

    def send_ping(self, data: Data) -> int:
        """Send a heartbeat ping as ``send_text``/``send_binary`` do, noting the time
        for ``latency``."""
        ...

    def close(self, code: int | None = None, reason: str = "") -> None:
        """Start the closing handshake, or fail the connection if not yet open.

        Like ``WebSocket.close()``: returns at once, and does nothing once
        closing or closed.
        """
        ...

    def abandon(self, reason: str) -> None:
        """Stop waiting for the browser: report the connection closed now, with 1006
        and ``reason``, unclean. Drops every later event; does not call ``on_event``.
        (The browser still closes the TCP connection in its own time.)"""
        ...
