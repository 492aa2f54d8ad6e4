"""A WebDriver-BiDi relay that lets Playwright drive a stock Firefox (ESR).

Playwright's WebDriver-BiDi path (``playwright.firefox.launch(channel="moz-firefox",
executable_path=...)``) works with a stock Firefox except that Firefox ESR does not know some
commands Playwright sends when it opens a page (``emulation.setMediaFeaturesOverride`` and
friends), and every new page then fails with "unknown command".

This program is given to Playwright as the Firefox executable.  It is run as::

    python firefox_bidi_relay.py /path/to/real/firefox <the arguments Playwright passes>

(``tests/harness/playwright.py`` generates a two-line shell wrapper that does that with the right
Python, because Playwright executes ``executable_path`` directly with its own arguments.)

It then

* starts the real Firefox with the same arguments, in the relay's process group (so Playwright's
  group kill reaches it); Firefox is also ended when the relay is signalled or exits, and (Linux)
  when the relay dies or the relay's parent dies;
* forwards Firefox's stdout/stderr, but replaces the ``WebDriver BiDi listening on ws://...`` line
  with the address of its own WebSocket server, so Playwright connects to the relay;
* relays every WebSocket connection to the same path on Firefox, message by message, and turns an
  ``unknown command`` error for any ``emulation.*`` command into an empty success result (and
  answers that command itself from then on);
* exits with Firefox's exit status when Firefox exits (Playwright's ``browser.close`` reaches
  Firefox through the relay; Playwright's force-kill hits the whole process group).

It needs only the ``websockets`` package (>= 13, the ``websockets.asyncio`` API).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import re
import signal
import sys
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

LISTENING_RE = re.compile(r"WebDriver BiDi listening on (ws://\S+)")
#: Command prefixes whose "unknown command" error is turned into an empty success result.
STUBBED_PREFIXES = ("emulation.",)
#: How long Firefox gets to exit after SIGTERM before it is killed.
KILL_GRACE_SECONDS = 5.0

_PR_SET_PDEATHSIG = 1


def _log(text: str) -> None:
    """Write one diagnostic line to stderr (Playwright shows it in its browser log)."""
    sys.stderr.write(f"[firefox_bidi_relay] {text}\n")
    sys.stderr.flush()


def _set_parent_death_signal(sig: int) -> None:
    """Ask Linux to send ``sig`` to this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class Relay:
    """Runs one Firefox and relays its BiDi WebSocket server."""

    def __init__(self, firefox: str, args: list[str]) -> None:
        self.firefox = firefox
        self.args = args
        self.proc: asyncio.subprocess.Process | None = None
        self.upstream_base: str | None = None  # "ws://127.0.0.1:PORT"
        self.stubbed: set[str] = set()  # commands known to be unknown to this Firefox
        self.stop = asyncio.Event()

    # -- Firefox process -------------------------------------------------------------------

    async def start_firefox(self) -> asyncio.subprocess.Process:
        def preexec() -> None:
            # Firefox dies with the relay even if the relay is SIGKILLed.
            _set_parent_death_signal(signal.SIGKILL)

        self.proc = await asyncio.create_subprocess_exec(
            self.firefox,
            *self.args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=preexec,
            limit=1 << 20,
        )
        return self.proc

    async def stop_firefox(self) -> None:
        """SIGTERM Firefox, and SIGKILL it if it has not exited after a grace period."""
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), KILL_GRACE_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    def kill_firefox_now(self) -> None:
        """Last-resort synchronous SIGKILL (used when the event loop is gone)."""
        proc = self.proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)

    async def pump(
        self, stream: asyncio.StreamReader, out: Any, started: asyncio.Future[str] | None
    ) -> None:
        """Copy lines of a Firefox pipe to ``out``; catch the BiDi listening line."""
        while True:
            try:
                line = await stream.readline()
            except ValueError:  # an over-long line: pass on what there is
                line = await stream.read(1 << 16)
            if not line:
                return
            text = line.decode("utf-8", "replace")
            match = LISTENING_RE.search(text)
            if match and started is not None and not started.done():
                started.set_result(match.group(1).rstrip("/"))
                continue  # the relay prints its own listening line instead
            out.write(text)
            out.flush()

    # -- WebSocket relay -------------------------------------------------------------------

    async def handle(self, client: ServerConnection) -> None:
        assert self.upstream_base is not None
        path = client.request.path if client.request is not None else "/session"
        url = self.upstream_base + path
        try:
            upstream = await connect(
                url, max_size=None, ping_interval=None, compression=None, open_timeout=30
            )
        except Exception as exc:  # report any failure to the client
            _log(f"cannot connect to Firefox at {url}: {exc!r}")
            await client.close(1011, "relay cannot reach Firefox")
            return
        pending: dict[Any, str] = {}  # command id -> method, for stubbable commands
        async with upstream:
            to_firefox = asyncio.create_task(self.client_to_firefox(client, upstream, pending))
            to_client = asyncio.create_task(self.firefox_to_client(upstream, client, pending))
            _, rest = await asyncio.wait(
                {to_firefox, to_client}, return_when=asyncio.FIRST_COMPLETED
            )
            for task in rest:
                task.cancel()
            for task in rest:
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await task
        await client.close()

    async def client_to_firefox(
        self, client: ServerConnection, upstream: ClientConnection, pending: dict[Any, str]
    ) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in client:
                method, msg_id = _command_of(message)
                if method is not None and method.startswith(STUBBED_PREFIXES):
                    if method in self.stubbed:
                        await client.send(_empty_success(msg_id))
                        continue
                    pending[msg_id] = method
                await upstream.send(message)

    async def firefox_to_client(
        self, upstream: ClientConnection, client: ServerConnection, pending: dict[Any, str]
    ) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in upstream:
                if pending:
                    message = self.rewrite_reply(message, pending)
                await client.send(message)

    def rewrite_reply(self, message: str | bytes, pending: dict[Any, str]) -> str | bytes:
        try:
            data = json.loads(message)
        except ValueError:
            return message
        if not isinstance(data, dict) or "id" not in data:
            return message
        method = pending.pop(data["id"], None)
        if method is None:
            return message
        if data.get("type") == "error" and data.get("error") == "unknown command":
            if method not in self.stubbed:
                _log(f"Firefox does not know {method}; answering it with an empty result")
            self.stubbed.add(method)
            return _empty_success(data["id"])
        return message

    # -- main ------------------------------------------------------------------------------

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, self.stop.set)
        proc = await self.start_firefox()
        assert proc.stdout is not None and proc.stderr is not None
        started: asyncio.Future[str] = loop.create_future()
        pumps = [
            asyncio.create_task(self.pump(proc.stdout, sys.stdout, None)),
            asyncio.create_task(self.pump(proc.stderr, sys.stderr, started)),
        ]
        exited = asyncio.create_task(proc.wait())
        stopped = asyncio.create_task(self.stop.wait())
        first: set[asyncio.Future[Any]] = {started, exited, stopped}
        await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
        if started.done():
            self.upstream_base = started.result()
            async with serve(
                self.handle, "127.0.0.1", 0, max_size=None, ping_interval=None, compression=None
            ) as server:
                port = server.sockets[0].getsockname()[1]
                sys.stderr.write(f"WebDriver BiDi listening on ws://127.0.0.1:{port}\n")
                sys.stderr.flush()
                await asyncio.wait({exited, stopped}, return_when=asyncio.FIRST_COMPLETED)
                server.close(close_connections=True)
        # Firefox exited, or we were told to stop: make sure Firefox is gone.
        await self.stop_firefox()
        leftovers: list[asyncio.Future[Any]] = [*pumps, started, stopped]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
        code = proc.returncode
        if code is None:
            return 1
        return code if code >= 0 else 128 - code


def _command_of(message: str | bytes) -> tuple[str | None, Any]:
    """Return (method, id) of a BiDi command message, or (None, None)."""
    try:
        data = json.loads(message)
    except ValueError:
        return None, None
    if isinstance(data, dict) and isinstance(data.get("method"), str) and "id" in data:
        return data["method"], data["id"]
    return None, None


def _empty_success(msg_id: Any) -> str:
    return json.dumps({"type": "success", "id": msg_id, "result": {}})


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write(f"usage: {argv[0]} FIREFOX [FIREFOX ARGUMENTS...]\n")
        return 2
    # If Playwright's driver dies without cleaning up, take Firefox down with us.
    _set_parent_death_signal(signal.SIGTERM)
    relay = Relay(argv[1], argv[2:])
    try:
        return asyncio.run(relay.run())
    finally:
        relay.kill_firefox_now()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
