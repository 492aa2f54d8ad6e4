"""The wheel's build hook: what ships to every page is the package without comments.

Comments explain the code to its readers (they stay in the repository and the sdist);
in the wheel they are bytes every page downloads and nothing reads. Python files lose
their ``#`` comments (``tokenize``: never a ``#`` inside a string; lines are kept, so
tracebacks still point at the right line) and keep their docstrings, which ``help()``
shows. ``browser.js`` loses its ``//`` comment lines and ``/* */`` blocks (its JSDoc
types are for ``tsc --checkJs``, not for the browser).
"""

from __future__ import annotations

import io
import re
import tempfile
import tokenize
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PACKAGE = Path("python/websocket_streaming")


def strip_python(source: str) -> str:
    """``source`` without its comments, every line kept (a comment-only line becomes empty)."""
    lines = source.splitlines(keepends=True)
    for token in reversed(list(tokenize.generate_tokens(io.StringIO(source).readline))):
        if token.type == tokenize.COMMENT:
            (row, start), (_, end) = token.start, token.end
            line = lines[row - 1]
            lines[row - 1] = (line[:start].rstrip() + line[end:]) if line[:start].strip() else "\n"
    return "".join(lines)


def strip_js(source: str) -> str:
    """``source`` without its ``/* */`` blocks and whole-line ``//`` comments (a comment after
    code on the same line stays: telling it from ``//`` in a string needs a parser)."""
    source = re.sub(r"[ \t]*/\*.*?\*/[ \t]*\n?", "", source, flags=re.S)
    return "".join(
        line for line in source.splitlines(keepends=True) if not re.match(r"\s*//", line)
    )


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Puts the stripped copies in the wheel in place of the sources."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        self._tmp = tempfile.TemporaryDirectory()
        out = Path(self._tmp.name)
        for path in sorted((Path(self.root) / PACKAGE).iterdir()):
            strip = {".py": strip_python, ".js": strip_js}.get(path.suffix)
            if strip is None:
                continue
            target = out / path.name
            target.write_text(strip(path.read_text(encoding="utf-8")), encoding="utf-8")
            build_data["force_include"][str(target)] = f"websocket_streaming/{path.name}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if self.target_name == "wheel":
            self._tmp.cleanup()
