"""protocol.py: the pure rules (states, URLs, close codes, backoff, retry policy), no I/O."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_profiles import examples
from websocket_streaming.exceptions import (
    ConnectionClosedError,
    ConnectionClosedOK,
    InvalidCloseCode,
    InvalidURI,
)
from websocket_streaming.protocol import (
    OK_CLOSE_CODES,
    State,
    _parse_uri,
    check_close,
    check_uri,
    closed_exception,
    plain_ws_url,
)

# -- State -----------------------------------------------------------------------


def test_state_values_are_ready_state():
    """State's values are the browser's readyState numbers 0-3."""
    assert [(s.name, int(s)) for s in State] == [
        ("CONNECTING", 0),
        ("OPEN", 1),
        ("CLOSING", 2),
        ("CLOSED", 3),
    ]
    assert State(1) is State.OPEN


# -- check_uri ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "ws://example.com",
        "wss://example.com/",
        "ws://example.com/chat?room=1&x=%20",
        "ws://127.0.0.1:8765",
        "wss://[::1]:443/path",
        "ws://user:pw@example.com:80/",
        "WSS://EXAMPLE.COM/",
        "ws://localhost:0/",
        "ws://localhost:65535/",
    ],
)
def test_check_uri_accepts_websocket_urls(uri):
    """check_uri returns a valid ws:// or wss:// URL unchanged (the same object)."""
    assert check_uri(uri) is uri


@pytest.mark.parametrize(
    "uri", ["ftp://example.com/", "file:///tmp/x", "javascript:alert(1)", "data:,x", "blob:x"]
)
def test_check_uri_rejects_other_schemes(uri):
    """check_uri rejects a URL whose scheme is not ws, wss, http or https, naming the URL."""
    for base in (None, "http://page.test/app/"):
        with pytest.raises(InvalidURI) as info:
            check_uri(uri, base)
        assert repr(uri) in str(info.value)
        assert "ws://" in str(info.value)


@pytest.mark.parametrize("uri", ["example.com", "//example.com/", "/feed", "feed?x=1", ""])
def test_check_uri_rejects_relative_without_base(uri):
    """Without a page location (plain CPython) a relative URL is refused, naming the URL."""
    with pytest.raises(InvalidURI, match="relative URL") as info:
        check_uri(uri)
    assert repr(uri) in str(info.value)


@pytest.mark.parametrize(
    ("uri", "base", "expected"),
    [
        ("/feed", "http://page.test:8000/app/index.html", "ws://page.test:8000/feed"),
        ("feed?x=1", "http://page.test/app/index.html", "ws://page.test/app/feed?x=1"),
        ("../up", "https://page.test/a/b/c.html", "wss://page.test/a/up"),
        ("//other.test:81/x", "https://page.test/", "wss://other.test:81/x"),
        ("?q", "http://page.test/app/p.html?old", "ws://page.test/app/p.html?q"),
        ("http://h.test/x", None, "ws://h.test/x"),
        ("HTTPS://h.test:444/x", None, "wss://h.test:444/x"),
        ("https://h.test/", "http://page.test/", "wss://h.test/"),
        ("ws://h.test/x", "https://page.test/", "ws://h.test/x"),
        ("/worker-feed", "http://page.test/tests/worker.js", "ws://page.test/worker-feed"),
    ],
)
def test_check_uri_resolves_like_the_browser(uri, base, expected):
    """Relative URLs resolve against the base; http -> ws, https -> wss (WHATWG)."""
    assert check_uri(uri, base) == expected


@pytest.mark.parametrize("uri", ["/feed#top", "http://h/#", "#x"])
def test_check_uri_rejects_fragment_before_resolving(uri):
    """A #fragment is refused in relative and http URLs too, as the browser does."""
    with pytest.raises(InvalidURI, match="fragment"):
        check_uri(uri, "http://page.test/")


@pytest.mark.parametrize(
    "uri", ["ws://", "wss:///path", "ws://:8765/", "ws://@/", "ws://?q", "ws:example.com"]
)
def test_check_uri_rejects_no_host(uri):
    """check_uri rejects a ws:// URL without a host."""
    with pytest.raises(InvalidURI, match="has no host"):
        check_uri(uri)


