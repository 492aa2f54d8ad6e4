"""centrifuge-python's client, as its users write it: token auth, a subscription with a
publication handler, publish, RPC (one answered, one refused) and the server's pings."""

import asyncio

from centrifuge import (
    Client,
    ClientEventHandler,
    ConnectedContext,
    PublicationContext,
    ReplyError,
    SubscriptionEventHandler,
)


async def main(uri: str) -> list[str]:
    transcript = []
    connected: asyncio.Queue[ConnectedContext] = asyncio.Queue()
    publications: asyncio.Queue[PublicationContext] = asyncio.Queue()

    class ClientEvents(ClientEventHandler):
        async def on_connected(self, ctx: ConnectedContext) -> None:
            connected.put_nowait(ctx)

    class NewsEvents(SubscriptionEventHandler):
        async def on_publication(self, ctx: PublicationContext) -> None:
            publications.put_nowait(ctx)

    client = Client(uri + "/centrifuge", events=ClientEvents(), token="t", timeout=5)
    news = client.new_subscription("news", events=NewsEvents())
    await client.connect()
    ctx = await asyncio.wait_for(connected.get(), 5)
    transcript.append(f"connected {ctx.client} {ctx.version}")
    await news.subscribe()
    await news.ready(timeout=5)
    transcript.append(f"subscribed {news.state.value}")
    await news.publish({"text": "héllo"})
    publication = await asyncio.wait_for(publications.get(), 5)
    transcript.append(f"publication {publication.pub.data}")
    result = await client.rpc("add", {"a": 2, "b": 40})
    transcript.append(f"rpc {result.data}")
    try:
        await client.rpc("nope", {})
    except ReplyError as exc:
        transcript.append(f"rpc error {exc.code} {exc.message}")
    await client.disconnect()
    transcript.append(f"state {client.state.value}")
    return transcript
