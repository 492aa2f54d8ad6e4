"""gql's own WebSocket transport, as its users write it: queries, variables, a GraphQL error,
a subscription during which the server pings, and the auth token in connection_init."""

from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport


async def main(uri: str) -> list[str]:
    transcript = []
    transport = WebsocketsTransport(url=uri + "/graphql", init_payload={"token": "t"})
    async with Client(transport=transport) as session:
        transcript.append(f"subprotocol {transport.subprotocol}")
        transcript.append(f"hello {await session.execute(gql('query { hello }'))}")
        add = GraphQLRequest(
            "query Add($a: Int!, $b: Int!) { add(a: $a, b: $b) }", variable_values={"a": 2, "b": 40}
        )
        transcript.append(f"add {await session.execute(add)}")
        try:
            await session.execute(gql("query { fail }"))
        except TransportQueryError as exc:
            transcript.append(f"error {exc.errors}")
        async for result in session.subscribe(gql("subscription { countdown(from: 3) }")):
            transcript.append(f"countdown {result}")
    transcript.append(f"closed {transport.close_exception!r}")
    return transcript