@pytest.mark.parametrize("uri", ["ws://example.com/#top", "ws://example.com/#", "wss://h/?a=1#"])
def test_check_uri_rejects_fragment(uri):
    """check_uri rejects a URL with a #fragment, even an empty one."""
    with pytest.raises(InvalidURI, match="fragment"):
        check_uri(uri)


@pytest.mark.parametrize("uri", [None, b"ws://example.com/", 42, ["ws://example.com/"]])
def test_check_uri_rejects_non_str(uri):
    """check_uri rejects anything but a str, naming its type."""
    with pytest.raises(InvalidURI, match=f"not {type(uri).__name__}$"):
        check_uri(uri)


@pytest.mark.parametrize(
    "uri", ["ws://example.com:99999/", "ws://example.com:abc/", "ws://h:-1/", "ws://[::1/"]
)
def test_check_uri_rejects_bad_port_or_host(uri):
    """check_uri turns urllib's ValueError for a bad port or IPv6 host into InvalidURI."""
    with pytest.raises(InvalidURI, match="is not a valid URL") as info:
        check_uri(uri)
    assert info.value.__cause__ is None and info.value.__suppress_context__


_URL_PART = st.text(alphabet="wsWS:/?@[]\\%. \t0123456789abcé-_", max_size=24)


@settings(max_examples=examples(3000))
@given(st.sampled_from(["ws://", "wss://", "WS://", "wss:/", " ws://", "http://", ""]), _URL_PART)
def test_plain_ws_urls_are_those_the_parser_accepts_unchanged(prefix, rest):
    """The fast path (no urllib.parse import) accepts a URL only when parsing it would
    accept it too and return it unchanged; with or without a base."""
    uri = prefix + rest
    if "#" in uri or not plain_ws_url(uri):
        return
    for base in (None, "https://page.example/app/"):
        assert _parse_uri(uri, base) == uri


@pytest.mark.parametrize(
    ("uri", "plain"),
    [
        ("ws://example.com/feed", True),
        ("WSS://example.com:443/?x=1", True),
        ("ws://h:65535", True),
        ("ws://h:65536/", False),
        ("ws://h:/", False),
        ("ws://user@h/", False),
        ("ws://[::1]/", False),
        ("ws://hé/", False),
        ("wss:/h/", False),
        ("http://h/", False),
        ("ws://:80/", False),
    ],
)
def test_plain_ws_url(uri, plain):
    """Which URLs take the fast path: ws/wss with a plain ASCII host and a valid port."""
    assert plain_ws_url(uri) is plain


def test_plain_ws_url_is_checked_without_urllib():
    """Importing the package and checking a plain ws:// URL imports neither urllib.parse nor
    ipaddress (50-250 ms in Pyodide); a relative URL does."""
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from websocket_streaming.protocol import check_uri\n"
        "check_uri('wss://example.com:443/feed?x=1')\n"
        "print(sorted({'urllib.parse', 'ipaddress'} & set(sys.modules)))\n"
        "check_uri('/feed', 'https://page.example/')\n"
        "print('urllib.parse' in sys.modules)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(ROOT / "python")], capture_output=True, text=True
    )
    assert run.stdout.split("\n")[:2] == ["[]", "True"], run.stdout + run.stderr


def test_invalid_uri_is_a_value_error():
    """A bad URL can be caught as ValueError too."""
    with pytest.raises(ValueError):
        check_uri("ftp://example.com/")


# -- check_close -------------------------------------------------------------------


@pytest.mark.parametrize("code", [1000, 3000, 3999, 4000, 4999])
def test_check_close_accepts_allowed_codes(code):
    """check_close accepts 1000 and 3000-4999, the codes a page may send."""
    assert check_close(code, "") is None


@pytest.mark.parametrize("code", [0, 999, 1001, 1005, 1006, 1011, 2999, 5000, 65535, -1000])
def test_check_close_rejects_other_codes(code):
    """check_close rejects every code but 1000 and 3000-4999, naming it."""
    with pytest.raises(InvalidCloseCode, match=f"close code {code} is not allowed"):
        check_close(code, "")


@pytest.mark.parametrize("code", [True, False, "1000", 1000.0, None])
def test_check_close_rejects_non_int_codes(code):
    """check_close rejects a code that is not an int (bool included), naming its type."""
    with pytest.raises(InvalidCloseCode, match=f"must be an int, not {type(code).__name__}"):
        check_close(code, "")


