// load_pyodide.js: the Python side of websocket_streaming.js, loaded once per page: Pyodide
// (the instance given, or imported from indexURL), then the websocket-streaming package
// wherever it is (importable, in the lock, or the wheel shipped beside this module).
// websocket_streaming.js re-exports what this module exports; types in websocket_streaming.d.ts.

// Only used inside functions, so the import cycle with websocket_streaming.js is harmless.
import { WebSocketStreamError } from "./websocket_streaming.js";
// The package's JavaScript half (browser.js of the wheel), imported rather than evaluated by
// Python, so that the facade works under a Content-Security-Policy without 'unsafe-eval'.
import "./websocket_streaming_browser.js";

// Pyodide and the wheel are found relative to this module's own URL, which only an ES module has.
if (typeof import.meta.url !== "string" || import.meta.url === "") {
  throw new Error(
    "websocket-streaming is an ES module and must be loaded as one: this bundle has no import.meta.url " +
      '(an IIFE or CommonJS build?). Bundle with format "esm" (esbuild --format=esm, Vite\'s default) and ' +
      'load it with <script type="module">.',
  );
}

// Not new URL("./pyodide/", import.meta.url): bundlers would take that for an asset of ours
// (Vite warns that it "doesn't exist at build time"). The wheel's URL below is one.
const PYODIDE_BESIDE = "./pyodide/";
export const DEFAULT_INDEX_URL = new URL(PYODIDE_BESIDE, import.meta.url).href;

// In dist/ and in the npm package; its version is the Python package's (tests/test_packages.py checks it).
export const DEFAULT_WHEEL_URL = new URL("./websocket_streaming-0.1.0-py3-none-any.whl", import.meta.url).href;

// One Pyodide and one import of our package per page, whatever the number of streams.
const bridges = new Map();

// The last line of an error's message (a PythonError's is its traceback).
function lastLine(error) {
  const lines = String(error?.message ?? error)
    .trim()
    .split("\n");
  return lines[lines.length - 1];
}

// Node.js and Deno (no page): Pyodide's loader there takes its indexURL as a file path, and
// refuses a file: URL ("Cannot find module '/cwd/file:/...'"); the wheel is read from a path.
const SERVER_HOST =
  typeof globalThis.Deno?.version?.deno === "string" || typeof globalThis.process?.versions?.node === "string";

// A file: URL as the absolute path Node.js and Deno take ("file:///C:/x" -> "C:/x" on Windows).
function filePath(url) {
  const path = decodeURIComponent(new URL(url).pathname);
  return /^\/[A-Za-z]:\//.test(path) ? path.slice(1) : path;
}

// On Node.js and Deno, where Pyodide is: `indexURL` as given, a path (relative to the current
// directory, as Pyodide's loader takes it) or a URL (file: ones made paths); by default
// ./pyodide/ beside this module if it is there (dist/), else the npm package `pyodide` that
// this module's own resolution finds (node_modules/pyodide/, beside an installed
// websocket-streaming). Returns [the URL to import pyodide.mjs from, Pyodide's indexURL].
async function serverIndex(indexURL) {
  const cwd = globalThis.Deno?.cwd() ?? globalThis.process.cwd();
  const asURL = (where) => {
    const text = String(where); // a URL object too
    return /^[a-z][a-z0-9+.-]+:/i.test(text) ? new URL(text) : new URL(text, `file://${cwd}/`);
  };
  const index = (url) => {
    const href = url.href.endsWith("/") ? url.href : `${url.href}/`;
    return [new URL("pyodide.mjs", href).href, href.startsWith("file:") ? filePath(href) : href];
  };
  if (indexURL !== undefined) return index(asURL(indexURL));
  const beside = index(new URL(DEFAULT_INDEX_URL));
  try {
    await import(/* @vite-ignore */ beside[0]);
    return beside;
  } catch {
    // not in dist/: the npm package
  }
  let resolved;
  try {
    resolved = import.meta.resolve("pyodide");
  } catch (error) {
    throw new WebSocketStreamError(
      `could not find Pyodide: not at ${beside[1]} and no npm package "pyodide" (${lastLine(error)}): ` +
        "install it (npm i pyodide) or pass the option { indexURL } (the folder that holds pyodide.mjs, a path)",
    );
  }
  return index(new URL(".", resolved));
}

