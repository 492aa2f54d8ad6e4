// What tests/js/ needs to run browser.js under Node: the file itself, evaluated as run_js
// does (one function expression), called with the constants browser.py passes, and fakes
// of the browser's WebSocket and WebSocketStream and of Pyodide's proxies.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const root = new URL("../../", import.meta.url);
const browserJs = fileURLToPath(new URL("python/websocket_streaming/browser.js", root));
const browserPy = readFileSync(new URL("python/websocket_streaming/browser.py", root), "utf8");
export const facadeSource = readFileSync(new URL("js/websocket_streaming.js", root), "utf8");
export const browserSource = readFileSync(browserJs, "utf8");

// A module-level integer constant of browser.py: `NAME = 4096`, `NAME = -1` or `NAME = 1 << 20`.
function pyConstant(name) {
  const m = browserPy.match(new RegExp(`^${name} = (-?\\d+)(?: << (\\d+))?$`, "m"));
  if (m === null) throw new Error(`browser.py has no integer constant ${name}`);
  return Number(m[1]) * 2 ** Number(m[2] ?? 0);
}

// The options browser.py's js_helpers() passes to browser.js: {"packMax": PACK_MAX, ...}, read
// from browser.py itself, so that these tests run with the values the package uses.
export const constants = (() => {
  const block = browserPy.match(/ {8}options = \{\n([\s\S]*?)\n {8}\}/);
  if (block === null) throw new Error("browser.py's js_helpers() has no options dict");
  const out = {};
  for (const [, key, name] of block[1].matchAll(/"(\w+)": (\w+),/g)) out[key] = pyConstant(name);
  return out;
})();

// browser.js's helpers object, made with `constants` (or some of them changed).
export function loadHelpers(changes = {}) {
  const factory = vm.runInThisContext(browserSource, { filename: browserJs });
  return factory({ ...constants, ...changes });
}

// A Python callback as Pyodide hands it to JS (a PyProxy): records its calls (a Uint8Array
// argument copied, as Python copies it at once) and its destroy(); a call after destroy() throws.
export function fakeProxy(result) {
  const proxy = (...args) => {
    if (proxy.destroyed > 0) throw new Error("This borrowed proxy was automatically destroyed");
    proxy.calls.push(args.map((a) => (a instanceof Uint8Array ? Uint8Array.from(a) : a)));
    return result?.(...args);
  };
  proxy.calls = [];
  proxy.destroyed = 0;
  proxy.destroy = () => {
    proxy.destroyed++;
  };
  return proxy;
}

// A PyProxy of a bytearray (or memoryview): getBuffer("u8") views `bytes`; lose() empties the
// views it gave, as Pyodide's memory growth does to a view of the old memory.
export function fakePyBuffer(bytes) {
  const buffer = {
    views: [],
    released: 0,
    getBuffer(type) {
      if (type !== "u8") throw new Error(`unexpected buffer type ${type}`);
      const view = {
        data: bytes,
        release() {
          buffer.released++;
        },
      };
      buffer.views.push(view);
      return view;
    },
    lose() {
      for (const view of buffer.views) view.data = new Uint8Array(0);
    },
  };
  return buffer;
}

// The bytes a send() call was given, copied (the caller may reuse its buffer).
function copied(data) {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

// The browser's WebSocket, driven by the test: open(), receive(data), closeEvent(...).
export class FakeWebSocket {
  static last = null;
  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.binaryType = "blob";
    this.readyState = 0;
    this.bufferedAmount = 0;
    this.protocol = "";
    this.extensions = "";
    this.sent = [];
    this.closeCalls = [];
    this.onopen = null;
    this.onmessage = null;
    this.onclose = null;
    FakeWebSocket.last = this;
  }
  send(data) {
    if (this.readyState !== 1) throw new Error("InvalidStateError: still in CONNECTING state");
    const bytes = copied(data);
    this.sent.push(bytes);
    this.bufferedAmount += bytes.length;
  }
  close(code, reason) {
    this.closeCalls.push([code, reason]);
    if (this.readyState < 2) this.readyState = 2;
  }
  // The browser's events (nothing happens once the handler was removed).
  open(protocol = "") {
    this.readyState = 1;
    this.protocol = protocol;
    this.onopen?.({ type: "open" });
  }
  receive(data) {
    this.onmessage?.({ type: "message", data });
  }
  closeEvent(code = 1000, reason = "", wasClean = true) {
    this.readyState = 3;
    this.onclose?.({ type: "close", code, reason, wasClean });
  }
}

// The browser's WebSocketStream, driven by the test: accept(), deliver(value), end(),
// closed(...). Records each read() asked for (`reads`: the pending ones) and each write.
export class FakeWebSocketStream {
  static last = null;
  constructor(url, options) {
    this.url = url;
    this.options = options;
    this.reads = [];
    this.readsAsked = 0;
    this.writes = [];
    this.closeCalls = [];
    this.cancelled = false;
    this.opened = new Promise((resolve) => {
      this.resolveOpened = resolve;
    });
    this.closed = new Promise((resolve, reject) => {
      this.resolveClosed = resolve;
      this.rejectClosed = reject;
    });
    this.closed.catch(() => {});
    const stream = this;
    this.reader = {
      read() {
        stream.readsAsked++;
        return new Promise((resolve) => stream.reads.push(resolve));
      },
      cancel() {
        stream.cancelled = true;
        return Promise.resolve();
      },
    };
    // As Deno's writer: strings and Uint8Array only (Chromium's takes any BufferSource);
    // `failWrites` set, every write rejects with it (a stream that errored).
    this.failWrites = null;
    this.writer = {
      write(chunk) {
        if (typeof chunk !== "string" && !(chunk instanceof Uint8Array)) {
          return Promise.reject(new TypeError("Invalid WebSocket frame: expected string or Uint8Array"));
        }
        if (stream.failWrites !== null) return Promise.reject(stream.failWrites);
        stream.writes.push(copied(chunk));
        return Promise.resolve();
      },
    };
    FakeWebSocketStream.last = this;
  }
  accept(protocol = "", extensions = "") {
    this.resolveOpened({
      readable: { getReader: () => this.reader },
      writable: { getWriter: () => this.writer },
      protocol,
      extensions,
    });
  }
  deliver(value) {
    this.reads.shift()({ value, done: false });
  }
  end() {
    this.reads.shift()({ value: undefined, done: true });
  }
  close(info) {
    this.closeCalls.push(info);
  }
}

globalThis.WebSocket = FakeWebSocket;
globalThis.WebSocketStream = FakeWebSocketStream;

// Binary message of n bytes (an ArrayBuffer, as with binaryType "arraybuffer"), each `fill`.
export function bin(n, fill = 7) {
  return new Uint8Array(n).fill(fill).buffer;
}

// What browser.py's take() makes of a batch: the messages, text and Uint8Array, in order.
export function decodeBatch(batch) {
  const [messages, packed, sizes] = batch;
  const asBytes = (m) => (typeof m === "string" ? m : new Uint8Array(m));
  if (packed === undefined) return messages.map(asBytes);
  const out = [];
  let offset = 0;
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i];
    if (size >= 0) {
      out.push(packed.slice(offset, offset + size));
      offset += size;
    } else if (size === constants.asItCame) {
      out.push(asBytes(messages[i]));
    } else {
      const end = offset + constants.utf8Base - size;
      out.push(new TextDecoder().decode(packed.subarray(offset, end)));
      offset = end;
    }
  }
  return out;
}
