#!/usr/bin/env python3
"""Build the offline JupyterLite demo site (default: ``dist/lite/``).

Run it with the project venv, which must hold jupyterlite-core and
jupyterlite-pyodide-kernel 0.8.6 and pyodide-lock 0.2.1::

    .venv/bin/python tools/build_lite.py [--dist DIR] [--pyodide DIR] [--wheel WHL ...]
                                         [--output DIR] [--cache DIR] [--force]

Nothing in the built site points outside the server it is served from:

- The local Pyodide runtime (npm package ``pyodide``) is copied to
  ``<output>/static/pyodide/``, together with every wheel the Pyodide kernel
  loads at start. Pyodide checks each wheel against the sha256 in
  ``pyodide-lock.json``, and the wheels shipped here come from PyPI, not from
  Pyodide's CDN, so their lock entries (file_name, sha256) are rewritten.
- Which wheels are needed is read from the installed kernel, not guessed: the
  package names its web worker loads at start (``loadPackage([...])`` and the
  ``piplite.install`` loop), resolved the way micropip resolves them (Pyodide
  lock first, then the piplite ``all.json`` indexes), following the lock's
  ``depends`` and the bundled wheels' ``Requires-Dist``. A name found in
  neither (``comm``) is downloaded from PyPI at the version pinned in
  ``PYPI_PINS`` and published through piplite.
- Our wheels are added to the lock too (so ``%pip install websocket-streaming``,
  which looks in the lock first, and a bare ``import websocket_streaming`` load
  the wheel given here), published with piplite (``<output>/pypi/all.json``) and
  in a PEP 503 simple index (``<output>/simple/``).
- PyPI fallback is disabled in the kernel settings, and the build fails if any
  ``jupyter-lite.json`` still holds a URL that is not relative.

Served at the root of http://127.0.0.1:PORT/, the site answers:

- ``/lab/index.html?path=notebook.ipynb``: the demo notebook (demo/notebook.ipynb).
- ``/repl/index.html?kernel=python``: a console, the quickest page to a kernel.
- ``/pypi/websocket_streaming-0.1.0-py3-none-any.whl``: our wheel, for
  ``await micropip.install("/pypi/websocket_streaming-0.1.0-py3-none-any.whl")``.
- ``/simple/``: the index, for
  ``await micropip.install("websocket-streaming", index_urls="/simple")``.
  Paths starting with "/" resolve against the server (the kernel's worker
  script lives deeper in the site); use the full URL if the site is not at
  the server's root.

Downloads are cached (``build/wheels-cache/`` by default). When the inputs
(Pyodide files, our wheels, ``demo/lite/``, the notebook, this script and the
tool versions) hash to the stamp stored in ``<output>/.build-stamp.json`` the
build is skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

#: Versions of packages the kernel needs at start that are not in Pyodide's
#: lock. The build fails, naming the package, if one is needed and not here.
PYPI_PINS = {"comm": "0.2.3"}

KERNEL_EXTENSION = "@jupyterlite/pyodide-kernel-extension"
KERNEL_PLUGIN_ID = f"{KERNEL_EXTENSION}:kernel"
STAMP_NAME = ".build-stamp.json"
TOOLS = ("jupyterlite-core", "jupyterlite-pyodide-kernel", "pyodide-lock", "pkginfo")
#: What may appear as a URL host in the built site's configuration.
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


class BuildError(RuntimeError):
    """The site cannot be built from the given inputs."""


def log(message: str) -> None:
    print(f"[build_lite] {message}", file=sys.stderr, flush=True)


def canonical(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------
# What the kernel loads at start
# --------------------------------------------------------------------------


def kernel_extension_dir() -> Path:
    """The installed ``@jupyterlite/pyodide-kernel-extension`` labextension."""
    from jupyter_core.paths import jupyter_path

    for root in jupyter_path("labextensions"):
        candidate = Path(root) / KERNEL_EXTENSION
        if (candidate / "package.json").exists():
            return candidate
    raise BuildError(f"{KERNEL_EXTENSION} not found: install jupyterlite-pyodide-kernel")


def kernel_startup_names(ext_dir: Path) -> tuple[list[str], list[str]]:
    """Package names the kernel's web worker loads at start.

    Returns (names given to ``pyodide.loadPackage``, names given to
    ``piplite.install``), parsed from the worker that ships in the extension
    (``initPackageManager`` and ``initKernel`` in pyodide-kernel's worker.ts).
    """
    workers = sorted((ext_dir / "static").glob("comlink.worker*.js"))
    if not workers:
        raise BuildError(f"no comlink.worker*.js in {ext_dir / 'static'}")
    source = workers[0].read_text(encoding="utf-8")
    strings = r"\[((?:\s*[\"'][\w.-]+[\"']\s*,?)+)\]"
    load = re.search(r"loadPackage\(\s*" + strings, source)
    piplite = re.search(strings + r"[^\[\]]{0,200}?piplite\.install\(", source, re.S)
    if not (load and piplite):
        raise BuildError(
            f"cannot find the startup package lists in {workers[0].name}: the kernel's "
            "startup code changed, update kernel_startup_names() in tools/build_lite.py"
        )
    names = [re.findall(r"[\"']([\w.-]+)[\"']", m.group(1)) for m in (load, piplite)]
    return names[0], names[1]


def wheel_requires(wheel: Path) -> list[str]:
    """Names in a wheel's unconditional ``Requires-Dist`` (no extras, no markers)."""
    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(meta).decode("utf-8")
    names = []
    for line in text.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        requirement = line.split(":", 1)[1].strip()
        if ";" in requirement:  # extras and environment markers: not needed at start
            continue
        names.append(canonical(re.split(r"[^A-Za-z0-9._-]", requirement, maxsplit=1)[0]))
    return names


def bundled_piplite_wheels(ext_dir: Path) -> dict[str, Path]:
    """Wheels the kernel extension publishes in its own piplite ``all.json``."""
    pypi = ext_dir / "static" / "pypi"
    index = json.loads((pypi / "all.json").read_text(encoding="utf-8"))
    wheels = {}
    for name, project in index.items():
        for files in project["releases"].values():
            for release in files:
                wheels[canonical(name)] = pypi / release["filename"]
    return wheels


def resolve_startup(lock: dict[str, Any], ext_dir: Path) -> tuple[list[str], list[str]]:
    """Which packages the kernel needs at start.

    Returns (Pyodide lock keys, names to fetch from PyPI). The order of
    lookup mirrors micropip with its default index: lock first, then piplite's
    ``all.json`` (the bundled one here; ours comes first at run time), then PyPI
    (disabled in this site).
    """
    keys = {canonical(k): k for k in lock["packages"]}
    bundled = bundled_piplite_wheels(ext_dir)
    load_names, piplite_names = kernel_startup_names(ext_dir)
    from_lock: set[str] = set()
    from_pypi: set[str] = set()

    def visit(name: str) -> None:
        name = canonical(name)
        if keys.get(name) in from_lock or name in from_pypi:
            return
        if name in keys:
            from_lock.add(keys[name])
            for dep in lock["packages"][keys[name]]["depends"]:
                visit(dep)
        elif name in bundled:
            for dep in wheel_requires(bundled[name]):
                visit(dep)
        else:
            from_pypi.add(name)

    for name in [*load_names, "piplite", *piplite_names]:
        visit(name)
    return sorted(from_lock), sorted(from_pypi)


# --------------------------------------------------------------------------
# Wheels from PyPI, cached
# --------------------------------------------------------------------------


def find_cached(cache: Path, name: str, version: str) -> Path | None:
    from packaging.utils import parse_wheel_filename
    from packaging.version import Version

    for wheel in cache.glob("*.whl"):
        wname, wversion, _, tags = parse_wheel_filename(wheel.name)
        pure = all(t.abi == "none" and t.platform == "any" for t in tags)
        if canonical(wname) == canonical(name) and wversion == Version(version) and pure:
            return wheel
    return None


def fetch_wheels(pins: dict[str, str], cache: Path, python_version: str) -> dict[str, Path]:
    """Pure wheels for ``{name: version}``, downloaded into ``cache`` once."""
    cache.mkdir(parents=True, exist_ok=True)
    missing = [f"{n}=={v}" for n, v in sorted(pins.items()) if not find_cached(cache, n, v)]
    if missing:
        log(f"downloading {len(missing)} wheels into {cache}")
        command = [
            sys.executable, "-m", "pip", "download", "-qq", "--disable-pip-version-check",
            "--no-deps", "--only-binary=:all:", "--python-version", python_version,
            "--dest", str(cache), *missing,
        ]  # fmt: skip
        subprocess.run(command, check=True)
    found = {}
    for name, version in pins.items():
        wheel = find_cached(cache, name, version)
        if wheel is None:
            raise BuildError(f"pip did not provide a pure wheel for {name}=={version}")
        found[name] = wheel
    return found


# --------------------------------------------------------------------------
# Staging and building
# --------------------------------------------------------------------------


def stage_pyodide(
    runtime: Path, lock_wheels: dict[str, Path], our_wheels: list[Path], dest: Path
) -> None:
    """Copy the runtime and the wheels to ``dest``; point the lock at the wheels.

    Startup wheels keep their lock entry, with file_name and sha256 of the PyPI
    file. Our wheels get an entry made by pyodide-lock from the wheel itself, so
    ``%pip install`` (which looks in the lock first) and a bare
    ``import websocket_streaming`` both load the very wheel given to the build.
    """
    from pyodide_lock import PyodideLockSpec
    from pyodide_lock.utils import add_wheels_to_spec, update_package_sha256

    shutil.copytree(runtime, dest)
    spec = PyodideLockSpec.from_json(runtime / "pyodide-lock.json")
    for key, wheel in lock_wheels.items():
        shutil.copy2(wheel, dest / wheel.name)
        package = spec.packages[key]
        package.file_name = wheel.name
        update_package_sha256(package, wheel)
    for wheel in our_wheels:
        shutil.copy2(wheel, dest / wheel.name)
    spec = add_wheels_to_spec(spec, [dest / w.name for w in our_wheels], base_path=dest)
    spec.to_json(dest / "pyodide-lock.json")


def write_contents(notebook: Path, output: Path) -> None:
    """Publish the notebook at ``files/`` with a Contents API listing.

    jupyterlite-core only writes this listing when jupyter-server (about 45
    packages) is installed; the site reads just this one file per folder.
    """
    files = output / "files"
    files.mkdir(parents=True, exist_ok=True)
    shutil.copy2(notebook, files / notebook.name)
    stamp = datetime.fromtimestamp(notebook.stat().st_mtime, tz=UTC).isoformat()
    entry = {
        "name": notebook.name, "path": notebook.name, "type": "notebook",
        "created": stamp, "last_modified": stamp, "content": None, "format": None,
        "mimetype": None, "size": notebook.stat().st_size, "writable": True,
        "hash": None, "hash_algorithm": None,
    }  # fmt: skip
    listing = {
        "name": "", "path": "", "type": "directory", "created": stamp,
        "last_modified": stamp, "content": [entry], "format": "json",
        "mimetype": None, "size": None, "writable": True,
        "hash": None, "hash_algorithm": None,
    }  # fmt: skip
    api = output / "api" / "contents"
    api.mkdir(parents=True, exist_ok=True)
    (api / "all.json").write_text(json.dumps(listing, indent=2), encoding="utf-8")


def write_simple_index(output: Path) -> None:
    """A PEP 503 index over ``<output>/pypi/*.whl`` at ``<output>/simple/``.

    For ``micropip.install("websocket-streaming", index_urls=".../simple")``.
    """
    from packaging.utils import parse_wheel_filename

    simple = output / "simple"
    projects: dict[str, list[Path]] = {}
    for wheel in sorted((output / "pypi").glob("*.whl")):
        projects.setdefault(canonical(parse_wheel_filename(wheel.name)[0]), []).append(wheel)
    for name, wheels in projects.items():
        links = "".join(
            f'<a href="../../pypi/{html.escape(w.name)}#sha256={sha256_file(w)}">'
            f"{html.escape(w.name)}</a><br>\n"
            for w in wheels
        )
        page = f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n"
        (simple / name).mkdir(parents=True, exist_ok=True)
        (simple / name / "index.html").write_text(page, encoding="utf-8")
    root = "".join(f'<a href="{n}/">{n}</a><br>\n' for n in sorted(projects))
    (simple / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{root}</body></html>\n")


def check_offline(output: Path, shipped: list[str]) -> None:
    """Fail if the site's configuration can send a request off the server."""
    problems = []
    for config in [*output.rglob("jupyter-lite.json"), *output.rglob("jupyter-lite.ipynb")]:
        data = json.loads(config.read_text(encoding="utf-8"))
        if config.suffix == ".ipynb":  # only the metadata is configuration
            data = data["metadata"].get("jupyter-lite", {})
        for url in re.findall(r"[a-z][a-z0-9+.-]*://[^\s\"'<>]+", json.dumps(data)):
            if urllib.parse.urlsplit(url).hostname not in LOCAL_HOSTS:
                problems.append(f"{config.relative_to(output)}: {url}")
    root = json.loads((output / "jupyter-lite.json").read_text(encoding="utf-8"))
    settings = root["jupyter-config-data"]["litePluginSettings"][KERNEL_PLUGIN_ID]
    if not settings.get("pyodideUrl", "").startswith("./"):
        problems.append(f"pyodideUrl is not local: {settings.get('pyodideUrl')!r}")
    if settings.get("disablePyPIFallback") is not True:
        problems.append("disablePyPIFallback is not true: piplite would query pypi.org")
    lock = json.loads((output / "static/pyodide/pyodide-lock.json").read_text(encoding="utf-8"))
    for name in shipped:
        entry = lock["packages"][name]
        wheel = output / "static/pyodide" / entry["file_name"]
        if not wheel.exists() or sha256_file(wheel) != entry["sha256"]:
            problems.append(f"pyodide-lock.json entry {name} does not match {wheel.name}")
    if problems:
        raise BuildError("site is not self-contained:\n  " + "\n  ".join(problems))


def input_stamp(files: list[Path], extra: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(extra, sort_keys=True).encode())
    for path in files:
        digest.update(f"\0{path}\0{sha256_file(path)}".encode())
    return digest.hexdigest()


def tree_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def safe_to_replace(output: Path) -> bool:
    """Only wipe a folder this script built (or an empty one)."""
    return not output.exists() or not any(output.iterdir()) or (output / STAMP_NAME).exists()


def build(args: argparse.Namespace) -> bool:
    """Build the site; return False when it was already up to date."""
    runtime, output, cache = args.pyodide.resolve(), args.output.resolve(), args.cache.resolve()
    wheels = [w.resolve() for w in args.wheel]
    config_dir, notebook = args.config.resolve(), args.notebook.resolve()
    for path in [runtime / "pyodide.mjs", runtime / "pyodide-lock.json", *wheels, notebook]:
        if not path.exists():
            raise BuildError(f"missing input: {path}")

    inputs = [*tree_files(runtime), *wheels, *tree_files(config_dir), notebook, Path(__file__)]
    versions = {name: importlib.metadata.version(name) for name in TOOLS}
    stamp = input_stamp(inputs, {"versions": versions, "pins": PYPI_PINS, "out": str(output)})
    stamp_file = output / STAMP_NAME
    complete = all((output / p).exists() for p in ("index.html", "static/pyodide/pyodide.mjs"))
    if not args.force and complete and stamp_file.exists():
        if json.loads(stamp_file.read_text(encoding="utf-8")).get("inputs") == stamp:
            log(f"up to date: {output}")
            return False
    if not safe_to_replace(output):
        raise BuildError(f"{output} exists and was not built by this script; not replacing it")

    lock = json.loads((runtime / "pyodide-lock.json").read_text(encoding="utf-8"))
    ext_dir = kernel_extension_dir()
    lock_names, pypi_names = resolve_startup(lock, ext_dir)
    unpinned = [n for n in pypi_names if n not in PYPI_PINS]
    if unpinned:
        raise BuildError(f"kernel needs {unpinned} (not in Pyodide's lock): add to PYPI_PINS")
    pins = {n: lock["packages"][n]["version"] for n in lock_names}
    pins.update({n: PYPI_PINS[n] for n in pypi_names})
    python_version = ".".join(lock["info"]["python"].split(".")[:2])
    fetched = fetch_wheels(pins, cache, python_version)
    lock_wheels = {n: fetched[n] for n in lock_names}
    log(f"kernel start needs {len(lock_names)} lock wheels + {pypi_names} via piplite")

    stage = args.stage.resolve()
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(config_dir, stage)
    stage_pyodide(runtime, lock_wheels, wheels, stage / "static" / "pyodide")

    shutil.rmtree(output, ignore_errors=True)
    output.mkdir(parents=True)
    stamp_file.write_text('{"inputs": null}\n', encoding="utf-8")  # claims the folder
    command = [
        sys.executable, "-m", "jupyterlite_core", "build",
        "--lite-dir", str(stage), "--output-dir", str(output),
    ]  # fmt: skip
    for wheel in [*wheels, *(fetched[n] for n in pypi_names)]:
        command += ["--piplite-wheels", str(wheel)]
    log("jupyter lite build")
    result = subprocess.run(command, cwd=stage, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise BuildError(f"jupyter lite build failed ({result.returncode})")

    write_contents(notebook, output)
    write_simple_index(output)
    ours = [canonical(w.name.split("-")[0]) for w in wheels]
    check_offline(output, [*lock_names, *ours])
    record = {"inputs": stamp, "versions": versions, "wheels": [w.name for w in wheels]}
    stamp_file.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(stage)  # kept only when a build fails, for a look
    return True


def default_wheel(dist: Path) -> list[Path]:
    """Our wheel where ./build.sh leaves it: ``<dist>/pyodide/``, else ``build/wheel/``."""
    for folder in (dist / "pyodide", REPO / "build" / "wheel", dist):
        found = sorted(folder.glob("websocket_streaming-*-py3-none-any.whl"))
        if len(found) == 1:
            return found
        if found:
            raise SystemExit(f"build_lite.py: several wheels in {folder}: pass --wheel")
    raise SystemExit("build_lite.py: no websocket_streaming wheel found: pass --wheel")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    add = parser.add_argument
    add(
        "--dist",
        type=Path,
        default=REPO / "dist",
        help="where ./build.sh assembled dist/ (default: dist); sets the defaults below",
    )
    add(
        "--pyodide",
        type=Path,
        help="Pyodide runtime folder, npm package contents (default: <dist>/pyodide)",
    )
    add(
        "--wheel",
        type=Path,
        action="append",
        help="our wheel to publish, repeatable (default: the websocket_streaming-*.whl\n"
        "in <dist>/pyodide/, else build/wheel/)",
    )
    add("--output", type=Path, help="site folder (default: <dist>/lite)")
    add(
        "--cache",
        type=Path,
        default=REPO / "build" / "wheels-cache",
        help="download cache for the kernel's wheels (default: build/wheels-cache)",
    )
    add(
        "--stage",
        type=Path,
        default=REPO / "build" / "lite-stage",
        help="scratch lite dir, wiped on each build (default: build/lite-stage)",
    )
    add(
        "--config",
        type=Path,
        default=REPO / "demo" / "lite",
        help="JupyterLite config files copied into the lite dir (default: demo/lite)",
    )
    add(
        "--notebook",
        type=Path,
        default=REPO / "demo" / "notebook.ipynb",
        help="notebook published at the site root (default: demo/notebook.ipynb)",
    )
    add("--force", action="store_true", help="rebuild even if the inputs are unchanged")
    args = parser.parse_args(argv)
    args.pyodide = args.pyodide or args.dist / "pyodide"
    args.output = args.output or args.dist / "lite"
    args.wheel = args.wheel or default_wheel(args.dist)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    try:
        built = build(args)
    except (BuildError, subprocess.CalledProcessError) as error:
        log(f"error: {error}")
        return 1
    verb = "built" if built else "kept"
    log(f"{verb} {args.output} in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
