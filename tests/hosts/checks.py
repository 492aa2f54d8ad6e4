"""The Python API's checks, run inside Pyodide under Node.js or Deno by run.mjs (one Pyodide
per host for all of them): ``await main(config)`` runs each check against the test server and
returns {name: "ok" or what failed}. tests/test_hosts.py turns each entry into a test.

``config``: {"url": the server's ws:// base, "host": "node22"..., "backend": "classic" or
"native", "prefix": what the ids of server-side records start with}.
"""

from __future__ import annotations

import asyncio
import json
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from websocket_streaming import (
    ConnectionClosedError,
    Heartbeat,
    InvalidURI,
    PayloadTooBig,
    QueueOverflow,
    WebSocketError,
    connect,
)

#: Each check's own limit: a check that hangs fails alone, named, instead of the whole run.
CHECK_TIMEOUT = 10

Check = Callable[[dict[str, Any]], Awaitable[None]]
CHECKS: dict[str, Check] = {}


def check(func: Check) -> Check:
    CHECKS[func.__name__.removeprefix("check_")] = func
    return func


def url(config: dict[str, Any], path: str) -> str:
    return config["url"] + path


def open_(config: dict[str, Any], path: str, **options: Any) -> Any:
    return connect(url(config, path), backend=config["backend"], **options)


@check
async def check_text(config: dict[str, Any]) -> None:
    async with open_(config, "/echo") as ws:
        await ws.send("héllo ☃")
        assert await ws.recv() == "héllo ☃"
        big = "x" * 70_000  # over TEXT_PACK_MIN: comes back as UTF-8
        await ws.send(big)
        assert await ws.recv() == big


@check
async def check_binary(config: dict[str, Any]) -> None:
    async with open_(config, "/echo") as ws:
        small, big = bytes(range(256)), bytes(300 << 10)  # the outbox path, the view path
        await ws.send(small)
        await ws.send(bytearray(big))
        assert await ws.recv() == small
        assert await ws.recv() == big


@check
async def check_close_codes(config: dict[str, Any]) -> None:
    async with open_(config, "/close?code=4001&reason=bye&n=1") as ws:
        assert await ws.recv() == "0"
        try:
            await ws.recv()
        except ConnectionClosedError as exc:
            assert (exc.code, exc.reason) == (4001, "bye"), exc
        else:
            raise AssertionError("no close")
    # The server's side is asserted by test_hosts.py: close_received(prefix + "-close").
    ws = await open_(config, f"/echo?id={config['prefix']}-close")
    await ws.close(4002, "done")
    assert ws.close_code == 4002


@check
async def check_reconnect(config: dict[str, Any]) -> None:
    events: list[str] = []
    reopened = asyncio.Event()

    def on_event(event: Any) -> None:
        events.append(event.type)
        if events.count("open") == 2:
            reopened.set()

    flaky = f"/flaky?id={config['prefix']}-reconnect&n=1"
    async with open_(config, flaky, reconnect=True, min_delay=0.05, on_event=on_event) as ws:
        assert await ws.recv() == "0"  # then the first connection drops (1006)
        await reopened.wait()  # (a message sent before the drop would be lost with it)
        await ws.send("again")
        assert await ws.recv() == "again"
    assert "reconnecting" in events, events


@check
async def check_limits(config: dict[str, Any]) -> None:
    async with open_(config, "/send?n=1&size=2000", max_size=1000) as ws:
        try:
            await ws.recv()
        except PayloadTooBig as exc:
            assert exc.size == 2000, exc
        else:
            raise AssertionError("no PayloadTooBig")
    if config["backend"] == "native":  # it reads only as fast as the reader: no overflow
        async with open_(config, "/send?n=10", max_queue=2) as ws:
            assert [await ws.recv() for _ in range(10)] == [str(i) for i in range(10)]
        return
    async with open_(config, "/send?n=10", max_queue=2) as ws:
        await ws.wait_closed()  # the third message overflows: closed, the two kept
        assert [await ws.recv(), await ws.recv()] == ["0", "1"]
        try:
            await ws.recv()
        except QueueOverflow:
            pass
        else:
            raise AssertionError("no QueueOverflow")


