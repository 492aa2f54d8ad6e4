"""The docs site (built by ./build.sh docs into dist/docs/, which ./build.sh test runs before
pytest): every public name has its entry in the Python reference, every export of the .d.ts in
the JavaScript reference, and the README stays short and links only to what exists."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

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


def documented_tree() -> dict[str, tuple[str, ...]]:
    """The exception tree drawn in the getting-started guide: each name with its drawn parent
    and the builtin named in brackets, ``{name: (parent, builtin...)}``."""
    guide = (ROOT / "docs" / "guides" / "getting-started.md").read_text()
    block = guide.split("Exceptions (all from `websocket_streaming`):", 1)[1].split("```")[1]
    tree: dict[str, tuple[str, ...]] = {}
    stack: list[tuple[int, str]] = []
    for line in block.strip("\n").splitlines():
        found = re.match(r"([\s│├└─]*)(\w+)(?: \((\w+)\))?", line)
        assert found, line
        depth = len(found[1])
        while stack and stack[-1][0] >= depth:
            stack.pop()
        tree[found[2]] = (stack[-1][1] if stack else "Exception", *filter(None, [found[3]]))
        stack.append((depth, found[2]))
    return tree


def test_the_exception_tree_drawn_is_the_real_one():
    """Every exception class of the package is drawn, under its real parent, with the builtin it
    also is; nothing drawn is not a class."""
    module = importlib.import_module("websocket_streaming")
    real = {
        name: (obj.__bases__[0].__name__, *(b.__name__ for b in obj.__bases__[1:]))
        for name in module.__all__
        if isinstance(obj := getattr(module, name), type) and issubclass(obj, BaseException)
    }
    assert documented_tree() == real


def test_the_readme_is_short_and_its_links_exist():
    """The README fits on a few screens and every relative link names a file of the repository."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [link for link in links if "://" not in link]
    assert len(local) >= 10, local
    assert [link for link in local if not (ROOT / link).exists()] == []


def test_the_performance_table_and_chart_are_generated_from_the_benchmark_json():
    """The Performance page's table and the chart are what tools/speed_table.py makes from
    demo/speed.json, the benchmark run they claim: no figure is typed by hand."""
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "speed_table.py"),
            "--json",
            str(ROOT / "demo" / "speed.json"),
            "--check",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