@pytest.mark.parametrize(
    "reason",
    ["", "a" * 123, "é" * 61 + "a", "€" * 41, "😀" * 30 + "abc", "\ud800" * 41],
    ids=["empty", "ascii", "2-byte", "3-byte", "4-byte", "lone-surrogate"],
)
def test_check_close_accepts_123_byte_reason(reason):
    """check_close accepts a reason of up to 123 bytes of UTF-8, however many characters."""
    assert len(reason.encode("utf-8", "surrogatepass")) <= 123
    assert check_close(1000, reason) is None


@pytest.mark.parametrize(
    "reason",
    ["a" * 124, "é" * 62, "€" * 41 + "a", "😀" * 31, "\ud800" * 41 + "a"],
    ids=["ascii", "2-byte", "3-byte", "4-byte", "lone-surrogate"],
)
def test_check_close_rejects_124_byte_reason(reason):
    """check_close rejects a reason of 124 bytes of UTF-8, even with fewer characters."""
    assert len(reason.encode("utf-8", "surrogatepass")) == 124
    with pytest.raises(InvalidCloseCode, match="124 bytes"):
        check_close(4000, reason)


@pytest.mark.parametrize("reason", [None, b"bye", 1])
def test_check_close_rejects_non_str_reason(reason):
    """check_close rejects a reason that is not a str, naming its type."""
    with pytest.raises(InvalidCloseCode, match=f"must be a str, not {type(reason).__name__}"):
        check_close(1000, reason)


def test_invalid_close_code_is_a_value_error():
    """A bad close code can be caught as ValueError too."""
    with pytest.raises(ValueError):
        check_close(1001, "")


# -- closed_exception ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "was_clean", "cls"),
    [
        (1000, True, ConnectionClosedOK),
        (1001, True, ConnectionClosedOK),
        (1005, True, ConnectionClosedOK),
        (1000, False, ConnectionClosedError),
        (1001, False, ConnectionClosedError),
        (1005, False, ConnectionClosedError),
        (1006, False, ConnectionClosedError),
        (1006, True, ConnectionClosedError),
        (1011, True, ConnectionClosedError),
        (3000, True, ConnectionClosedError),
        (4000, True, ConnectionClosedError),
    ],
)
def test_closed_exception_classifies(code, was_clean, cls):
    """closed_exception is OK only for a clean 1000/1001/1005, Error otherwise."""
    reason = "" if code == 1005 else "why"  # 1005 with a reason was on the wire: an error
    exc = closed_exception(code, reason, was_clean)
    assert type(exc) is cls
    assert (exc.code, exc.reason) == (code, reason)


def test_ok_close_codes():
    """OK_CLOSE_CODES is exactly 1000, 1001 and 1005."""
    assert frozenset({1000, 1001, 1005}) == OK_CLOSE_CODES


@pytest.mark.parametrize(
    ("code", "reason", "cls"),
    [
        (1005, "", ConnectionClosedOK),  # an empty close frame: legitimate, in every browser
        (1005, "bad", ConnectionClosedError),  # 1005 on the wire (Firefox passes it through)
        (1006, "", ConnectionClosedError),  # reserved for reporting, never on the wire
        (1015, "", ConnectionClosedError),
        (999, "bad", ConnectionClosedError),  # out of range: Chromium and Firefox report it clean
        (0, "", ConnectionClosedError),
        (1004, "", ConnectionClosedError),  # reserved
        (1016, "", ConnectionClosedError),  # unassigned: 1016-2999
        (2999, "", ConnectionClosedError),
        (5000, "bad", ConnectionClosedError),  # >= 5000: out of range
        (65535, "", ConnectionClosedError),
        (1000, "", ConnectionClosedOK),
        (1001, "going", ConnectionClosedOK),
    ],
)
def test_codes_never_allowed_on_the_wire_are_errors_even_when_clean(code, reason, cls):
    """A clean close with a code that may never be sent (1006, 1015, out of range, unassigned)
    or 1005 with a reason (so not an empty frame) is an error close, whatever the browser's
    wasClean said; an empty close frame (the browser's 1005, no reason) stays OK."""
    exc = closed_exception(code, reason, True)
    assert type(exc) is cls
    assert (exc.code, exc.reason) == (code, reason)
