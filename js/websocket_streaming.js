// websocket_streaming.js: a WebSocket stream for JavaScript in a Pyodide app.
//
//   import { WebSocketStream } from "./websocket_streaming.js";
//   const ws = new WebSocketStream("ws://127.0.0.1:8765", { protocols: ["chat"] });
//   await ws.opened;                       // { protocol, extensions }
//   await ws.send("text");                 // string -> text; ArrayBuffer / TypedArray / DataView -> binary
//   const data = await ws.recv();          // string | ArrayBuffer
//   for await (const msg of ws) { ... }    // ends on a normal close
//   await ws.close(1000, "bye");
//   const { code, reason } = await ws.closed;
//
// The connection logic (state, queueing, validation) is the Python package
// websocket_streaming, loaded once per page into Pyodide. This module only
// checks JS types and moves JS values: a received message is the very string or
// ArrayBuffer the browser delivered, a sent one is handed to the browser as is.

/** Where Pyodide and our wheel are looked for when no Pyodide instance is given. */
export const DEFAULT_INDEX_URL = new URL("./pyodide/", import.meta.url).href;

const MAX_REASON_BYTES = 123;

/** Base class of the errors that are not about a bad argument. */
export class WebSocketStreamError extends Error {
  constructor(message, name = "WebSocketStreamError") {
    super(message);
    this.name = name;
  }
}

/** The connection is closed; `code` and `reason` say how. */
export class ConnectionClosed extends WebSocketStreamError {
  constructor(message, name, code, reason) {
    super(message, name);
    this.code = code;
    this.reason = reason;
  }
}
/** Closed cleanly with 1000, 1001 or 1005. */
export class ConnectionClosedOK extends ConnectionClosed {}
/** Closed with another code, or without a closing handshake (1006). */
export class ConnectionClosedError extends ConnectionClosed {}
/** The opening handshake failed (refused, unreachable, rejected) or timed out. */
export class ConnectionFailed extends WebSocketStreamError {}
/** recv() was called while another recv() was still waiting. */
export class ConcurrencyError extends WebSocketStreamError {}

// Turn an error raised by the Python bridge (a plain Error with a Python
// exception's class name) into one of ours.
function translate(error) {
  const { name, message } = error ?? {};
  switch (name) {
    case "ConnectionClosedOK":
      return new ConnectionClosedOK(message, name, error.code, error.reason);
    case "ConnectionClosedError":
      return new ConnectionClosedError(message, name, error.code, error.reason);
    case "ConnectionFailed":
    case "TimeoutError":
      return new ConnectionFailed(message, name);
    case "ConcurrencyError":
      return new ConcurrencyError(message, name);
    case "InvalidURI":
      return new TypeError(message);
    case "InvalidCloseCode":
      return new RangeError(message);
    default:
      return error instanceof Error ? error : new WebSocketStreamError(String(error));
  }
}

// The Python bridge returns a JS Error instead of raising (see facade.py).
async function bridged(promise) {
  const result = await promise;
  if (result instanceof Error) throw translate(result);
  return result;
}

// One Pyodide and one import of our package per page, whatever the number of streams.
const bridges = new Map();

async function loadBridge(pyodide, indexURL) {
  if (!pyodide) {
    const { loadPyodide } = await import(new URL("pyodide.mjs", indexURL).href);
    pyodide = await loadPyodide({ indexURL });
  }
  await pyodide.loadPackage("websocket-streaming", { messageCallback: () => {} });
  return pyodide.pyimport("websocket_streaming.facade");
}

/**
 * Load (once) the Python side: Pyodide from `indexURL`, or the instance given,
 * then the websocket-streaming package from that Pyodide's lock file.
 */
