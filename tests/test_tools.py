"""tools/check_imports.py on small packages written to tmp_path."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

from conftest import ROOT

_spec = importlib.util.spec_from_file_location("check_imports", ROOT / "tools" / "check_imports.py")
assert _spec is not None and _spec.loader is not None
check_imports = importlib.util.module_from_spec(_spec)
sys.modules["check_imports"] = check_imports  # dataclasses look their module up by name
_spec.loader.exec_module(check_imports)


def make_package(root: Path, files: dict[str, str]) -> Path:
    """Write a package ``pkg`` under ``root`` from {relative path: source}; return its folder."""
    package = root / "pkg"
    for name, source in {"__init__.py": "", **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return package


def test_clean_package_passes(tmp_path, capsys):
    """Re-exports, TYPE_CHECKING imports and marked lazy imports are no problem; exit status 0."""
    package = make_package(
        tmp_path,
        {
            "__init__.py": "from .a import f\nfrom .b import g\n",
            "a.py": """\
                from typing import TYPE_CHECKING
                from . import c
                if TYPE_CHECKING:
                    from .b import g  # never runs: not an edge
                def f():
                    from .c import h  # lazy-import: keeps c out of start-up
                    return h
            """,
            "b.py": "import pkg.c\nfrom pkg.sub import d\ndef g(): pass\n",
            "c.py": "import json\ndef h(): pass\n",
            "sub/__init__.py": "",
            "sub/d.py": "from ..c import h\n",
        },
    )
    assert check_imports.problems(package) == []
    assert check_imports.main([str(package)]) == 0
    assert capsys.readouterr().err == ""


def test_a_cycle_is_reported_with_its_lines(tmp_path, capsys):
    """a -> b -> a at module level is one cycle, named module by module with file and line."""
    package = make_package(
        tmp_path,
        {
            "a.py": "import os\nfrom .b import g\ndef f(): pass\n",
            "b.py": "from pkg import a\ndef g(): pass\n",
        },
    )
    [message] = check_imports.problems(package)
    assert message.startswith("import cycle: pkg.a -> pkg.b -> pkg.a")
    assert f"{package / 'a.py'}:2: from .b import g" in message
    assert f"{package / 'b.py'}:1: from pkg import a" in message
    assert check_imports.main([str(package)]) == 1
    assert "import cycle" in capsys.readouterr().err


def test_a_cycle_through_a_lazy_import_is_still_a_cycle(tmp_path):
    """A function-level import that hides a cycle is reported, even with the lazy-import marker."""
    package = make_package(
        tmp_path,
        {
            "client.py": "from .browser import open_socket\n",
            "browser.py": """\
                def open_socket():
                    from .client import connect  # lazy-import: breaks the cycle
                    return connect
            """,
        },
    )
    [message] = check_imports.problems(package)
    assert "import cycle: pkg.browser -> pkg.client -> pkg.browser" in message
    assert "(in a function)" in message


def test_a_function_level_import_needs_the_marker(tmp_path):
    """An intra-package import inside a function without a 'lazy-import:' comment is reported."""
    package = make_package(
        tmp_path,
        {
            "a.py": """\
                import json
                async def f():
                    import os
                    from .b import g
                    return g
            """,
            "b.py": "def g(): pass\n",
        },
    )
    [message] = check_imports.problems(package)
    assert message.startswith(f"function-level import: {package / 'a.py'}:4: from .b import g")
    assert "lazy-import:" in message


def test_a_marker_on_any_line_of_a_multiline_import_counts(tmp_path):
    """The marker may sit on any line of a parenthesised import."""
    package = make_package(
        tmp_path,
        {
            "a.py": """\
                def f():
                    from .b import (  # lazy-import: b needs the browser
                        g,
                    )
            """,
            "b.py": "def g(): pass\n",
        },
    )
    assert check_imports.problems(package) == []
