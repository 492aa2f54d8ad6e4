"""Handshake headers on CPython: their checks, and how connect() and the compat layer hand them
to the transport (the hosts that send them are tested in test_hosts.py)."""

from __future__ import annotations

import re

import pytest
from fake_transport import FakeFactory, async_test
from websocket_streaming import compat, connect
from websocket_streaming.options import check_headers
from websockets.datastructures import Headers

URL = "ws://example.test/feed"


def test_check_headers_takes_mappings_pairs_and_raw_items():
    """A mapping gives its items, pairs stay in order (a name may repeat), a Headers all its values."""
    assert check_headers(None) == ()
    assert check_headers({"Authorization": "Bearer x"}) == (("Authorization", "Bearer x"),)
    assert check_headers([("X-A", "1"), ("X-A", "2")]) == (("X-A", "1"), ("X-A", "2"))
    headers = Headers()
    headers["X-A"] = "1"
    headers["X-A"] = "2"
    assert check_headers(headers) == (("X-A", "1"), ("X-A", "2"))


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ("Authorization: x", TypeError, "must be a mapping or"),
        (42, TypeError, "must be a mapping or"),
        ([("X-A",)], TypeError, "is not a (name, value) pair"),
        ({"X-A": 1}, TypeError, "names and values must be str"),
        ({"X A": "1"}, ValueError, "'X A' is not a valid header name"),
        ({"": "1"}, ValueError, "'' is not a valid header name"),
        ({"X-A": "1\r\nX-B: 2"}, ValueError, "the value of X-A has a line break"),
        ({"Sec-WebSocket-Protocol": "chat"}, ValueError, "sets it itself (use subprotocols)"),
        ({"host": "evil.test"}, ValueError, "may not set host"),
    ],
)
def test_check_headers_refuses_bad_ones(value, error, message):
    """A bad header raises at once, naming it; so do those the WebSocket sets itself."""
    with pytest.raises(error, match=rf"^additional_headers.*{re.escape(message)}"):
        check_headers(value)
    with pytest.raises(error):
        connect(URL, additional_headers=value, transport_factory=FakeFactory())


@async_test
async def test_connect_hands_headers_to_the_transport():
    """With headers, each attempt's factory call gets them as headers=; without, none."""
    factory = FakeFactory()
    ws = await connect(
        URL, additional_headers={"Authorization": "Bearer x"}, transport_factory=factory
    )
    await connect(URL, transport_factory=factory)
    assert factory.headers == [(("Authorization", "Bearer x"),), ()]
    ws.abort()


@async_test
async def test_compat_passes_additional_headers_and_user_agent_to_the_core():
    """websockets' additional_headers (legacy: extra_headers) and user_agent_header reach the
    core; the User-Agent given replaces one in the headers; None adds none."""
    factory = FakeFactory()
    headers = {"Authorization": "Bearer x", "User-Agent": "old"}
    await compat.connect(
        URL, additional_headers=headers, user_agent_header="app/1", transport_factory=factory
    )
    await compat.connect(URL, user_agent_header=None, transport_factory=factory)
    await compat.legacy_connect(URL, extra_headers=[("X-A", "1")], transport_factory=factory)
    assert factory.headers == [  # names as compat's Headers gives them: lower case
        (("authorization", "Bearer x"), ("User-Agent", "app/1")),
        (),
        (("x-a", "1"),),
    ]