export function loadWebSocketStreaming({ pyodide, indexURL = DEFAULT_INDEX_URL } = {}) {
  const key = pyodide ?? new URL(indexURL, import.meta.url).href;
  if (!bridges.has(key)) {
    const loading = loadBridge(pyodide, new URL(indexURL, import.meta.url).href);
    loading.catch(() => bridges.delete(key)); // let a later call retry
    bridges.set(key, loading);
  }
  return bridges.get(key);
}

function checkMessage(data) {
  if (typeof data === "string" || data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    return data;
  }
  const what = data === null ? "null" : typeof data === "object" ? data.constructor?.name ?? "object" : typeof data;
  throw new TypeError(`send() takes a string, an ArrayBuffer, a TypedArray or a DataView, not ${what}`);
}

function checkClose(code, reason) {
  if (!Number.isInteger(code)) {
    throw new TypeError(`the close code must be an integer, not ${typeof code === "number" ? code : typeof code}`);
  }
  if (code !== 1000 && !(code >= 3000 && code <= 4999)) {
    throw new RangeError(`close code ${code} is not allowed: use 1000 or 3000-4999`);
  }
  if (typeof reason !== "string") {
    throw new TypeError(`the close reason must be a string, not ${typeof reason}`);
  }
  const size = new TextEncoder().encode(reason).length;
  if (size > MAX_REASON_BYTES) {
    throw new RangeError(`the close reason is ${size} bytes of UTF-8; at most ${MAX_REASON_BYTES} are allowed`);
  }
}

/**
 * A WebSocket connection read with `recv()` or `for await`, backed by the
 * Python package running in Pyodide.
 */
export class WebSocketStream {
  #py = null; // the Python WebSocketStream (a PyProxy), released once closed
  #bridge = null;
  #state = null; // the JS object holding the socket and its message queue
  #closeInfo = null;
  #writeLimit = 0; // the Python stream's write_limit: send() waits for a drain above it
  #waiting = false; // a recv() waits for a message (in JS, not in Python)

  /**
   * Start connecting in the background; `opened` says how it went.
   * @param {string | URL} url a ws:// or wss:// URL
   * @param {{protocols?: string[], pyodide?: object, indexURL?: string, openTimeout?: number}} options
   * @throws {TypeError} url is not a string or URL, or protocols is not an array of strings
   */
  constructor(url, options = {}) {
    if (typeof url !== "string" && !(url instanceof URL)) {
      throw new TypeError(`the URL must be a string or a URL, not ${url === null ? "null" : typeof url}`);
    }
    const { protocols = [], pyodide, indexURL, openTimeout = 10 } = options ?? {};
    const list = typeof protocols === "string" ? [protocols] : protocols;
    if (!Array.isArray(list) || !list.every((p) => typeof p === "string")) {
      throw new TypeError("protocols must be a string or an array of strings");
    }
    this.url = String(url);
    this.opened = this.#open(list, pyodide, indexURL, openTimeout);
    this.closed = this.opened.then(() => this.#waitClosed());
    // Whoever does not await these must not get unhandled-rejection noise.
    this.opened.catch(() => {});
    this.closed.catch(() => {});
  }

  async #open(protocols, pyodide, indexURL, openTimeout) {
    this.#bridge = await loadWebSocketStreaming({ pyodide, indexURL });
    this.#py = await bridged(this.#bridge.js_open(this.url, protocols, openTimeout));
    this.#state = this.#bridge.js_state(this.#py);
    this.#writeLimit = this.#bridge.js_write_limit(this.#py);
    return { protocol: this.#state.ws.protocol, extensions: this.#state.ws.extensions };
  }

  async #waitClosed() {
    const info = await this.#bridge.js_wait_closed(this.#py);
    this.#closeInfo = info;
    this.#py.destroy(); // nothing of Python is needed any more: the queue is JS
    this.#py = null;
    if (!info.wasClean) {
      throw new ConnectionClosedError(info.message, info.name, info.code, info.reason);
    }
    return { code: info.code, reason: info.reason };
  }

