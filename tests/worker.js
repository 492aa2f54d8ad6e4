// A module Web Worker with Pyodide and websocket_streaming, for tests/test_worker.py.
// In: {id, code, args}: Python source, run with the global ARGS = args (JSON-able).
// Out: {id, ok: true, json} (json = json.dumps of the code's global `result`) or {id, ok: false, error}.
import { loadPyodide } from "/pyodide/pyodide.mjs";

const ready = (async () => {
  const pyodide = await loadPyodide({ indexURL: "/pyodide/" });
  await pyodide.loadPackage("websocket-streaming");
  return pyodide;
})();

self.onmessage = async ({ data: { id, code, args } }) => {
  try {
    const pyodide = await ready;
    const globals = pyodide.globals.get("dict")();
    try {
      globals.set("ARGS", pyodide.toPy(args));
      await pyodide.runPythonAsync(code, { globals });
      const json = pyodide.runPython("import json; json.dumps(globals().get('result'))", { globals });
      self.postMessage({ id, ok: true, json });
    } finally {
      globals.destroy();
    }
  } catch (e) {
    self.postMessage({ id, ok: false, error: String(e?.message || e) });
  }
};
