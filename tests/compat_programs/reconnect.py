"""The reconnect loop: `async for websocket in connect(...)`, continue on ConnectionClosed."""

import websockets

transcript = []


async def main(uri: str) -> list[str]:
    transcript.clear()
    connections = 0
    async for websocket in websockets.connect(uri + "/close?n=2&code=1011&reason=restart"):
        connections += 1
        try:
            async for message in websocket:
                transcript.append(f"connection {connections}: {message}")
        except websockets.ConnectionClosed as exc:
            transcript.append(
                f"connection {connections}: {type(exc).__name__} "
                f"rcvd={exc.rcvd.code} {exc.rcvd.reason} sent={exc.sent.code}"
            )
            if connections == 3:
                break
            continue
    return transcript