  #closedError() {
    const { name, message, code, reason } = this.#closeInfo;
    const Type = name === "ConnectionClosedOK" ? ConnectionClosedOK : ConnectionClosedError;
    return new Type(message, name, code, reason);
  }

  /** The socket's readyState: 0 connecting, 1 open, 2 closing, 3 closed. */
  get readyState() {
    return this.#state ? this.#state.ws.readyState : 0;
  }

  /** Bytes passed to send() that the browser has not yet put on the wire. */
  get bufferedAmount() {
    return this.#state ? this.#state.ws.bufferedAmount : 0;
  }

  /**
   * Send one message. Copies: none on our side; the browser copies the bytes
   * into its send buffer. Waits while more than 8 MiB is buffered.
   * @param {string | ArrayBuffer | ArrayBufferView} data
   * @throws {TypeError} data is of another type (a number, an object, a stream...)
   * @throws {ConnectionClosed} the connection is closing or closed; nothing was sent
   */
  async send(data) {
    checkMessage(data);
    await this.opened;
    if (this.#py === null) throw this.#closedError();
    const ws = this.#state.ws;
    if (ws.readyState !== 1) {
      // Closing: Python raises the ConnectionClosed that send() raises.
      await bridged(this.#bridge.js_send(this.#py, data));
      return;
    }
    // The common case stays in JS: a call into Python only to wait for a drain.
    ws.send(data);
    if (ws.bufferedAmount > this.#writeLimit) {
      await bridged(this.#bridge.js_drain(this.#py));
    }
  }

  /**
   * The next message: a string for a text frame, the browser's own ArrayBuffer
   * for a binary frame (not copied). Messages received before a close are all
   * returned before it throws.
   * @returns {Promise<string | ArrayBuffer>}
   * @throws {ConnectionClosedOK} closed cleanly and nothing is left to read
   * @throws {ConnectionClosedError} closed with an error and nothing is left to read
   * @throws {ConcurrencyError} another recv() is still waiting
   */
  recv() {
    // A message already here costs one resolved promise, not an async call's ticks.
    const state = this.#state;
    if (state !== null && state.size !== 0) return Promise.resolve(state.shift());
    return this.#recvWhenReady();
  }

  async #recvWhenReady() {
    if (this.#state === null) await this.opened;
    const state = this.#state;
    if (state.size === 0) {
      if (this.#py === null) throw this.#closedError();
      if (this.#waiting) {
        throw new ConcurrencyError(
          "cannot wait for a message while another coroutine is already waiting for one",
          "ConcurrencyError",
        );
      }
      if (state.closeInfo === undefined) {
        // Woken by the socket's own message or close handler: no trip through Python.
        this.#waiting = true;
        try {
          await new Promise((resolve) => { state.notify = resolve; });
        } finally {
          this.#waiting = false;
        }
      }
      if (state.size === 0) {
        // Closed with nothing left: Python raises the right ConnectionClosed.
        if (this.#py === null) throw this.#closedError();
        await bridged(this.#bridge.js_wait_message(this.#py));
      }
    }
    return state.shift();
  }

  /** Yield messages until the connection closes; ends quietly on a clean close. */
  async *[Symbol.asyncIterator]() {
    while (true) {
      try {
        yield await this.recv();
      } catch (error) {
        if (error instanceof ConnectionClosedOK) return;
        throw error;
      }
    }
  }

  /**
   * Close the connection and wait until it is closed. Closing twice is harmless.
   * @param {number} code 1000 or 3000-4999
   * @param {string} reason at most 123 bytes of UTF-8
   * @throws {TypeError} code is not an integer or reason not a string
   * @throws {RangeError} code or reason is out of range
   */
  async close(code = 1000, reason = "") {
    checkClose(code, reason);
    try {
      await this.opened;
    } catch {
      return; // never opened: nothing to close
    }
    if (this.#py !== null) {
      await bridged(this.#bridge.js_close(this.#py, code, reason));
    }
    await this.closed.catch(() => {});
  }
}
