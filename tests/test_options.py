"""options.py: the one options schema, what is generated from it, and its exact messages."""

from __future__ import annotations

import importlib
import inspect
import math
import re
import subprocess
import sys

import pytest
from conftest import ROOT
from fake_transport import exactly
from websocket_streaming import WebSocketStream, connect, protocol
from websocket_streaming.options import (
    DEFAULTS,
    HEARTBEAT_FIELDS,
    OPTIONS,
    Builtin,
    Heartbeat,
    check_count,
    check_options,
    check_seconds,
)

sys.path.insert(0, str(ROOT / "tools"))
import gen_options  # tools/ is not a package: found through the path above

DTS = (ROOT / "js" / "websocket_streaming.d.ts").read_text()
#: The options the JS facade takes that are JS's alone (loading Pyodide, aborting).
JS_ONLY = {"pyodide", "indexURL", "wheelURL", "signal"}


def _default(value: object) -> object:
    """A schema default as the signature holds it (a Builtin resolved to its function)."""
    if isinstance(value, Builtin):
        module, name = value.name.rsplit(".", 1)
        return getattr(importlib.import_module(f"websocket_streaming.{module}"), name)
    return value


def _keywords(function: object) -> dict[str, inspect.Parameter]:
    """The keyword-only parameters of a callable."""
    parameters = inspect.signature(function).parameters.values()  # type: ignore[arg-type]
    return {p.name: p for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}


def _interface(name: str) -> dict[str, str]:
    """The members of a .d.ts interface: name -> its @default ("" if none)."""
    body = re.search(rf"^export interface {name}\b[^{{]*\{{\n(.*?)^\}}", DTS, re.M | re.S)
    assert body, name
    members = {}
    for doc, member in re.findall(r"(?:/\*\*(.*?)\*/\s*)?^  (\w+)\??:", body.group(1), re.M | re.S):
        found = re.search(r"@default (.+?)\s*$", doc)
        members[member] = found.group(1) if found else ""
    return members


def test_generated_blocks_are_current():
    """The JS table and .d.ts option types are what tools/gen_options.py renders now."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_options.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_connect_signature_is_the_schema():
    """Every keyword of connect() is in the schema, and every schema option is a keyword."""
    schema = [o.name for o in OPTIONS if o.group != "heartbeat"]
    assert list(_keywords(connect)) == schema


@pytest.mark.parametrize("function", [connect, WebSocketStream, protocol.backoff], ids=repr)
def test_signature_defaults_are_the_schema(function):
    """Every defaulted keyword of connect(), WebSocketStream and backoff() has the schema's default."""
    parameters = inspect.signature(function).parameters
    checked = [name for name in parameters if hasattr(DEFAULTS, name)]
    assert checked
    for name in checked:
        assert parameters[name].default == _default(getattr(DEFAULTS, name)), name


def test_heartbeat_defaults_are_the_schema():
    """Heartbeat's fields are the heartbeat group, with its defaults; interval is required."""
    fields = inspect.signature(Heartbeat).parameters
    assert list(fields) == list(HEARTBEAT_FIELDS)
    for name, option in HEARTBEAT_FIELDS.items():
        expected = inspect.Parameter.empty if option.required else option.default
        assert fields[name].default == expected, name


def test_dts_options_are_the_schema():
    """The .d.ts option interfaces name every JS option of the schema, with its @default."""
    groups = {"WebSocketStreamOptions": "", "ReconnectOptions": "reconnect"}
    groups["HeartbeatOptions"] = "heartbeat"
    for interface, js_in in groups.items():
        members = _interface(interface)
        schema = {o.js: o for o in OPTIONS if o.js and o.js_in == js_in}
        assert set(members) - JS_ONLY == set(schema), interface
        for name, option in schema.items():
            shown = "" if option.required else gen_options.literal(option.default)
            assert members[name] == shown, (interface, name)


def test_defaults_refuse_unknown_names():
    """DEFAULTS has the options' defaults and no other name."""
    assert DEFAULTS.write_limit == 8 << 20
    with pytest.raises(AttributeError, match=exactly("no option 'writelimit'")):
        DEFAULTS.writelimit  # noqa: B018


# -- one check per kind, with its exact message ------------------------------------


@pytest.mark.parametrize(
    ("values", "exc_type", "message"),
    [
        (
            {"close_timeout": "5"},
            TypeError,
            "close_timeout must be a number of seconds or None, not str",
        ),
        ({"min_delay": None}, TypeError, "min_delay must be a number of seconds, not NoneType"),
        (
            {"open_timeout": math.inf},
            ValueError,
            "open_timeout must be a finite number >= 0, not inf",
        ),
    ],
    ids=repr,
)
def test_seconds_kind(values, exc_type, message):
    """A seconds option: a number (not bool), finite, >= 0; None only where allowed."""
    with pytest.raises(exc_type, match=exactly(message)):
        check_options(values)


