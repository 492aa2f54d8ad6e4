"""The package as a whole: public names, their docstrings, importing without a browser."""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from types import FunctionType, ModuleType

import pytest
import websocket_streaming

PACKAGE_DIR = Path(websocket_streaming.__file__).parent
ROOT = PACKAGE_DIR.parent.parent
# browser.py imports `js` and runs only in Pyodide: the browser tests cover it.
MODULES = [
    "client",
    "connection",
    "exceptions",
    "options",
    "protocol",
    "reconnect",
    "retry",
    "transport",
]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"websocket_streaming.{name}")


def _public_names() -> list[tuple[ModuleType, str]]:
    """Every name exported by the package or one of its (CPython-importable) modules."""
    found = [(websocket_streaming, name) for name in websocket_streaming.__all__]
    for module in map(_module, MODULES):
        found += [(module, name) for name in module.__all__]
    return found


def _members(cls: type) -> list[tuple[str, object]]:
    """A class's own public methods and properties, and __aiter__ (it carries behaviour)."""
    return [
        (name, value)
        for name, value in vars(cls).items()
        if (not name.startswith("_") or name == "__aiter__")
        and isinstance(value, (FunctionType, property))
    ]


# -- __all__ -----------------------------------------------------------------------


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's isort-style order for __all__ (RUF022): CONSTANTS, then Classes, then the rest."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


@pytest.mark.parametrize("module", ["websocket_streaming", *MODULES])
def test_all_is_sorted_and_defined(module):
    """Each __all__ is sorted as ruff sorts it, has no duplicates, and names only what exists."""
    mod = websocket_streaming if module == "websocket_streaming" else _module(module)
    names = mod.__all__
    assert names == sorted(names, key=_isort_key)
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(mod, name), f"{module}.__all__ names missing {name}"


