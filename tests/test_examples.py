"""Every Python and JavaScript example of the README and the docs runs, so the docs cannot drift
from the code: each ```python / ```js block is extracted and run in the shared Pyodide page of
each engine, against the test server, or is marked on the line before it with
``<!-- not run: <reason> -->``.

The examples name the demo server (``ws://127.0.0.1:8765/<stream>``); here each stream is
a route of the test server that ends (:data:`STREAMS`), so that a loop over it ends too.
JavaScript examples import the facade (``from "websocket-streaming"`` or
``"./websocket_streaming.js"``), which becomes an import of dist's module, and may use the
page's ``pyodide``.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, PyodideError

SOURCES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# The JS reference is generated from the .d.ts: its blocks are declarations, not examples.
GENERATED = {ROOT / "docs" / "reference" / "javascript.md"}

BLOCK = re.compile(
    r"(?:^<!-- (?:not run: (?P<reason>.+?)|(?P<forever>runs until stopped)|(?P<blocks>blocks))"
    r" -->\n)?"
    r"^```(?P<lang>[\w-]*)\n(?P<code>.*?)^```",
    re.M | re.S,
)
LANGS = {"python": "python", "py": "python", "js": "js", "javascript": "js"}

#: The demo's streams, as routes of the test server: live ones, and an echo for the chat.
STREAMS = {"ticker": "ticker", "sensor": "ticker", "chat": "echo"}

#: The engines without JSPI, where blocking code is refused (ENVIRONMENT: WebKitGTK 2.50).
NO_JSPI = {"webkit"}

#: Seconds an example marked "runs until stopped" runs.
UNTIL = 1.0


@dataclass(frozen=True)
class Example:
    path: Path
    line: int
    lang: str
    code: str
    reason: str | None
    forever: bool
    blocks: bool

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def collect() -> list[Example]:
    found = []
    for path in SOURCES:
        if path in GENERATED:
            continue
        text = path.read_text()
        for m in BLOCK.finditer(text):
            lang = LANGS.get(m["lang"])
            if lang is None:
                continue
            line = text.count("\n", 0, m.start("lang")) + 1
            found.append(
                Example(
                    path, line, lang, m["code"], m["reason"], bool(m["forever"]), bool(m["blocks"])
                )
            )
    return found


EXAMPLES = collect()
RUN = [e for e in EXAMPLES if e.reason is None]


def test_examples_are_found_and_reasons_given():
    """The collector sees the README's samples in both languages, and a marked block says why."""
    assert {e.lang for e in EXAMPLES if e.path.name == "README.md"} == {"python", "js"}
    assert all(e.reason.strip() for e in EXAMPLES if e.reason is not None)


def local(code: str, ws_url: str) -> str:
    """The example with the demo's URLs pointed at the test server's routes."""
    return re.sub(r"ws://127\.0\.0\.1:8765/(\w+)", lambda m: f"{ws_url}/{STREAMS[m[1]]}", code)


_RUN_PY = """
import asyncio, contextlib, io

async def _example():
{body}

_out = io.StringIO()
with contextlib.redirect_stdout(_out):
    try:
        await asyncio.wait_for(_example(), {timeout})
        stopped = False
    except TimeoutError:
        stopped = True
result = [stopped, _out.getvalue().splitlines()]
"""

_RUN_JS = """
async ({ code, until }) => {
  const logged = [];
  const console = { log: (...args) => logged.push(args.map(String).join(" ")) };
  const run = new Function("pyodide", "console", `return (async () => {\\n${code}\\n})();`);
  const stop = until ? new Promise((r) => setTimeout(() => r("stopped"), until * 1000)) : null;
  const ended = await Promise.race([run(window.pyodide, console).then(() => "ended"), stop ?? new Promise(() => {})]);
  return [ended === "stopped", logged];
}
"""


def as_script(code: str) -> str:
    """A JS example as a function body: its imports of the facade become dynamic imports."""
    return re.sub(
        r'^import \{([^}]*)\} from "[^"]*(?:websocket-streaming|websocket_streaming\.js)";$',
        r'const {\1} = await import("/websocket_streaming.js");',
        code,
        flags=re.M,
    )


@pytest.mark.parametrize("example", RUN, ids=lambda e: e.id)
def test_example_runs(py, ws_url, example):
    """It ends (within 20 s) and prints something, or, marked "runs until stopped", prints
    at least 3 messages in UNTIL seconds without raising."""
    code = local(example.code, ws_url)
    if example.blocks and py.engine in NO_JSPI:
        with pytest.raises(PyodideError, match=r"CannotBlock: .* cannot block here"):
            py.run(_RUN_PY.format(body=textwrap.indent(code, "    "), timeout=20), timeout=60)
        return
    if example.lang == "python":
        body = textwrap.indent(code, "    ")
        timeout = UNTIL if example.forever else 20
        stopped, printed = py.run(_RUN_PY.format(body=body, timeout=timeout), timeout=60)
    else:
        stopped, printed = py.js(
            _RUN_JS, {"code": as_script(code), "until": UNTIL if example.forever else 0}, timeout=60
        )
    assert stopped == example.forever, printed
    assert len(printed) >= (3 if example.forever else 1), printed
