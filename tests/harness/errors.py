"""The harness's exceptions: an engine that cannot start, a step that timed out, JS that threw.

Every module of the harness raises these; :mod:`harness` re-exports them.
"""

from __future__ import annotations


class BrowserUnavailable(Exception):
    """The engine cannot be launched here: a browser, driver or X server is missing.

    The message names the engine, what is missing and how to install it.
    """


class PageError(Exception):
    """JavaScript threw (or rejected) during :meth:`Page.evaluate`.

    ``message`` is ``String(error)`` in the page (e.g. ``"TypeError: x is undefined"``) and
    ``stack`` is ``error.stack`` (which in JavaScriptCore lacks the message, hence both).
    """

    def __init__(self, engine: str, message: str, stack: str = "") -> None:
        self.engine = engine
        self.message = message
        self.stack = stack
        text = f"{engine}: {message}"
        if stack and stack.strip() != message.strip():
            text += "\n" + stack
        super().__init__(text)


class BrowserTimeout(TimeoutError):
    """A step did not finish in time; the message names engine and step ("webkit: new session")."""
