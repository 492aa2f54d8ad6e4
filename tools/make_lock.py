"""Write dist/pyodide/pyodide-lock.json: Pyodide's lock plus the wheels we ship beside it.

Usage: python tools/make_lock.py PYODIDE_DIR WHEEL [WHEEL ...]

Each wheel must already sit in PYODIDE_DIR. Its entry (file_name, sha256,
imports, depends) is made by pyodide-lock from the wheel itself, replacing any
entry of the same name, so `pyodide.loadPackage(name)` loads our local file
and its hash check passes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pyodide_lock import PyodideLockSpec
from pyodide_lock.utils import add_wheels_to_spec


def main(pyodide_dir: Path, wheels: list[Path]) -> None:
    original = pyodide_dir / "pyodide-lock.original.json"
    lock = pyodide_dir / "pyodide-lock.json"
    if not original.exists():
        lock.rename(original)
    spec = PyodideLockSpec.from_json(original)
    spec = add_wheels_to_spec(spec, [pyodide_dir / w.name for w in wheels], base_path=pyodide_dir)
    spec.to_json(lock, indent=1)
    for w in wheels:
        name = w.name.split("-")[0].replace("_", "-").lower()
        entry = spec.packages[name]
        print(f"  lock: {entry.name} {entry.version} {entry.file_name} sha256={entry.sha256[:12]}…")


if __name__ == "__main__":
    main(Path(sys.argv[1]), [Path(a) for a in sys.argv[2:]])
