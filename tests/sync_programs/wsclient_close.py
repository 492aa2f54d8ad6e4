"""websocket-client: timeouts, iteration, the server's close, a lost connection."""

import websocket
from websocket import WebSocketConnectionClosedException, WebSocketTimeoutException


def main(uri: str, refused: str) -> list[str]:
    transcript = []
    ws = websocket.create_connection(uri + "/echo")
    ws.settimeout(0.2)
    try:
        ws.recv()
    except WebSocketTimeoutException as exc:
        transcript.append(f"timeout: {exc}")
    ws.send("still usable")
    transcript.append(f"after timeout {ws.recv()!r}, connected {ws.connected}")
    ws.settimeout(None)
    ws.close()

    ws = websocket.create_connection(uri + "/close?n=3&code=1000&reason=bye", timeout=5)
    try:
        for message in ws:
            transcript.append(f"iterated {message!r}, connected {ws.connected}")
    except WebSocketConnectionClosedException as exc:
        transcript.append(f"iteration ended: {exc}")
    ws.close()  # nothing to do once the server closed: shutdown() frees the socket
    ws.shutdown()

    ws = websocket.create_connection(uri + "/close?code=4000&reason=custom", timeout=5)
    opcode, data = ws.recv_data()
    transcript.append(f"close frame: opcode {opcode}, data {data!r}")
    ws.shutdown()

    ws = websocket.create_connection(uri + "/drop?n=1", timeout=5)
    transcript.append(f"before drop {ws.recv()!r}")
    try:
        ws.recv()
    except WebSocketConnectionClosedException as exc:
        transcript.append(f"dropped: {exc}")
    ws.shutdown()
    return transcript