async function importPyodide(indexURL) {
  const [url, where] = SERVER_HOST ? await serverIndex(indexURL) : [new URL("pyodide.mjs", indexURL).href, indexURL];
  let module;
  try {
    module = await import(/* @vite-ignore */ url);
  } catch (error) {
    throw new WebSocketStreamError(
      `could not load Pyodide from ${url} (${lastLine(error)}): pass the option { pyodide } (a loaded ` +
        "Pyodide) or { indexURL } (the folder that holds pyodide.mjs, e.g. node_modules/pyodide/ served by your app" +
        `${SERVER_HOST ? "; on Node.js and Deno a path" : ""})`,
    );
  }
  return await module.loadPyodide({ indexURL: where });
}

// How this Pyodide gets our package: "importable" (micropip, PyScript, JupyterLite put it
// there), "lock" (its lock file lists it) or "wheel" (installWheel(wheelURL)).
function packageSource(pyodide) {
  if (pyodide.runPython("__import__('importlib.util').util.find_spec('websocket_streaming') is not None")) {
    return "importable";
  }
  const packages = pyodide.lockfile?.packages ?? pyodide._api?.lockfile_packages ?? {};
  return "websocket-streaming" in packages ? "lock" : "wheel";
}

// The wheel is pure Python with no dependencies, so installing it is unpacking it into
// site-packages (its .dist-info included): no micropip, which npm's `pyodide` does not ship
// (asking for it costs a 404, or an integrity error behind a dev server's HTML fallback).
async function installWheel(pyodide, wheelURL) {
  if (SERVER_HOST && wheelURL.startsWith("file:")) {
    // Node.js's fetch() cannot read a file: URL; Pyodide's loadPackage reads a path and unpacks it.
    const errors = [];
    await pyodide.loadPackage(filePath(wheelURL), { messageCallback: () => {}, errorCallback: (m) => errors.push(m) });
    if (errors.length > 0) throw new Error(errors.join("; "));
    return;
  }
  const response = await fetch(wheelURL);
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText} for ${wheelURL}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  // A wheel is a zip ("PK\x03\x04"); a dev server's fallback answers a missing file with its
  // index.html and a 200.
  if (bytes[0] !== 0x50 || bytes[1] !== 0x4b || bytes[2] !== 3 || bytes[3] !== 4) {
    const type = response.headers.get("content-type") ?? "no content-type";
    throw new Error(
      `${wheelURL} answered ${bytes.length} bytes of ${type}, not a wheel (a zip file). Under Vite's ` +
        "dev server, exclude the package from pre-bundling: optimizeDeps: { exclude: ['websocket-streaming'] }",
    );
  }
  const sitePackages = pyodide.runPython("__import__('sysconfig').get_path('purelib')");
  pyodide.unpackArchive(bytes, "wheel", { extractDir: sitePackages });
  pyodide.runPython("__import__('importlib').invalidate_caches()");
}

async function loadBridge(pyodide, indexURL, wheelURL) {
  pyodide ??= await importPyodide(indexURL);
  const source = packageSource(pyodide);
  if (source === "lock") {
    // loadPackage reports a failed download or a sha256 mismatch to errorCallback, not by rejecting.
    const errors = [];
    await pyodide.loadPackage("websocket-streaming", {
      messageCallback: () => {},
      errorCallback: (m) => errors.push(m),
    });
    if (errors.length > 0) {
      throw new WebSocketStreamError(`loading websocket-streaming from the Pyodide lock failed: ${errors.join("; ")}`);
    }
  } else if (source === "wheel") {
    try {
      await installWheel(pyodide, wheelURL);
    } catch (error) {
      throw new WebSocketStreamError(
        `this Pyodide has no websocket_streaming package and installing the wheel ${wheelURL} ` +
          `failed (${lastLine(error)}): pass the option { wheelURL } (where websocket_streaming-*.whl is served), ` +
          "or install the package into Pyodide before the first stream",
      );
    }
  }
  return pyodide.pyimport("websocket_streaming.facade");
}

export function loadWebSocketStreaming({ pyodide, indexURL, wheelURL = DEFAULT_WHEEL_URL } = {}) {
  // Node.js and Deno: indexURL stays as given (a path is relative to the current directory, as
  // Pyodide's loader takes it; the default is found by serverIndex()).
  const index = SERVER_HOST ? indexURL : new URL(indexURL ?? DEFAULT_INDEX_URL, import.meta.url).href;
  const key = pyodide ?? String(index);
  if (!bridges.has(key)) {
    const wheel = new URL(wheelURL, import.meta.url).href;
    const loading = loadBridge(pyodide, index, wheel);
    loading.catch(() => bridges.delete(key)); // let a later call retry
    bridges.set(key, loading);
  }
  return bridges.get(key);
}
