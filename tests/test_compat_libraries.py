"""Third-party libraries built on `websockets`, unchanged, in the browser under compat.

Each program in tests/library_programs/ uses one library's own client as its users do. It
runs on CPython with the real `websockets` (in a subprocess whose path holds the same pinned
wheels) and in the page, where micropip installs those wheels (build.sh's third_party_wheels,
served at /third-party/) and compat.install() stands in for `websockets`; both against the
same loopback server (tests/library_servers.py). The transcripts must be equal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import THIRD_PARTY, PyodidePage
from library_servers import LibraryServer

PROGRAMS = Path(__file__).parent / "library_programs"

#: Each program and the wheels it needs (the library and its runtime dependencies).
LIBRARIES = {
    "centrifuge_client": ("centrifuge_python", "protobuf"),
    "gql_client": ("gql", "graphql_core", "anyio", "idna", "typing_extensions", "tenacity"),
}

_MAIN = (
    "import asyncio, json, sys\n"
    "namespace = {'__name__': 'program'}\n"
    "exec(compile(open(sys.argv[1]).read(), sys.argv[1], 'exec'), namespace)\n"
    "print(json.dumps(asyncio.run(namespace['main'](sys.argv[2]))))\n"
)

_RUN_IN_PAGE = """
from websocket_streaming import compat
compat.install()
_namespace = {{"__name__": "program"}}
exec(compile({source!r}, {filename!r}, "exec"), _namespace)
result = await _namespace["main"]({uri!r})
"""


def wheels(names: tuple[str, ...]) -> list[Path]:
    """The pinned wheel of each distribution name; fails if build.sh has not fetched it."""
    found = []
    for name in names:
        matches = sorted(THIRD_PARTY.glob(f"{name}-*.whl"))
        if len(matches) != 1:
            pytest.fail(f"no {name} wheel in {THIRD_PARTY}: run ./build.sh test")
        found.append(matches[0])
    return found


@pytest.fixture(scope="module")
def library_server() -> Iterator[LibraryServer]:
    server = LibraryServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def installed(py: PyodidePage, static_server) -> PyodidePage:
    """The page with micropip and every library's wheels installed (once per page)."""
    every = sorted({w.name for names in LIBRARIES.values() for w in wheels(names)})
    urls = [f"{static_server.url}/third-party/{name}" for name in every]
    py.js("async () => { await pyodide.loadPackage('micropip'); return true; }", timeout=60)
    py.run(f"import micropip\nawait micropip.install({urls!r}, deps=False)", timeout=60)
    return py


@pytest.fixture(scope="module")
def cpython_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every library's wheels unpacked into one folder, for PYTHONPATH (a zip on the path
    cannot hold protobuf's `google` namespace package)."""
    site = tmp_path_factory.mktemp("site")
    for names in LIBRARIES.values():
        for wheel in wheels(names):
            zipfile.ZipFile(wheel).extractall(site)
    return site


def run_on_cpython(program: Path, uri: str, site: Path) -> list[str]:
    """The program's main(uri) on this CPython with the real websockets and the same wheels."""
    done = subprocess.run(
        [sys.executable, "-c", _MAIN, str(program), uri],
        env=dict(os.environ, PYTHONPATH=str(site)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_library_transcript_equals_real_websockets(
    installed, library_server, cpython_site, library
):
    """The library's own client gives the same transcript in the page (compat) as on
    CPython (the real websockets), against the same server."""
    program = PROGRAMS / f"{library}.py"
    expected = run_on_cpython(program, library_server.url, cpython_site)
    code = _RUN_IN_PAGE.format(
        source=program.read_text(), filename=program.name, uri=library_server.url
    )
    got = installed.run(code, timeout=60)
    assert got == expected, json.dumps({"browser": got, "cpython": expected}, indent=1)
