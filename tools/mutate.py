"""Mutation testing of the pure core: how many small bugs do the CPython unit tests catch?

    .venv/bin/python tools/mutate.py                       # every mutant, 1 process
    .venv/bin/python tools/mutate.py --every 3 --phase 0   # a deterministic third of them
    .venv/bin/python tools/mutate.py --only build/mutants/survivors.txt   # re-run some
    .venv/bin/python tools/mutate.py --list                # list the mutants, run nothing

Not part of the default test run (it takes minutes). Each mutant is one small change to
one of the core modules (``options.py``, ``protocol.py``, ``exceptions.py``, ``retry.py``,
``connection.py``, ``reconnect.py``, ``client.py``, ``transport.py``, ``waiter.py``), made on
the AST and written back with ``ast.unparse``:

- ``cmp``: a comparison flipped (``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``,
  ``is`` <-> ``is not``, ``in`` <-> ``not in``);
- ``const``: an int constant plus one, a float constant doubled (0.0 -> 1.0), ``True`` <->
  ``False`` (default values of parameters included: the documented defaults);
- ``cond``: the test of an ``if``, ``while`` or conditional expression negated;
- ``boolop``: ``and`` <-> ``or``; ``not``: ``not x`` -> ``x``; ``neg``: ``-x`` -> ``x``;
- ``binop``: ``+`` <-> ``-``, ``*`` <-> ``/``, ``//`` -> ``*``, ``<<`` <-> ``>>``;
- ``minmax``: a call of ``min`` <-> ``max``;
- ``drop``: a ``return``, ``raise``, ``break``, ``continue``, call or ``await`` statement,
  augmented assignment or attribute assignment replaced by ``pass``.

Docstrings, annotations, ``assert`` statements and ``__all__`` are left alone.

Each mutant runs in a private copy of the repository's ``python/`` and ``tests/`` (one per
worker: ``--jobs``, 1 by default, at most 2), with only the CPython unit tests of its
module (``TESTS_FOR`` below: the mirrored test files first, then the property tests that
drive the module)::

    options.py     tests/test_options.py tests/test_*_options.py tests/test_protocol.py
    protocol.py    tests/test_protocol*.py tests/test_properties.py
    exceptions.py  tests/test_exceptions.py tests/test_protocol*.py
    retry.py       tests/test_retry.py tests/test_client.py tests/test_reconnect.py
    connection.py  tests/test_connection*.py tests/test_properties.py
    reconnect.py   tests/test_reconnect*.py tests/test_client*.py
    client.py      tests/test_client*.py
    transport.py   tests/test_connection*.py   (a Protocol class: no mutants)
    waiter.py      tests/test_waiter.py tests/test_connection.py

run as ``python -m pytest -m "not browser" -x -q -p no:cacheprovider <files>`` (``--tests``
runs the given files for every mutant instead)
with ``HYPOTHESIS_PROFILE=mutate`` (fewer generated cases than "ci"; see
tests/hypothesis_profiles.py). A mutant is *killed* when the tests fail or run past the
per-mutant timeout (``--timeout``, default: 5 times the unmutated run of its module's
tests, at least 30 s),
*survives* when they pass. ``tools/mutants_equivalent.txt`` names the mutants that no test
can kill (they change nothing observable), one per line as ``<mutant id>  # <reason>``;
the score is killed / (total - equivalent). Survivors are written to
``build/mutants/survivors.txt`` (mutant ids, one a line: ``--only`` takes that file) with
their diffs in ``build/mutants/survivors.diff``, every outcome in
``build/mutants/results.txt``. Exit status 0 when the score reaches ``--target`` (default
95%).

A mutant id is ``<module>:<line>:<col>:<kind>:<what>``, line and column in the
original source: stable as long as the module above the mutant does not change.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path("python/websocket_streaming")
MODULES = (
    "options.py",
    "protocol.py",
    "exceptions.py",
    "retry.py",
    "connection.py",
    "reconnect.py",
    "client.py",
    "transport.py",
    "waiter.py",
)
#: The CPython unit tests run for a mutant of each module (globs under the root), in order:
#: the mirrored tests first, so that most mutants are killed early (``-x``).
TESTS_FOR: dict[str, tuple[str, ...]] = {
    "options.py": ("tests/test_options.py", "tests/test_*_options.py", "tests/test_protocol.py"),
    "protocol.py": ("tests/test_protocol*.py", "tests/test_properties.py"),
    "retry.py": ("tests/test_retry.py", "tests/test_client.py", "tests/test_reconnect.py"),
    "exceptions.py": ("tests/test_exceptions.py", "tests/test_protocol*.py"),
    "connection.py": ("tests/test_connection*.py", "tests/test_properties.py"),
    "reconnect.py": ("tests/test_reconnect*.py", "tests/test_client*.py"),
    "client.py": ("tests/test_client*.py",),
    "transport.py": ("tests/test_connection*.py",),
    "waiter.py": ("tests/test_waiter.py", "tests/test_connection.py"),
}
EQUIVALENT = ROOT / "tools" / "mutants_equivalent.txt"
OUT = ROOT / "build" / "mutants"

CMP_FLIP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
BINOP_FLIP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}
SYMBOL = {
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
    ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in", ast.Add: "+",
    ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.LShift: "<<",
    ast.RShift: ">>",
}  # fmt: skip
DROPPABLE = (ast.Return, ast.Raise, ast.Break, ast.Continue, ast.AugAssign)


@dataclass(frozen=True)
class Mutant:
    module: str
    index: int  # the index-th site of the module, in a fixed walk order
    id: str


Site = tuple[str, Callable[[], None]]  # (id without the module, apply in place)


def _skipped_subtrees(tree: ast.Module) -> set[int]:
    """ids of nodes whose subtree is never mutated: docstrings, annotations, asserts, __all__."""
    skip: set[int] = set()

    def mark(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                mark(body[0])
        if isinstance(node, ast.arg):
            mark(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mark(node.returns)
        elif isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        elif isinstance(node, ast.Assert):
            mark(node)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            mark(node)
        elif isinstance(node, ast.JoinedStr):
            mark(node)
    return skip


def sites(tree: ast.Module) -> Iterator[Site]:
    """Every mutation of ``tree``, each as (id, a function that applies it to ``tree``)."""
    skip = _skipped_subtrees(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        where = f"{getattr(node, 'lineno', 0)}:{getattr(node, 'col_offset', 0)}"
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                new = CMP_FLIP.get(type(op))
                if new is not None:
                    yield (
                        f"{where}:cmp:{SYMBOL[type(op)]}->{SYMBOL[new]}#{i}",
                        _setter(node.ops, i, new()),
                    )
        elif isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                yield f"{where}:const:{value}->{not value}", _setattr(node, "value", not value)
            elif isinstance(value, int):
                yield f"{where}:const:{value}->{value + 1}", _setattr(node, "value", value + 1)
            elif isinstance(value, float):
                new_value = value * 2 if value else 1.0
                yield f"{where}:const:{value}->{new_value}", _setattr(node, "value", new_value)
        elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
            negated = ast.UnaryOp(op=ast.Not(), operand=node.test)
            yield f"{where}:cond:negate", _setattr(node, "test", negated)
        elif isinstance(node, ast.BoolOp):
            other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            yield f"{where}:boolop:swap", _setattr(node, "op", other)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
            kind = "not" if isinstance(node.op, ast.Not) else "neg"
            yield f"{where}:{kind}:drop", _replace_unary(node)
        elif isinstance(node, ast.BinOp) and type(node.op) in BINOP_FLIP:
            new_op = BINOP_FLIP[type(node.op)]
            label = f"{SYMBOL[type(node.op)]}->{SYMBOL[new_op]}"
            yield f"{where}:binop:{label}", _setattr(node, "op", new_op())
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("min", "max")
        ):
            other_name = "max" if node.func.id == "min" else "min"
            yield (
                f"{where}:minmax:{node.func.id}->{other_name}",
                _setattr(node.func, "id", other_name),
            )
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if not isinstance(stmts, list):
                continue
            for i, stmt in enumerate(stmts):
                if id(stmt) in skip or not _droppable(stmt):
                    continue
                kind = type(stmt).__name__.lower()
                yield f"{stmt.lineno}:{stmt.col_offset}:drop:{kind}", _setter(stmts, i, ast.Pass())


def _droppable(stmt: ast.stmt) -> bool:
    if isinstance(stmt, DROPPABLE):
        return True
    if isinstance(stmt, ast.Expr):
        return isinstance(stmt.value, (ast.Call, ast.Await))
    if isinstance(stmt, ast.Assign):
        return all(isinstance(t, ast.Attribute) for t in stmt.targets)
    return False


def _setter(items: list[ast.AST], index: int, value: ast.AST) -> Callable[[], None]:
    def apply() -> None:
        items[index] = value

    return apply


def _setattr(node: ast.AST, name: str, value: object) -> Callable[[], None]:
    def apply() -> None:
        setattr(node, name, value)

    return apply


def _replace_unary(node: ast.UnaryOp) -> Callable[[], None]:
    # ``not x`` -> ``not not x`` (the truth of x), ``-x`` -> ``+x``: in place, as the parent
    # is not at hand.
    def apply() -> None:
        if isinstance(node.op, ast.Not):
            node.operand = ast.UnaryOp(op=ast.Not(), operand=node.operand)
        else:
            node.op = ast.UAdd()

    return apply


def list_mutants() -> list[Mutant]:
    mutants = []
    for module in MODULES:
        tree = ast.parse((ROOT / PACKAGE / module).read_text())
        for index, (site_id, _apply) in enumerate(sites(tree)):
            mutants.append(Mutant(module, index, f"{module}:{site_id}"))
    return mutants


def mutated_source(mutant: Mutant) -> str:
    tree = ast.parse((ROOT / PACKAGE / mutant.module).read_text())
    for index, (_site_id, apply) in enumerate(sites(tree)):
        if index == mutant.index:
            apply()
            return ast.unparse(ast.fix_missing_locations(tree)) + "\n"
    raise LookupError(mutant.id)


def read_equivalent() -> dict[str, str]:
    """{mutant id: reason} from tools/mutants_equivalent.txt."""
    equivalent = {}
    if EQUIVALENT.exists():
        for line in EQUIVALENT.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            mutant_id, _, reason = line.partition(" # ")  # ids hold "#", never " # "
            if not reason.strip():
                raise SystemExit(f"{EQUIVALENT.name}: no reason given for {mutant_id.strip()}")
            equivalent[mutant_id.strip()] = reason.strip()
    return equivalent


class Workspace:
    """A private copy of python/ and tests/ (everything else linked) to run mutants in."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mutate-"))
        for entry in ROOT.iterdir():
            if entry.name in (".git", ".venv", "build", "node_modules") or entry.name.startswith(
                "."
            ):
                continue
            if entry.name in ("python", "tests"):
                shutil.copytree(entry, self.root / entry.name, ignore=_ignore_caches)
            elif entry.name == "pyproject.toml":
                shutil.copy(entry, self.root / entry.name)
            else:
                (self.root / entry.name).symlink_to(entry)

    def run(self, mutant: Mutant | None, tests: list[str], timeout: float) -> tuple[str, float]:
        """Run the tests with ``mutant`` applied: ("killed" | "survived" | "timeout", seconds)."""
        target = self.root / PACKAGE / mutant.module if mutant else None
        original = target.read_text() if target else None
        if mutant and target:
            target.write_text(mutated_source(mutant))
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", HYPOTHESIS_PROFILE="mutate")
        command = [sys.executable, "-m", "pytest", "-m", "not browser", "-x", "-q"]
        command += ["-p", "no:cacheprovider", *tests]
        started = time.monotonic()
        try:
            process = subprocess.Popen(
                command,
                cwd=self.root,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                code = process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return "timeout", time.monotonic() - started
        finally:
            if target and original is not None:
                target.write_text(original)
        return ("survived" if code == 0 else "killed"), time.monotonic() - started

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _ignore_caches(directory: str, names: list[str]) -> list[str]:
    return [n for n in names if n in ("__pycache__", ".pytest_cache", ".hypothesis")]


def tests_for(module: str) -> list[str]:
    """The test files (relative paths) that ``TESTS_FOR`` names for ``module``."""
    files: list[str] = []
    for pattern in TESTS_FOR[module]:
        for path in sorted(ROOT.glob(pattern)):
            name = path.relative_to(ROOT).as_posix()
            if name not in files:
                files.append(name)
    return files


def _selected(mutant: Mutant, every: int, phase: int) -> bool:
    digest = int(hashlib.sha256(mutant.id.encode()).hexdigest(), 16)
    return digest % every == phase


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1, choices=(1, 2))
    parser.add_argument("--timeout", type=float, help="seconds per mutant (default: see above)")
    parser.add_argument("--every", type=int, default=1, help="run 1 mutant in N (by id hash)")
    parser.add_argument("--phase", type=int, default=0, help="which 1-in-N share (0..N-1)")
    parser.add_argument("--module", action="append", choices=MODULES, help="only these modules")
    parser.add_argument("--only", type=Path, help="a file of mutant ids to run (one a line)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--target", type=float, default=95.0, help="score to pass (percent)")
    parser.add_argument(
        "--tests", nargs="+", help="test files to run for every mutant (default: see above)"
    )
    args = parser.parse_args(argv)
    tests = {m: args.tests or tests_for(m) for m in MODULES}

    mutants = list_mutants()
    equivalent = read_equivalent()
    known = {m.id for m in mutants}
    stale = sorted(set(equivalent) - known)
    if args.list:
        for mutant in mutants:
            print(mutant.id + ("   [equivalent]" if mutant.id in equivalent else ""))
        print(f"{len(mutants)} mutants, {len(equivalent)} listed as equivalent", file=sys.stderr)
        return 0
    chosen = [m for m in mutants if _selected(m, args.every, args.phase)]
    if args.module:
        chosen = [m for m in chosen if m.module in args.module]
    if args.only:
        # One id a line (ids may hold spaces: "cmp:is not->is"), optionally "  # comment".
        lines = args.only.read_text().splitlines()
        wanted = {line.partition(" # ")[0].strip() for line in lines if line.strip()}
        chosen = [m for m in chosen if m.id in wanted]
    to_run = [m for m in chosen if m.id not in equivalent]
    skipped_equivalent = len(chosen) - len(to_run)

    workspaces = [Workspace() for _ in range(args.jobs)]
    try:
        timeouts_for: dict[str, float] = {}
        for module in sorted({m.module for m in to_run}, key=MODULES.index):
            outcome, baseline = workspaces[0].run(None, tests[module], timeout=600)
            if outcome != "survived":
                print(f"the tests of {module} fail without any mutant: fix them first")
                return 2
            timeouts_for[module] = args.timeout or max(30.0, 5 * baseline)
            print(
                f"  {module:16} unmutated run {baseline:4.1f} s, "
                f"timeout {timeouts_for[module]:.0f} s: {' '.join(tests[module])}",
                flush=True,
            )
        print(
            f"{len(mutants)} mutants in {len(MODULES)} modules; running {len(to_run)} "
            f"({skipped_equivalent} of those chosen are listed as equivalent); "
            f"{args.jobs} jobs",
            flush=True,
        )
        free = list(workspaces)
        lock = threading.Lock()
        results: dict[str, tuple[str, float]] = {}

        def work(mutant: Mutant) -> None:
            with lock:
                workspace = free.pop()
            try:
                results[mutant.id] = workspace.run(
                    mutant, tests[mutant.module], timeouts_for[mutant.module]
                )
            finally:
                with lock:
                    free.append(workspace)
                    done = len(results)
                    status = results.get(mutant.id, ("error", 0.0))[0]
                    if status == "survived" or done % 25 == 0:
                        print(f"[{done}/{len(to_run)}] {status:8} {mutant.id}", flush=True)

        started = time.monotonic()
        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(work, to_run))
        elapsed = time.monotonic() - started
    finally:
        for workspace in workspaces:
            workspace.remove()

    survivors = [m for m in to_run if results[m.id][0] == "survived"]
    timeouts = sum(1 for m in to_run if results[m.id][0] == "timeout")
    killed = len(to_run) - len(survivors)
    score = 100.0 * killed / len(to_run) if to_run else 100.0
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "survivors.txt").write_text("".join(m.id + "\n" for m in survivors))
    (OUT / "results.txt").write_text(
        "".join(f"{results[m.id][0]:8} {results[m.id][1]:5.1f} s  {m.id}\n" for m in to_run)
    )
    with (OUT / "survivors.diff").open("w") as diff:
        for mutant in survivors:
            before = (ROOT / PACKAGE / mutant.module).read_text()
            original = ast.unparse(ast.parse(before)).splitlines(keepends=True)
            after = mutated_source(mutant).splitlines(keepends=True)
            diff.write(f"### {mutant.id}\n")
            diff.writelines(
                difflib.unified_diff(original, after, mutant.module, mutant.module, n=2)
            )
    print()
    for module in MODULES:
        mine = [m for m in chosen if m.module == module]
        ran = [m for m in mine if m.id not in equivalent]
        if mine:
            alive = sum(1 for m in ran if results[m.id][0] == "survived")
            print(
                f"  {module:16} {len(mine):4} chosen, {len(mine) - len(ran):3} equivalent, "
                f"{len(ran) - alive:4} killed, {alive:3} survived"
            )
    sampled = f" (1 in {args.every}, phase {args.phase})" if args.every > 1 else ""
    print(
        f"mutants: {len(mutants)} in total, {len(chosen)} chosen{sampled}, "
        f"{skipped_equivalent} equivalent, {len(to_run)} run: {killed} killed "
        f"({timeouts} by timeout), {len(survivors)} survived; "
        f"score {score:.1f}% of non-equivalent mutants; {elapsed:.0f} s"
    )
    if stale:
        print(f"{len(stale)} ids in {EQUIVALENT.name} match no mutant (stale): {stale}")
    if survivors:
        print(f"survivors: {OUT / 'survivors.txt'}, diffs: {OUT / 'survivors.diff'}")
    return 0 if score >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