def test_package_all_is_complete():
    """The package's __all__ lists exactly the public names its __init__ binds."""
    bound = {
        name
        for name, value in vars(websocket_streaming).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    assert bound == set(websocket_streaming.__all__)


def test_package_reexports_module_exports():
    """Everything the package exports is the same object a module exports in its __all__."""
    for name in websocket_streaming.__all__:
        sources = [m for m in map(_module, MODULES) if name in m.__all__]
        assert sources, f"{name} is exported by no module"
        assert all(getattr(m, name) is getattr(websocket_streaming, name) for m in sources)


def test_exceptions_are_all_exported():
    """Every exception class the package defines is exported at the top level."""
    exceptions = _module("exceptions")
    defined = {
        name
        for name, value in vars(exceptions).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == exceptions.__name__
    }
    assert defined <= set(websocket_streaming.__all__)


def test_version_matches_pyproject():
    """__version__ is the version in pyproject.toml, and the package ships py.typed."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert websocket_streaming.__version__ == project["version"]
    assert (PACKAGE_DIR / "py.typed").is_file()
    # browser.js states its release too: browser.py refuses a page's copy of another one.
    stated = re.findall(r'const VERSION = "([^"]+)";', (PACKAGE_DIR / "browser.js").read_text())
    assert stated == [project["version"]]


# -- docstrings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "name"), _public_names(), ids=lambda x: getattr(x, "__name__", x)
)
def test_public_name_is_documented(module, name):
    """Every exported class and function has a docstring; every exported constant a #: comment."""
    value = getattr(module, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert inspect.getdoc(value), f"{module.__name__}.{name} has no docstring"
        if inspect.isclass(value):
            for member, attr in _members(value):
                doc = attr.__doc__
                assert doc and doc.strip(), f"{name}.{member} has no docstring"
    else:
        home = next(m for m in map(_module, MODULES) if name in m.__all__)
        source = inspect.getsource(home)
        assert re.search(rf"^#:.*\n(#:.*\n)*{re.escape(name)}\b", source, re.M), (
            f"{home.__name__}.{name} has no #: comment above its definition"
        )


def test_module_docstrings():
    """The package and every module say what they are in a docstring."""
    for module in [websocket_streaming, *map(_module, MODULES)]:
        assert module.__doc__ and module.__doc__.strip(), module.__name__


# -- what each public callable raises ----------------------------------------------


class _Index:
    """The package's functions and methods as syntax trees, to find what each can raise."""

    def __init__(self) -> None:
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.methods: dict[tuple[str, str], ast.FunctionDef | ast.AsyncFunctionDef] = {}
        for module in MODULES:
            tree = ast.parse((PACKAGE_DIR / f"{module}.py").read_text())
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self.functions[node.name] = node
                elif isinstance(node, ast.ClassDef):
                    for item in node.body:
                        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                            self.methods[node.name, item.name] = item
        names = [name for _, name in self.methods]
        # A method called on another object (ws.wait_open()) is found by its name, when
        # only one class of the package has a method of that name.
        self.unique = {
            name: node
            for (_, name), node in self.methods.items()
            if not name.startswith("__") and names.count(name) == 1
        }

    def raises(self, node, cls: str | None, seen=None) -> set[str]:
        """Exception names `node` raises, itself or through the package functions it calls."""
        seen = set() if seen is None else seen
        if id(node) in seen:
            return set()
        seen.add(id(node))
        found: set[str] = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Raise) and sub.exc is not None:
                exc = sub.exc.func if isinstance(sub.exc, ast.Call) else sub.exc
                if isinstance(exc, ast.Name) and exc.id in self.functions:
                    returns = self.functions[exc.id].returns  # raise closed_exception(...)
                    assert isinstance(returns, ast.Name)
                    found.add(returns.id)
                elif isinstance(exc, ast.Name):
                    found.add(exc.id)
                elif (  # raise self.closed_exception(): the method's return annotation
                    isinstance(exc, ast.Attribute)
                    and isinstance(exc.value, ast.Name)
                    and exc.value.id == "self"
                    and (cls, exc.attr) in self.methods
                ):
                    returns = self.methods[cls, exc.attr].returns
                    assert isinstance(returns, ast.Name)
                    found.add(returns.id)
            elif isinstance(sub, ast.Call):
                func = sub.func
                if isinstance(func, ast.Name) and func.id in self.functions:
                    found |= self.raises(self.functions[func.id], None, seen)
                elif isinstance(func, ast.Attribute):
                    owner = func.value
                    if isinstance(owner, ast.Name) and owner.id == "self" and cls:
                        if (cls, func.attr) in self.methods:
                            found |= self.raises(self.methods[cls, func.attr], cls, seen)
                    elif func.attr in self.unique:
                        target = self.unique[func.attr]
                        owner_cls = next(c for (c, n), v in self.methods.items() if v is target)
                        found |= self.raises(target, owner_cls, seen)
        return found


@functools.cache
def _index() -> _Index:
    return _Index()


# What static analysis cannot see: `async for ws in connect(...)` enters `self`.
_ALSO_RAISES = {("connect", "__aiter__"): {"InvalidURI"}}


def _lookup(name: str) -> object:
    """An exported object by name, from the package or one of its modules."""
    return next(getattr(module, n) for module, n in _public_names() if n == name)


def _callables() -> list[tuple[str, str | None]]:
    """(class or function, method or None) for every public callable of the package."""
    found: list[tuple[str, str | None]] = []
    for module, name in _public_names():
        value = getattr(module, name)
        if inspect.isfunction(value):
            found.append((name, None))
        elif inspect.isclass(value) and not issubclass(value, BaseException):
            found.append((name, None))
            found += [(name, member) for member, _ in _members(value)]
    return sorted(set(found), key=str)


@pytest.mark.parametrize(("owner", "member"), _callables(), ids=str)
def test_docstring_names_what_it_raises(owner, member):
    """Each public callable's docstring has a Raises section naming every exception it raises."""
    index = _index()
    if member is None and owner in index.functions:
        raised = index.raises(index.functions[owner], None)
        doc = inspect.getdoc(_lookup(owner))
    elif member is None:
        # A class: its docstring speaks for creating, awaiting and entering it.
        raised = set()
        for special in ("__init__", "__await__", "__aenter__"):
            if (owner, special) in index.methods:
                raised |= index.raises(index.methods[owner, special], owner)
        doc = inspect.getdoc(_lookup(owner))
    else:
        raised = index.raises(index.methods[owner, member], owner)
        attr = vars(_lookup(owner))[member]
        doc = inspect.getdoc(attr.fget if isinstance(attr, property) else attr)
    raised |= _ALSO_RAISES.get((owner, member), set())
    if not raised:
        return
    assert doc and "Raises" in doc, f"{owner}.{member}: no Raises section for {sorted(raised)}"
    missing = sorted(name for name in raised if name not in doc)
    assert not missing, f"{owner}.{member}'s docstring does not say it raises {missing}"


def test_raise_analysis_sees_known_raises():
    """The analysis behind the Raises check finds raises made directly and through helpers."""
    index = _index()
    assert index.raises(index.functions["check_uri"], None) == {"InvalidURI"}
    assert index.raises(index.methods["WebSocketStream", "close"], "WebSocketStream") == {
        "InvalidCloseCode"
    }
    send = index.raises(index.methods["WebSocketStream", "send"], "WebSocketStream")
    assert send == {"ConnectionClosed", "TypeError"}
    recv = index.raises(index.methods["WebSocketStream", "recv"], "WebSocketStream")
    assert {"ConnectionClosed", "ConcurrencyError"} <= recv
    opening = index.raises(index.methods["connect", "_create"], "connect")
    assert opening == {"InvalidURI", "ConnectionFailed", "TimeoutError", "WebSocketError"}


# -- importing without a browser ----------------------------------------------------


def test_imports_on_cpython_without_js():
    """The package and its modules import on CPython with `js` and `pyodide` unimportable."""
    script = textwrap.dedent(
        """
        import importlib.abc, sys

        class NoBrowser(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("js", "pyodide", "pyodide_js", "_pyodide_core"):
                    raise ImportError(f"{name} is only in Pyodide")
                return None

        sys.meta_path.insert(0, NoBrowser())
        import websocket_streaming
        from websocket_streaming import client, connection, exceptions, protocol
        from websocket_streaming import *  # noqa: F403
        banned = [m for m in sys.modules
                  if m.split(".")[0] in ("js", "pyodide")
                  or m in ("websocket_streaming.browser", "websocket_streaming.facade")]
        assert not banned, banned
        print("ok", len(websocket_streaming.__all__))
        """
    )
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(PACKAGE_DIR.parent)!r})\n{script}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ok", str(len(websocket_streaming.__all__))]
