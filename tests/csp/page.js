// The strict-CSP page's own module (tests/test_csp.py). ?mode= says how websocket_streaming
// reaches Python: "lock" (loadPackage) or "micropip" (micropip.install of the wheel's URL),
// the page importing websocket_streaming_browser.js as a module; "missing" (from the lock,
// the first connection without that import, which must fail with CSP_HELP, then a second one
// after it); "facade" (the JS facade, which loads everything itself). Reports through
// listen.js: [first attempt, second attempt] for "missing", else the one attempt.
const params = new URLSearchParams(location.search);
const mode = params.get("mode");
const url = `${params.get("ws")}/echo`;

const ECHO_PY = `
from websocket_streaming import connect
try:
    async with connect(URL) as ws:
        await ws.send("hello")
        text = await ws.recv()
        await ws.send(bytes([0, 1, 255]))
        binary = list(await ws.recv())
    result = [text, binary]
except Exception as exc:
    result = ["error", type(exc).__name__, str(exc)]
result
`;

async function viaPython() {
  const { loadPyodide } = await import("/pyodide/pyodide.mjs");
  if (mode !== "missing") await import("/websocket_streaming_browser.js");
  const pyodide = await loadPyodide({ indexURL: "/pyodide/" });
  if (mode === "micropip") {
    await pyodide.loadPackage("micropip");
    const micropip = pyodide.pyimport("micropip");
    await micropip.install(new URL("/websocket_streaming-0.1.0-py3-none-any.whl", location.href).href);
  } else {
    await pyodide.loadPackage("websocket-streaming");
  }
  pyodide.globals.set("URL", url);
  const echo = async () => (await pyodide.runPythonAsync(ECHO_PY)).toJs();
  if (mode !== "missing") return await echo();
  const first = await echo();
  await import("/websocket_streaming_browser.js");
  return [first, await echo()];
}

async function viaFacade() {
  const { WebSocketStream } = await import("/websocket_streaming.js");
  const ws = new WebSocketStream(url, { indexURL: "/pyodide/" });
  await ws.opened;
  await ws.send("hello");
  const text = await ws.recv();
  await ws.send(new Uint8Array([0, 1, 255]));
  const binary = Array.from(new Uint8Array(await ws.recv()));
  await ws.close();
  return [text, binary];
}

try {
  window.report(await (mode === "facade" ? viaFacade() : viaPython()));
} catch (error) {
  window.report(["error", String(error)]);
}
