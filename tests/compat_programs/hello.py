"""Hello: send, receive, fragments, decode, subprotocols, close (websockets' getting-started style)."""

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State


async def fragments():
    yield b"bin"
    yield b"ary"


async def main(uri: str) -> list[str]:
    transcript = []
    async with connect(uri + "/echo") as websocket:
        await websocket.send("Hello world!")
        message = await websocket.recv()
        transcript.append(f"Received: {message}")
        await websocket.send(b"\x00\x01\xff")
        transcript.append(f"binary: {await websocket.recv()!r}")
        await websocket.send("text as bytes")
        transcript.append(f"decode=False: {await websocket.recv(decode=False)!r}")
        await websocket.send(b"bytes as text")
        transcript.append(f"decode=True: {await websocket.recv(decode=True)!r}")
        await websocket.send(["Hel", "lo ", "fragments"])
        transcript.append(f"fragments: {await websocket.recv()!r}")
        await websocket.send(fragments())
        transcript.append(f"async fragments: {await websocket.recv()!r}")
        await websocket.send("as binary", text=False)
        transcript.append(f"text=False: {await websocket.recv()!r}")
        await websocket.send("one frame")
        async for fragment in websocket.recv_streaming():
            transcript.append(f"streamed: {fragment!r}")
        transcript.append(f"state: {websocket.state.name}, subprotocol: {websocket.subprotocol}")
    transcript.append(f"state: {websocket.state.name}, close: {websocket.close_code}")
    try:
        await websocket.send("too late")
    except ConnectionClosed as exc:
        transcript.append(f"send after close: {type(exc).__name__} {exc.rcvd.code}")

    async with connect(uri + "/chat", subprotocols=["superchat", "chat"]) as websocket:
        transcript.append(f"subprotocol: {websocket.subprotocol}")
        assert websocket.state is State.OPEN
        await websocket.close(4000, "custom")
    transcript.append(f"closed with: {websocket.close_code} {websocket.close_reason}")
    return transcript
