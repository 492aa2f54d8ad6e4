"""Blocking calls for synchronous code: run one of the core's coroutines to its end.

A page's Python cannot block the browser's thread waiting for the network: the
message it waits for arrives through that same thread. Pyodide can still give
synchronous code a blocking call where the JavaScript runtime has WebAssembly
JavaScript Promise Integration (JSPI): ``pyodide.ffi.run_sync(coroutine)``
suspends the Python stack, lets the browser run (the coroutine included) and
resumes with its result. Measured: Chromium 156, Firefox ESR 153, Node 24 and
Deno 2.9 have JSPI; WebKit (Safari, WebKitGTK 2.50) does not; Node 22 only with
``--experimental-wasm-jspi``. And even with JSPI, only Python entered through a
*promising* call can suspend: ``pyodide.runPythonAsync``, a notebook cell, an
``async def`` (called from JS or run by asyncio). Code run by the synchronous
``pyodide.runPython``, or by a JS event handler, cannot.

:func:`run` is the one place the synchronous APIs (:mod:`.compat_sync`,
:mod:`.compat_websocket`) block. Where the runtime cannot block it raises
:class:`CannotBlock` at once, before anything starts: a blocking call never
hangs and never busy-waits. Why not a Web Worker with ``Atomics.wait`` instead:
see the README (it needs a cross-origin isolated page and the socket in another
thread, so every message is copied twice; no better than the asyncio API where
JSPI is missing).

Outside Pyodide (plain CPython, the unit tests) :func:`run` runs the coroutine
on a private event loop, as ``asyncio.run`` would but keeping the loop across
calls, so a connection's tasks survive from one blocking call to the next.

Only this module of the synchronous APIs touches Pyodide (lazily, in functions).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any

from .exceptions import WebSocketError

__all__ = ["CannotBlock", "can_block", "run", "why_cannot_block"]

#: What works where a blocking call cannot: the end of every refusal.
INSTEAD = (
    "use the asyncio API instead (await websocket_streaming.connect(url), "
    "or websockets.connect after compat.install()), which works everywhere"
)


class CannotBlock(WebSocketError, RuntimeError):
    """A blocking call was made where the runtime cannot block; the message says why.

    Raised at once, before anything is sent or opened.
    """


def _in_pyodide() -> bool:
    return sys.platform == "emscripten"


def why_cannot_block() -> str | None:
    """Why a blocking call cannot be made here and now, or None if it can.

    Raises nothing.
    """
    if not _in_pyodide():
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return None
        return "this thread is running an asyncio event loop, which a blocking call would stall"
    from pyodide.ffi import can_run_sync

    import js  # only Pyodide has these: imported here, never on CPython

    if can_run_sync():
        return None
    wasm = getattr(js, "WebAssembly", None)
    if not (hasattr(wasm, "Suspending") or hasattr(wasm, "Suspender")):
        return (
            "this JavaScript runtime has no WebAssembly JavaScript Promise Integration "
            "(JSPI), which Pyodide needs to suspend Python until the browser answers "
            "(Chromium, Firefox, Node 24 and Deno 2 have it; WebKit/Safari does not; "
            "Node 22 needs --experimental-wasm-jspi)"
        )
    return (
        "this Python code was not entered through a promising call, so Pyodide cannot "
        "suspend it (it runs from pyodide.runPython or a JavaScript event handler; "
        "pyodide.runPythonAsync, a notebook cell or callPromising() can block)"
    )


def can_block() -> bool:
    """Whether a blocking call can be made here and now. Raises nothing."""
    return why_cannot_block() is None


_loop: asyncio.AbstractEventLoop | None = None


def run[T](coroutine: Coroutine[Any, Any, T], what: str) -> T:
    """Run ``coroutine`` to its end and return its result, blocking this call.

    ``what`` names the blocking call for the refusal (``"websocket.create_connection()"``).
    In Pyodide, ``pyodide.ffi.run_sync`` drives it: the browser (and every other
    task) runs meanwhile. Exceptions the coroutine raises propagate unchanged.

    Raises:
        CannotBlock: the runtime cannot block here (the message says why and
            what works instead); the coroutine is closed without having run.
        BaseException: whatever the coroutine raises.
    """
    why = why_cannot_block()
    if why is not None:
        coroutine.close()  # never started: closing it runs nothing and warns nothing
        raise CannotBlock(f"{what} cannot block here: {why}; {INSTEAD}")
    if _in_pyodide():
        from pyodide.ffi import run_sync

        return run_sync(coroutine)  # type: ignore[no-any-return]
    global _loop
    if _loop is None or _loop.is_closed():
        _loop = asyncio.new_event_loop()
    return _loop.run_until_complete(coroutine)
