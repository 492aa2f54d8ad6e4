"""The packages as published: versions agree, the wheel the JS module installs by default exists."""

from __future__ import annotations

import json
import re
import tomllib

from conftest import DIST, ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_js_versions_match_the_python_package():
    """js/package.json and the JS module's default wheel name carry pyproject's version."""
    version = PROJECT["version"]
    package = json.loads((ROOT / "js" / "package.json").read_text())
    assert package["version"] == version
    source = (ROOT / "js" / "websocket_streaming.js").read_text()
    names = re.findall(r'"\./(websocket_streaming-[^"]+\.whl)"', source)
    assert names == [f"websocket_streaming-{version}-py3-none-any.whl"]
    assert (DIST / names[0]).is_file(), "./build.sh puts the wheel beside the module in dist/"
