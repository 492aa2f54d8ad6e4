"""Sphinx configuration: Markdown sources (MyST), the Python API from the docstrings
(autodoc, Google-style sections through napoleon), the Furo theme. Built offline by
./build.sh docs with warnings as errors."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))

project = "websocket-streaming"
author = "The websocket-streaming authors"
copyright = "the websocket-streaming authors"
release = version = "0.1.0"

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".md": "markdown"}
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
exclude_patterns = ["_build"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
# Pyodide's modules exist only in Pyodide; the browser-facing modules import them.
autodoc_mock_imports = ["js", "pyodide"]
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# "Attributes:" sections as fields of their class, not as second descriptions of them.
napoleon_use_ivar = True

html_theme = "furo"
html_title = "websocket-streaming"