@check
async def check_heartbeat(config: dict[str, Any]) -> None:
    async with open_(config, "/pong", heartbeat=Heartbeat(0.05)) as ws:
        assert await ws.recv() == "after-pong"  # the "pong" itself is the heartbeat's
        assert ws.latency is not None and ws.latency >= 0, ws.latency


@check
async def check_headers(config: dict[str, Any]) -> None:
    sent = [("Authorization", "Bearer token"), ("X-Feed", "a"), ("X-Feed", "b")]
    path = f"/headers?id={config['prefix']}-headers"
    async with open_(config, path, additional_headers=sent) as ws:
        seen = [(k.lower(), v) for k, v in json.loads(await ws.recv())]
        assert ("authorization", "Bearer token") in seen, seen
        # Deno sends a repeated name as it is given; Node.js joins the values (RFC 9110 5.3).
        feed = [v for k, v in seen if k == "x-feed"]
        assert feed in (["a", "b"], ["a, b"]), seen


@check
async def check_compat_headers(config: dict[str, Any]) -> None:
    from websocket_streaming import compat

    websockets = compat.install()
    path = f"/headers?id={config['prefix']}-compat"
    headers = {"Authorization": "Basic eA=="}
    async with websockets.connect(
        url(config, path), additional_headers=headers, user_agent_header="app/1.0"
    ) as ws:
        seen = [(k.lower(), v) for k, v in json.loads(await ws.recv())]
        assert ("authorization", "Basic eA==") in seen and ("user-agent", "app/1.0") in seen, seen


@check
async def check_relative_url(config: dict[str, Any]) -> None:
    for relative in ("/feed", "feed", "//127.0.0.1/feed"):
        try:
            connect(relative)
        except InvalidURI as exc:
            assert "relative URL needs the page's location" in str(exc), exc
        else:
            raise AssertionError(f"{relative!r} accepted")


@check
async def check_backend_refused(config: dict[str, Any]) -> None:
    """Where there is no WebSocketStream (Node.js, Deno without --unstable-net), "native"
    says so, naming the host; where there is one, "auto" picks it."""
    import js

    if hasattr(js, "WebSocketStream"):
        async with connect(url(config, "/echo"), backend="auto") as ws:
            assert ws.transport.backend == "native"
        return
    try:
        await connect(url(config, "/echo"), backend="native")
    except WebSocketError as exc:
        assert "WebSocketStream" in str(exc) and ("Node.js" in str(exc) or "Deno" in str(exc))
    else:
        raise AssertionError("native accepted")


async def check_no_websocket(config: dict[str, Any]) -> None:
    """Only where there is no global WebSocket (Node.js 20 without its flag): the error
    names the fix. Not in CHECKS: main() runs it when config["only"] names it."""
    try:
        await connect(url(config, "/echo"))
    except WebSocketError as exc:
        fix = "use Node.js >= 22, or start Node.js 20 or 21 with --experimental-websocket"
        assert "has no global WebSocket" in str(exc) and fix in str(exc), exc
    else:
        raise AssertionError("connected without a WebSocket")


async def run_one(func: Check, config: dict[str, Any]) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await func(config)
    except BaseException as exc:  # reported, one check at a time
        return "".join(traceback.format_exception(exc)[-3:]).strip()
    return "ok"


async def main(config_json: str) -> str:
    """Run every check (or those named in config["only"]); JSON {name: "ok" | failure}."""
    config = json.loads(config_json)
    only = config.get("only")
    results = {}
    for name, func in {**CHECKS, "no_websocket": check_no_websocket}.items():
        if name in (only or CHECKS):
            results[name] = await run_one(func, config)
    return json.dumps(results)
