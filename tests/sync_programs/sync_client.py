"""websockets.sync.client: send, recv with timeouts, iteration, close, use after close."""

from websockets.exceptions import ConnectionClosed, ConnectionClosedError
from websockets.sync.client import connect


def main(uri: str, refused: str) -> list[str]:
    transcript = []
    with connect(uri + "/echo") as websocket:
        websocket.send("Hello world!")
        transcript.append(f"Received: {websocket.recv()}")
        websocket.send(b"\x00\x01\xff")
        transcript.append(f"binary: {websocket.recv()!r}")
        websocket.send("text as bytes")
        transcript.append(f"decode=False: {websocket.recv(decode=False)!r}")
        websocket.send("as binary", text=False)
        transcript.append(f"text=False: {websocket.recv(timeout=5)!r}")
        try:
            websocket.recv(timeout=0.2)
        except TimeoutError as exc:
            transcript.append(f"timeout: {exc}")
        websocket.send("after the timeout")
        transcript.append(f"then: {websocket.recv(timeout=5)!r}")
        websocket.send("streamed")
        for fragment in websocket.recv_streaming():
            transcript.append(f"fragment: {fragment!r}")
        transcript.append(f"state: {websocket.state.name}, subprotocol: {websocket.subprotocol}")
    transcript.append(f"state: {websocket.state.name}, close: {websocket.close_code}")
    for action in (lambda: websocket.send("too late"), websocket.recv):
        try:
            action()
        except ConnectionClosed as exc:
            transcript.append(f"after close: {type(exc).__name__} {exc.rcvd.code}")

    with connect(uri + "/close?n=3&code=1000&reason=done") as websocket:
        for message in websocket:
            transcript.append(f"iterated: {message}")
        transcript.append(f"closed by server: {websocket.close_code} {websocket.close_reason}")

    with connect(uri + "/close?n=1&code=4001&reason=oops") as websocket:
        try:
            for message in websocket:
                transcript.append(f"iterated: {message}")
        except ConnectionClosedError as exc:
            transcript.append(f"error close: {exc.rcvd.code} {exc.rcvd.reason}")

    with connect(uri + "/chat", subprotocols=["superchat", "chat"]) as websocket:
        transcript.append(f"subprotocol: {websocket.subprotocol}")
        websocket.close(4000, "custom")
        transcript.append(f"wait_closed: {websocket.wait_closed(timeout=5)}")
    transcript.append(f"closed with: {websocket.close_code} {websocket.close_reason}")

    try:
        connect(refused, open_timeout=5)
    except OSError as exc:
        transcript.append(f"refused: an OSError ({isinstance(exc, OSError)})")
    return transcript
