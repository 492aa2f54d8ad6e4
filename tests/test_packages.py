"""The packages as published: versions agree, the wheel the JS module installs by default
exists, and `./build.sh packages` makes a complete sdist, wheel (twine check) and npm tarball."""

from __future__ import annotations

import email
import json
import re
import subprocess
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
from conftest import DIST, ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_js_versions_match_the_python_package():
    """js/package.json and the JS module's default wheel name carry pyproject's version."""
    version = PROJECT["version"]
    package = json.loads((ROOT / "js" / "package.json").read_text())
    assert package["version"] == version
    source = (ROOT / "js" / "load_pyodide.js").read_text()
    names = re.findall(r'"\./(websocket_streaming-[^"]+\.whl)"', source)
    assert names == [f"websocket_streaming-{version}-py3-none-any.whl"]
    assert (DIST / names[0]).is_file(), "./build.sh puts the wheel beside the module in dist/"


@pytest.fixture(scope="module")
def packages() -> dict[str, Path]:
    """`./build.sh packages`: the sdist, the wheel and the npm tarball in build/packages/."""
    run = subprocess.run(
        [str(ROOT / "build.sh"), "packages"], capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stdout + run.stderr
    version = PROJECT["version"]
    out = ROOT / "build" / "packages"
    found = {
        "sdist": out / f"websocket_streaming-{version}.tar.gz",
        "wheel": out / f"websocket_streaming-{version}-py3-none-any.whl",
        "npm": out / f"websocket-streaming-{version}.tgz",
    }
    assert all(path.is_file() for path in found.values()), sorted(p.name for p in out.iterdir())
    assert run.stdout.count("PASSED") == 2, run.stdout  # twine check --strict, sdist and wheel
    return found


def test_wheel_metadata_is_complete(packages):
    """The wheel's METADATA: license, URLs, classifiers, python/README.md as Markdown (what PyPI
    shows: short, since the wheel is what every page downloads, with a link to the full README)."""
    with zipfile.ZipFile(packages["wheel"]) as wheel:
        name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        meta = email.message_from_bytes(wheel.read(name))
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in wheel.namelist())
    assert meta["License-Expression"] == "MIT"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta["Requires-Python"] == ">=3.12"
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert set(urls) >= {"Homepage", "Repository", "Issues"}
    classifiers = meta.get_all("Classifier")
    assert "Environment :: WebAssembly :: Emscripten" in classifiers
    assert "Typing :: Typed" in classifiers
    description = meta.get_payload()
    assert description == (ROOT / "python" / "README.md").read_text(encoding="utf-8")
    assert urls["Repository"] + "#readme" in description
    assert len(description) < 4000, len(description)


def test_sdist_holds_the_sources(packages):
    """The sdist has the package (browser.js too), the JS module, README, LICENSE, pyproject and
    the wheel's build hook (tools/hatch_build.py), so a wheel builds from it."""
    with tarfile.open(packages["sdist"]) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert {
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "PKG-INFO",
        "python/websocket_streaming/__init__.py",
        "python/websocket_streaming/browser.js",
        "python/websocket_streaming/py.typed",
        "js/websocket_streaming.js",
        "js/load_pyodide.js",
        "js/websocket_streaming.d.ts",
        "tools/hatch_build.py",
    } <= names


def test_npm_tarball_is_complete(packages):
    """The npm tarball: module, types, the wheel it installs by default, README, LICENSE and
    repository metadata that agrees with pyproject's; `npm pack --dry-run --json` lists the same."""
    with tarfile.open(packages["npm"]) as tgz:
        names = sorted(n.removeprefix("package/") for n in tgz.getnames())
        manifest = json.load(tgz.extractfile("package/package.json"))
        wheel = tgz.extractfile(f"package/{packages['wheel'].name}").read()
    assert names == sorted(
        [
            "LICENSE",
            "README.md",
            "load_pyodide.js",
            "package.json",
            "websocket_streaming.d.ts",
            "websocket_streaming.js",
            "websocket_streaming_browser.js",
            packages["wheel"].name,
        ]
    )
    assert wheel == packages["wheel"].read_bytes()
    # The facade's copy of browser.js is the file itself (js/ links to it), not a link.
    with tarfile.open(packages["npm"]) as tgz:
        member = tgz.getmember("package/websocket_streaming_browser.js")
        assert member.isfile()
        assert (
            tgz.extractfile(member).read()
            == (ROOT / "python/websocket_streaming/browser.js").read_bytes()
        )
    repository = PROJECT["urls"]["Repository"]
    assert manifest["repository"]["url"] == f"git+{repository}.git"
    assert manifest["bugs"]["url"] == PROJECT["urls"]["Issues"]
    assert manifest["license"] == PROJECT["license"]
    dry = subprocess.run(
        ["npm", "pack", "--dry-run", "--json", str(ROOT / "build" / "npm-package")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    listed = sorted(f["path"] for f in json.loads(dry.stdout)[0]["files"])
    assert listed == names