@pytest.mark.parametrize(
    ("values", "exc_type", "message"),
    [
        ({"max_size": 1.0}, TypeError, "max_size must be an int or None, not float"),
        ({"send_queue": None}, TypeError, "send_queue must be an int, not NoneType"),
        ({"max_retries": -1}, ValueError, "max_retries must be >= 0, not -1"),
    ],
    ids=repr,
)
def test_count_kind(values, exc_type, message):
    """A count option: an int (not bool), >= 0; None only where allowed."""
    with pytest.raises(exc_type, match=exactly(message)):
        check_options(values)


def test_choice_kind():
    """A choice option: one of its choices, or None where allowed, else ValueError."""
    with pytest.raises(
        ValueError, match=exactly("on_overflow must be one of ('close', 'drop-oldest'), not None")
    ):
        check_options({"on_overflow": None})
    message = "backend must be one of ('classic', 'native', 'auto') or None, not 'fast'"
    with pytest.raises(ValueError, match=exactly(message)):
        check_options({"backend": "fast"})
    check_options({"backend": None, "on_overflow": "drop-oldest"})


def test_heartbeat_kind():
    """The heartbeat option: a Heartbeat or None."""
    with pytest.raises(TypeError, match=exactly("heartbeat must be a Heartbeat or None, not dict")):
        check_options({"heartbeat": {"interval": 1}})
    check_options({"heartbeat": Heartbeat(1)})


def test_message_kind():
    """A heartbeat ping is str or bytes; its pong may also be a callable."""
    with pytest.raises(TypeError, match=exactly("heartbeat ping must be str or bytes, not int")):
        Heartbeat(1, ping=5)  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match=exactly("heartbeat pong must be str, bytes or a callable, not int")
    ):
        Heartbeat(1, pong=5)  # type: ignore[arg-type]
    assert Heartbeat(1, pong=bytes.isascii).pong is bytes.isascii


def test_positive_rule():
    """interval and idle_timeout refuse 0, in the words each has always used."""
    with pytest.raises(ValueError, match=exactly("heartbeat interval must be > 0, not 0")):
        Heartbeat(0)
    with pytest.raises(
        ValueError, match=exactly("idle_timeout must be > 0 (or None for no idle timeout)")
    ):
        check_options({"idle_timeout": 0})


def test_minimum_rule():
    """factor must be at least 1; 1 itself is fine."""
    with pytest.raises(ValueError, match=exactly("factor must be at least 1, not 0.9")):
        check_options({"factor": 0.9})
    check_options({"factor": 1})


def test_not_below_rule():
    """max_delay may not be below min_delay, given or the default."""
    with pytest.raises(ValueError, match=exactly("max_delay (1) must not be below min_delay (2)")):
        check_options({"min_delay": 2, "max_delay": 1})
    with pytest.raises(
        ValueError, match=exactly("max_delay (0.1) must not be below min_delay (0.5)")
    ):
        check_options({"max_delay": 0.1})
    check_options({"min_delay": 2, "max_delay": 2})  # equal is fine


def test_unchecked_kinds():
    """Flags, callables, objects and subprotocols are not checked by the schema."""
    check_options({"reconnect": 1, "on_connect": "x", "lifecycle": 5, "subprotocols": 3})


@pytest.mark.parametrize("function", [connect, WebSocketStream], ids=repr)
def test_none_is_allowed_exactly_where_the_schema_says(function):
    """A keyword's annotation admits None exactly when its schema row is nullable."""
    parameters = _keywords(function)
    for option in OPTIONS:
        if option.name in parameters:
            annotation = str(parameters[option.name].annotation)
            assert ("None" in annotation) == option.nullable, (option.name, annotation)


def test_heartbeat_is_a_frozen_value_with_its_reply_timeout():
    """A Heartbeat cannot be changed once made (streams share it); its reply timeout is the
    timeout, or the interval when there is none. Option rows are frozen too."""
    beat = Heartbeat(10)
    with pytest.raises(AttributeError):
        beat.interval = 1  # type: ignore[misc]
    with pytest.raises(AttributeError):
        OPTIONS[0].default = 1  # type: ignore[misc]
    with pytest.raises(AttributeError):
        Builtin("protocol.should_retry").name = "x"  # type: ignore[misc]
    assert (Heartbeat(10).reply_timeout, Heartbeat(10, timeout=3).reply_timeout) == (10, 3)
    assert Heartbeat(10, timeout=0).reply_timeout == 0


def test_check_seconds_and_count_allow_none_by_default():
    """check_seconds() and check_count() take None unless told not to."""
    check_seconds("x", None)
    check_count("x", None)
    with pytest.raises(TypeError, match=exactly("x must be a number of seconds, not NoneType")):
        check_seconds("x", None, allow_none=False)
