"""websocket-client: create_connection, text and binary, status, subprotocols, use after close."""

import websocket


def main(uri: str, refused: str) -> list[str]:
    transcript = []
    ws = websocket.create_connection(uri + "/echo", timeout=5)
    transcript.append(
        f"status {ws.getstatus()}, connected {ws.connected}, timeout {ws.gettimeout()}"
    )
    transcript.append(f"subprotocol {ws.getsubprotocol()}")
    transcript.append(f"sent {ws.send('Hello, World')} bytes")
    transcript.append(f"received {ws.recv()!r}")
    transcript.append(f"sent {ws.send_binary(b'\x00\x01\xff')} bytes")
    transcript.append(f"binary {ws.recv()!r}")
    transcript.append(f"sent {ws.send('x' * 300)} bytes")
    transcript.append(f"long {len(ws.recv())}")
    ws.send("héllo wörld")
    transcript.append(f"unicode {ws.recv()!r}")
    ws.send(b"bytes as text")
    transcript.append(f"bytes sent as text {ws.recv()!r}")
    ws.send("text as binary", websocket.ABNF.OPCODE_BINARY)
    transcript.append(f"opcode binary {ws.recv()!r}")
    ws.send_text("data")
    transcript.append(f"recv_data {ws.recv_data()!r}")
    ws.ping("keepalive")
    ws.send("after ping")
    transcript.append(f"after ping {ws.recv()!r}")
    ws.close()
    transcript.append(f"closed: connected {ws.connected}, status {ws.getstatus()}")
    for action in (lambda: ws.send("too late"), ws.recv):
        try:
            action()
        except websocket.WebSocketConnectionClosedException as exc:
            transcript.append(f"after close: {type(exc).__name__}: {exc}")
    ws.close()  # again: nothing to do

    ws = websocket.create_connection(uri + "/chat", subprotocols=["superchat", "chat"])
    transcript.append(f"chat subprotocol {ws.subprotocol}, timeout {ws.timeout}")
    ws.close()

    try:
        websocket.create_connection(refused, timeout=5)
    except ConnectionRefusedError as exc:
        transcript.append(f"refused: ConnectionRefusedError {isinstance(exc, OSError)}")
    return transcript
