"""The package's version, in a module of its own so that browser.py can check browser.js
against it without importing the package (which imports browser.py's importers)."""

__version__ = "0.1.0"
