"""ReconnectingStream against a reference model (hypothesis RuleBasedStateMachine).

The machine drives a ReconnectingStream over scripted FakeTransports on the fake clock:
the server sends messages or closes (any code, clean or not), the app sends, reads and
closes, and reconnections succeed or fail a chosen number of times in a row. The model is
a few lists: the messages the reader must get, the send queue, what each connection was
handed, and how the stream ends. After every step the stream's state, ``unsent`` and
every socket's ``sent`` must match it, and the send queue must stay within its bounds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from fake_clock import VirtualTimeLoop
from fake_transport import FakeFactory, real_sleep
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from hypothesis_profiles import examples
from websocket_streaming import (
    ConnectionClosed,
    ConnectionClosedOK,
    ReconnectFailed,
    ReconnectingStream,
    SendQueueFull,
    State,
    connect,
)
from websocket_streaming.protocol import closed_exception, should_retry

URL = "ws://fake.test/model"
SEND_QUEUE, SEND_QUEUE_BYTES, MAX_RETRIES = 3, 12, 2

messages = st.one_of(st.text(max_size=4), st.binary(max_size=4))


def size(message: str | bytes) -> int:
    return len(message.encode()) if isinstance(message, str) else len(message)


class ReconnectModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = VirtualTimeLoop()
        self.errors: list[dict[str, Any]] = []
        self.loop.set_exception_handler(lambda loop, context: self.errors.append(context))
        self.factory = FakeFactory()
        self.events: list[str] = []
        self.changed = asyncio.Event()
        # the model
        self.connected = False
        self.final: BaseException | None = None
        self.expected: list[str | bytes] = []  # what the reader must still get, in order
        self.queue: list[str | bytes] = []  # the send queue
        self.handed: list[list[str | bytes]] = []  # per connection: what send() gave it
        self.stream: ReconnectingStream = self.run(self._start())
        self.opened()

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coro)

    def network(self, step: Callable[[], None], *wait_for: str) -> str | None:
        """Do ``step`` (it schedules browser tasks) in the loop; let them run, then wait
        for the next event of one of ``wait_for``, if any."""

        async def main() -> str | None:
            seen = len(self.events)
            step()
            await self.factory.transports[-1].flush()
            return await self.wait_event(*wait_for, since=seen) if wait_for else None

        return self.run(main())

    async def _start(self) -> ReconnectingStream:
        opener = connect(URL, reconnect=True, transport_factory=self.factory)
        options = dict(opener.reconnect_options, min_delay=1.0, max_delay=4.0, factor=2.0)
        options.update(max_retries=MAX_RETRIES, send_queue=SEND_QUEUE)
        options.update(send_queue_bytes=SEND_QUEUE_BYTES)
        stream = ReconnectingStream(opener.open_connection, jitter=lambda: 0.5, **options)
        stream.add_listener(self._on_event)
        await self.wait_event("open")
        return stream

    def _on_event(self, event: Any) -> None:
        self.events.append(event.type)
        self.changed.set()

    async def wait_event(self, *kinds: str, since: int | None = None) -> str:
        """Wait (in virtual time) for the next event of one of these kinds."""
        seen = len(self.events) if since is None else since
        while True:
            for kind in self.events[seen:]:
                if kind in kinds:
                    return kind
            seen = len(self.events)
            self.changed.clear()
            await self.changed.wait()

    def opened(self) -> None:
        """A connection opened: the queue was flushed into it."""
        self.connected = True
        self.handed.append(list(self.queue))
        self.queue.clear()

    # -- the server ---------------------------------------------------------------

    @precondition(lambda self: self.connected)
    @rule(batch=st.lists(messages, min_size=1, max_size=3))
    def server_sends(self, batch: list[str | bytes]) -> None:
        self.network(lambda: self.factory.transports[-1].receive(*batch))
        self.expected += batch

    @precondition(lambda self: self.connected)
    @rule(
        code=st.sampled_from([1000, 1001, 1002, 1005, 1006, 1008, 1011, 1012, 1014, 3000, 4000]),
        clean=st.booleans(),
    )
    def server_closes(self, code: int, clean: bool) -> None:
        transport = self.factory.transports[-1]
        clean = clean and code != 1006
        if code == 1006:
            kind = self.network(transport.fail, "reconnecting", "close")
        else:
            kind = self.network(
                lambda: transport.peer_close(code, "", clean), "reconnecting", "close"
            )
        exc = closed_exception(code, "", clean)
        self.connected = False
        if should_retry(exc):
            assert kind == "reconnecting"
        else:
            assert kind == "close"
            self.final = exc

    @precondition(lambda self: not self.connected and self.final is None)
    @rule(failures=st.integers(0, MAX_RETRIES + 1))
    def reconnect(self, failures: int) -> None:
        """The next ``failures`` attempts fail, then one opens (or the stream gives up)."""
        self.factory.script = ["fail"] * failures
        kind = self.run(self.wait_event("open", "close"))
        if failures > MAX_RETRIES:
            assert kind == "close"
            self.final = ReconnectFailed(failures, list(self.queue))
        else:
            assert kind == "open"
            self.opened()

    # -- the app ------------------------------------------------------------------

    @rule(message=messages)
    def send(self, message: str | bytes) -> None:
        async def send() -> Any:
            try:
                return await self.stream.send(message)
            except (SendQueueFull, ConnectionClosed) as exc:
                return exc

        got = self.run(send())
        if self.final is not None:
            assert isinstance(got, ConnectionClosed) and type(got) is type(self.final)
        elif self.connected:
            assert got is True
            self.handed[-1].append(message)
        elif (
            len(self.queue) >= SEND_QUEUE
            or sum(map(size, self.queue)) + size(message) > SEND_QUEUE_BYTES
        ):
            assert isinstance(got, SendQueueFull)
        else:
            assert got is False
            self.queue.append(message)

    @rule()
    def read_everything(self) -> None:
        async def read(count: int) -> list[Any]:
            return [await self.stream.recv() for _ in range(count)]

        got = self.run(read(len(self.expected)))
        assert got == self.expected and all(
            type(a) is type(b) for a, b in zip(got, self.expected, strict=True)
        )
        self.expected.clear()
        if self.final is not None:
            try:
                self.run(self.stream.recv())
            except BaseException as exc:
                assert type(exc) is type(self.final), (exc, self.final)
                if isinstance(self.final, ReconnectFailed):
                    assert isinstance(exc, ReconnectFailed)
                    assert exc.attempts == self.final.attempts
                    assert exc.unsent == self.final.unsent
            else:
                raise AssertionError("recv() returned after the end")

    @precondition(lambda self: self.final is None)
    @rule()
    def close(self) -> None:
        self.run(self.stream.close())
        self.connected = False
        self.final = ConnectionClosedOK(1000, "")

    # -- invariants ---------------------------------------------------------------

    @invariant()
    def matches_the_model(self) -> None:
        stream = self.stream
        if self.final is not None:
            assert stream.state is State.CLOSED
        elif self.connected:
            assert stream.state is State.OPEN and stream.connection is not None
        else:
            assert stream.state is State.CONNECTING
        assert stream.unsent == self.queue
        assert len(stream.unsent) <= SEND_QUEUE
        assert sum(map(size, stream.unsent)) <= SEND_QUEUE_BYTES
        opened = [t for t in self.factory.transports if t.opened]
        assert [t.sent for t in opened] == self.handed
        assert not self.errors, self.errors

    def teardown(self) -> None:
        try:
            if self.final is None:
                self.run(self.stream.close())
            self.run(real_sleep(0))
            assert not self.errors, self.errors
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()


ReconnectModel.TestCase.settings = settings(max_examples=examples(1000), stateful_step_count=25)
test_reconnecting_stream_matches_the_model = ReconnectModel.TestCase
