"""The docs site (built by ./build.sh docs into dist/docs/, which ./build.sh test runs before
pytest): every public name has its entry in the Python reference, every export of the .d.ts in
the JavaScript reference, and the README stays short and links only to what exists."""

from __future__ import annotations

import importlib
import re

import pytest
from conftest import DIST, ROOT

SITE = DIST / "docs"

#: The modules whose public names (their __all__) the Python reference documents.
DOCUMENTED = [
    "websocket_streaming",
    "websocket_streaming.compat",
    "websocket_streaming.sync",
    "websocket_streaming.compat_sync",
    "websocket_streaming.compat_websocket",
]


@pytest.fixture(scope="module")
def python_reference() -> str:
    page = SITE / "reference" / "python.html"
    if not page.exists():
        pytest.fail("dist/docs/ is not built: run ./build.sh docs (./build.sh test runs it)")
    return page.read_text()


@pytest.mark.parametrize("module", DOCUMENTED)
def test_every_public_name_is_in_the_python_reference(python_reference, module):
    names = importlib.import_module(module).__all__
    missing = [n for n in names if f'id="{module}.{n}"' not in python_reference]
    assert missing == []


def test_every_js_export_is_in_the_javascript_reference():
    dts = (ROOT / "js" / "websocket_streaming.d.ts").read_text()
    exports = re.findall(
        r"^export (?:declare )?(?:const|function|class|interface|type) (\w+)", dts, re.M
    )
    page = (ROOT / "docs" / "reference" / "javascript.md").read_text()
    assert len(exports) > 20
    assert [e for e in exports if f"\n## {e}\n" not in page] == []
