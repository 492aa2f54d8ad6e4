"""Consumer pattern: iterate over messages until the server closes the connection."""

from websockets.asyncio.client import connect

transcript = []


async def consume(message):
    transcript.append(f"consumed {message}")


async def consumer_handler(websocket):
    async for message in websocket:
        await consume(message)


async def main(uri: str) -> list[str]:
    transcript.clear()
    async with connect(uri + "/close?n=4&code=1000&reason=that%27s%20all") as websocket:
        await consumer_handler(websocket)
        transcript.append(f"closed: {websocket.close_code} {websocket.close_reason!r}")
    return transcript
