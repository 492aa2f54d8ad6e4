"""websocket-client: WebSocketApp callbacks with run_forever."""

import websocket


def main(uri: str, refused: str) -> list[str]:
    transcript = []

    def on_open(ws):
        transcript.append("open")
        ws.send("first")

    def on_message(ws, message):
        transcript.append(f"message {message!r}")
        if message == "first":
            ws.send("second")
        elif message == "second":
            ws.close()

    def on_error(ws, error):
        transcript.append(f"error {type(error).__name__}: {error}")

    def on_close(ws, close_status_code, close_msg):
        transcript.append(f"close {close_status_code} {close_msg}")

    app = websocket.WebSocketApp(
        uri + "/echo", on_open=on_open, on_message=on_message, on_error=on_error, on_close=on_close
    )
    transcript.append(f"run_forever returned {app.run_forever()}")

    app = websocket.WebSocketApp(
        uri + "/close?n=2&code=1000&reason=bye",
        on_message=on_message,
        on_error=on_error,
        on_close=on_close,
    )
    transcript.append(f"server close: run_forever returned {app.run_forever()}")

    def failing(ws, message):
        raise ValueError(f"callback failed on {message}")

    app = websocket.WebSocketApp(
        uri + "/close?n=1&code=4001&reason=done",
        on_message=failing,
        on_error=on_error,
        on_close=on_close,
    )
    transcript.append(f"failing callback: run_forever returned {app.run_forever()}")

    def on_refused(ws, error):
        transcript.append(
            f"refused: ConnectionRefusedError {isinstance(error, ConnectionRefusedError)}"
        )

    app = websocket.WebSocketApp(refused, on_error=on_refused, on_close=on_close)
    transcript.append(f"refused: run_forever returned {app.run_forever()}")
    return transcript
