// websocket_streaming.js: a WebSocket stream for JavaScript in a Pyodide app (usage in the README,
// the API in websocket_streaming.d.ts).
//
// The connection logic (state, queueing, validation, reconnection, heartbeat,
// limits) is the Python package websocket_streaming, loaded once per page into
// Pyodide. This module only checks JS types and moves JS values: a received
// message is the very string or ArrayBuffer the browser delivered, read from the
// connection's JS queue; a sent one is handed to the browser as is. Loading Pyodide and
// the package is load_pyodide.js's.

import { DEFAULT_INDEX_URL, DEFAULT_WHEEL_URL, loadWebSocketStreaming } from "./load_pyodide.js";

export { DEFAULT_INDEX_URL, DEFAULT_WHEEL_URL, loadWebSocketStreaming };

export class WebSocketStreamError extends Error {
  constructor(message, name = "WebSocketStreamError") {
    super(message);
    this.name = name;
  }
}

export class ConnectionClosed extends WebSocketStreamError {
  constructor(message, name, code, reason) {
    super(message, name);
    Object.assign(this, { code, reason });
  }
}
export class ConnectionClosedOK extends ConnectionClosed {}
export class ConnectionClosedError extends ConnectionClosed {}
export class PayloadTooBig extends ConnectionClosedError {
  constructor(message, name, code, reason, size, maxSize) {
    super(message, name, code, reason);
    Object.assign(this, { size, maxSize });
  }
}
export class QueueOverflow extends ConnectionClosedError {
  constructor(message, name, code, reason, { messages, bytes, maxQueue, maxQueueBytes }) {
    super(message, name, code, reason);
    // messages, bytes: unread ones held when the next message arrived.
    Object.assign(this, { messages, bytes, maxQueue: maxQueue ?? null, maxQueueBytes: maxQueueBytes ?? null });
  }
}
export class ReconnectFailed extends ConnectionClosedError {
  constructor(message, name, code, reason, attempts, unsent) {
    super(message, name, code, reason);
    Object.assign(this, { attempts, unsent });
  }
}
export class ConnectionFailed extends WebSocketStreamError {}
export class ConcurrencyError extends WebSocketStreamError {}
export class SendQueueFull extends WebSocketStreamError {}

export class WebSocketStreamEvent extends Event {
  constructor(type, { attempt = 0, delay = null, code = null, reason = null, error = null, flushed = 0 } = {}) {
    super(type);
    Object.assign(this, { attempt, delay, code, reason, error, flushed });
  }
}

// Turn an error returned by the Python bridge (a plain Error with a Python
// exception's class name) into one of ours.
function translate(error) {
  const { name, message } = error ?? {};
  switch (name) {
    case "ConnectionClosedOK":
      return new ConnectionClosedOK(message, name, error.code, error.reason);
    case "ConnectionClosedError":
      return new ConnectionClosedError(message, name, error.code, error.reason);
    case "PayloadTooBig":
      return new PayloadTooBig(message, name, error.code, error.reason, error.size, error.maxSize);
    case "QueueOverflow":
      return new QueueOverflow(message, name, error.code, error.reason, error);
    case "ReconnectFailed":
      return new ReconnectFailed(message, name, error.code, error.reason, error.attempts, error.unsent ?? []);
    case "ConnectionFailed":
    case "TimeoutError":
      return new ConnectionFailed(message, name);
    case "ConcurrencyError":
      return new ConcurrencyError(message, name);
    case "SendQueueFull":
      return new SendQueueFull(message, name);
    case "InvalidURI":
    case "TypeError":
    case "NotImplementedError": // `headers` where the host cannot send them (a browser)
      return new TypeError(message);
    case "InvalidCloseCode":
    case "ValueError":
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

// -- argument checks ------------------------------------------------------------

export function resolveURL(url) {
  let parsed;
  try {
    parsed = new URL(String(url), globalThis.location?.href);
  } catch {
    return String(url);
  }
  if (parsed.protocol === "http:") parsed.protocol = "ws:";
  else if (parsed.protocol === "https:") parsed.protocol = "wss:";
  return parsed.protocol === "ws:" || parsed.protocol === "wss:" ? parsed.href : String(url);
}

// How a bad value is named in an error message: its type, or the number itself.
function describe(value) {
  if (value === null) return "null";
  if (typeof value === "number") return String(value);
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return typeof value;
}

function checkMessage(data) {
  if (typeof data === "string" || data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data;
  const what = typeof data === "number" ? "number" : describe(data);
  throw new TypeError(`send() takes a string, an ArrayBuffer, a TypedArray or a DataView, not ${what}`);
}

// close(code, reason), or close({closeCode, reason}) as the native WebSocketStream takes it.
function closeArguments(first, second) {
  if (!isPlainObject(first)) return [first === undefined ? 1000 : first, second === undefined ? "" : second];
  if (second !== undefined) {
    throw new TypeError("close() takes (code, reason) or ({closeCode, reason}), not an object and a reason");
  }
  checkKeys(first, ["closeCode", "reason"], "close()");
  const { closeCode = 1000, reason = "" } = first;
  return [closeCode, reason];
}

// What `opened` (and `closed`) reject with when the signal aborts before the open.
function abortReason(signal) {
  return signal.reason ?? new DOMException("signal is aborted without reason", "AbortError");
}

function checkClose(code, reason) {
  if (!Number.isInteger(code)) {
    throw new TypeError(`the close code must be an integer, not ${typeof code === "number" ? code : typeof code}`);
  }
  const [always, low, high] = CLOSE_CODES;
  if (code !== always && !(code >= low && code <= high)) {
    throw new RangeError(`close code ${code} is not allowed: use ${always} or ${low}-${high}`);
  }
  if (typeof reason !== "string") {
    throw new TypeError(`the close reason must be a string, not ${typeof reason}`);
  }
  const size = new TextEncoder().encode(reason).length;
  if (size > MAX_REASON_BYTES) {
    throw new RangeError(`the close reason is ${size} bytes of UTF-8; at most ${MAX_REASON_BYTES} are allowed`);
  }
}

// <generated by tools/gen_options.py: do not edit>
// From options.py (group: connection unless said); a.b is key b of the object a.
const OPTIONS = {
  protocols: { kind: "protocols", group: "open", nullable: true, default: null },
  headers: { kind: "headers", group: "open", nullable: true, default: null },
  openTimeout: { kind: "seconds", group: "open", nullable: true, default: 10 },
  closeTimeout: { kind: "seconds", nullable: true, default: 5 },
  maxSize: { kind: "count", nullable: true, default: 16 << 20 },
  maxQueue: { kind: "count", nullable: true, default: null },
  maxQueueBytes: { kind: "count", nullable: true, default: 64 << 20 },
  onOverflow: { kind: "choice", default: "close", choices: ["close", "drop-oldest"] },
  heartbeat: { kind: "heartbeat", nullable: true, default: null },
  idleTimeout: { kind: "seconds", nullable: true, default: null, positive: "no idle timeout" },
  reconnect: { kind: "flag", default: false },
  "reconnect.minDelay": { kind: "seconds", default: 0.5 },
  "reconnect.maxDelay": { kind: "seconds", default: 30, notBelow: "minDelay" },
  "reconnect.factor": { kind: "seconds", default: 1.618, min: 1 },
  "reconnect.maxRetries": { kind: "count", nullable: true, default: null },
  onConnect: { kind: "callable", group: "reconnect", nullable: true, default: null },
  sendQueue: { kind: "count", group: "reconnect", default: 1000 },
  sendQueueBytes: { kind: "count", group: "reconnect", default: 1 << 20 },
  backend: { kind: "choice", nullable: true, default: null, choices: ["classic", "native", "auto"] },
  "heartbeat.interval": { kind: "seconds", required: true, positive: "" },
  "heartbeat.timeout": { kind: "seconds", nullable: true, default: null },
  "heartbeat.ping": { kind: "message", default: "ping" },
  "heartbeat.pong": { kind: "message", default: "pong", callable: true },
};
// A page may close with [0], or [1] to [2].
const CLOSE_CODES = [1000, 3000, 4999];
const MAX_REASON_BYTES = 123;
// </generated>

// The keys of each options object: "" (the options, with those JS's alone), "reconnect", "heartbeat".
const KEYS = { "": ["pyodide", "indexURL", "wheelURL", "signal"] };
for (const name of Object.keys(OPTIONS)) {
  const [parent, key] = name.includes(".") ? name.split(".") : ["", name];
  KEYS[parent] = [...(KEYS[parent] ?? []), key];
}

// Check one option by its row of OPTIONS; returns it as the core takes it (ArrayBuffer -> Uint8Array).
function checkOption(name, value) {
  const { kind, nullable, choices, positive, min, callable } = OPTIONS[name];
  if (value === null && nullable) return value;
  const fail = (what) => new TypeError(`${name} must be ${what}${nullable ? " or null" : ""}, not ${describe(value)}`);
  if (kind === "seconds") {
    if (typeof value !== "number") throw fail("a number of seconds");
    if (!(value >= 0 && value < Infinity)) throw new RangeError(`${name} must be a finite number >= 0, not ${value}`);
  } else if (kind === "count") {
    if (!Number.isInteger(value)) throw fail("an integer");
    if (value < 0) throw new RangeError(`${name} must be >= 0, not ${value}`);
  } else if (kind === "choice") {
    const all = `"${choices.slice(0, -1).join('", "')}" or "${choices.at(-1)}"`;
    if (typeof value !== "string") throw new TypeError(`${name} must be ${all}, not ${describe(value)}`);
    if (!choices.includes(value)) throw new RangeError(`${name} must be ${all}, not "${value}"`);
  } else if (kind === "message") {
    if (value instanceof ArrayBuffer) return new Uint8Array(value);
    if (!(typeof value === "string" || value instanceof Uint8Array || (callable && typeof value === "function"))) {
      throw fail(`a string, an ArrayBuffer${callable ? ", a Uint8Array or a function" : " or a Uint8Array"}`);
    }
  } else if (kind === "callable") {
    if (typeof value !== "function") throw fail("a function");
  } else if (!isPlainObject(value) && !(kind === "flag" && typeof value === "boolean")) {
    throw fail(`${kind === "flag" ? "a boolean or " : ""}an object {${KEYS[name].join(", ")}}`);
  }
  if (positive !== undefined && value === 0) {
    throw new RangeError(`${name} must be > 0${nullable ? ` (or null for ${positive})` : ""}, not 0`);
  }
  if (value < min) throw new RangeError(`${name} must be at least ${min}, not ${value}`);
  return value;
}

// Check the options in `object` (parent "": the options; or the `reconnect` or `heartbeat`
// object's) and return [[name, value], ...] for those given (facade.py maps the names to
// connect()'s; the defaults are the core's): the heartbeat's nested, reconnect's after it.
function checkOptions(object, parent = "", reconnecting = false) {
  checkKeys(object, KEYS[parent], parent || "WebSocketStream");
  const entries = [];
  for (const key of KEYS[parent]) {
    const name = parent ? `${parent}.${key}` : key;
    const row = OPTIONS[name];
    let value = object[key];
    if (row === undefined || row.group === "open" || (value === undefined && !row.required)) continue;
    if (!parent && row.group === "reconnect" && row.kind !== "flag" && !reconnecting) {
      throw new TypeError(`${name} applies to a reconnecting stream only: add reconnect: true`);
    }
    value = checkOption(name, value);
    if (row.notBelow !== undefined) {
      const other = `${parent}.${row.notBelow}`;
      const floor = object[row.notBelow] ?? OPTIONS[other].default;
      if (value < floor) throw new RangeError(`${name} (${value}) must not be below ${other} (${floor})`);
    }
    if (KEYS[name] !== undefined && isPlainObject(value)) {
      const fields = checkOptions(value, name);
      if (row.kind === "flag") entries.push([key, true], ...fields);
      else entries.push([key, fields]);
    } else if (key === "onConnect" && value !== null) {
      // The core awaits it with each new connection's JS state, before flushing the queue.
      entries.push([key, async (state) => await value(new Connection(state))]);
    } else {
      entries.push([key, value]);
    }
  }
  return entries;
}

function isPlainObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// The `headers` option as [[name, value], ...] (the core checks the names and values): a
// plain object of strings, an array of [name, value] pairs, or a Headers.
function checkHeaders(headers) {
  const pairs =
    typeof Headers === "function" && headers instanceof Headers
      ? [...headers]
      : isPlainObject(headers)
        ? Object.entries(headers)
        : headers;
  const isPair = (p) => Array.isArray(p) && p.length === 2 && typeof p[0] === "string" && typeof p[1] === "string";
  if (!Array.isArray(pairs) || !pairs.every(isPair)) {
    throw new TypeError(
      `headers must be an object of strings, [name, value] pairs of strings or a Headers, not ${describe(headers)}`,
    );
  }
  return pairs;
}

function checkKeys(object, known, where) {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw new TypeError(`unknown ${where} option "${key}"`);
  }
}

// What onConnect gets: its sends go out at once, before the messages queued while disconnected.
class Connection {
  #state;
  constructor(state) {
    this.#state = state;
  }
  get protocol() {
    return this.#state.ws.protocol;
  }
  get extensions() {
    return this.#state.ws.extensions;
  }
  async send(data) {
    checkMessage(data);
    if (this.#state.send(data) < 0) {
      const message = "connection closed: the connection closed during onConnect";
      throw new ConnectionClosedError(message, "ConnectionClosedError", 1006, "");
    }
  }
}

// A binary message as the bridge takes it when it must be queued: a Uint8Array view
// of the same bytes (Python copies it once into bytes).
function bytesOf(data) {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

// A reconnecting stream ended "cleanly" (`closed` resolves rather than rejects) when it
// ended with a closing handshake: close(), or a server's close the policy did not retry.
function endedCleanly(error) {
  return error instanceof ConnectionClosedOK || (error?.constructor === ConnectionClosedError && error.code !== 1006);
}

// Settle a promise from outside.
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // whoever does not await it gets no unhandled-rejection noise
  return { promise, resolve, reject, settled: false };
}

function checkMax(max) {
  if (typeof max !== "number") throw new TypeError(`max must be a number, not ${describe(max)}`);
  if (!(max >= 1) || (max !== Number.POSITIVE_INFINITY && !Number.isInteger(max))) {
    throw new RangeError(`max must be a whole number >= 1 or Infinity, not ${max}`);
  }
}

export class WebSocketStream extends EventTarget {
  #py = null; // the Python stream (a PyProxy), released once it has ended
  #bridge = null;
  #reconnect = false;
  // Resolves (with nothing: never with a PyProxy, whose `then` a promise would look up)
  // once the Python stream exists in #py, or rejects with what opening raised.
  #ready;
  #opened = deferred();
  #closed = deferred();
  // The JS objects holding a connection's socket and queue (browser.js's state): recv()
  // reads #reading until it is closed and drained, then takes the next connection in the
  // order the Python core hands them out (ReconnectingStream.next_connection).
  #reading = null;
  #first = null; // without reconnect: the one connection, until the reader takes it
  #rest = []; // with reconnect: the connections still unread when the stream ended
  #seen = new Set(); // connections not yet read to their end (for `dropped`)
  #newest = null; // the last connection's state
  #live = null; // the state send() hands messages to directly (open, hook run, queue flushed)
  #final = null; // what recv() throws once every connection is drained: the end
  #wake = null; // wakes a recv() waiting for a connection or the end
  #waiting = false; // a recv() waits (in JS, not in Python)
  // The recv() (#nextMax 0) or recvMany(#nextMax) that #nextState.notify settles.
  #next = null;
  #nextFailed = null;
  #nextState = null;
  #nextMax = 0;
  #writeLimit = 0; // send() waits for a drain above it
  #attempt = 0;
  #closing = false;
  #dropped = 0; // dropped by "drop-oldest" on connections already read
  #unsent = 0; // the send queue's length when the stream ended
  #unwatch = null; // removes the abort listener of the `signal` option

  constructor(url, options = {}) {
    super();
    if (typeof url !== "string" && !(url instanceof URL)) {
      throw new TypeError(`the URL must be a string or a URL, not ${url === null ? "null" : typeof url}`);
    }
    options ??= {};
    if (!isPlainObject(options)) throw new TypeError(`options must be an object, not ${describe(options)}`);
    const { protocols, headers, pyodide, indexURL, wheelURL, openTimeout = OPTIONS.openTimeout.default } = options;
    const signal = options.signal ?? null;
    const list = protocols == null ? [] : typeof protocols === "string" ? [protocols] : protocols;
    if (!Array.isArray(list) || !list.every((p) => typeof p === "string")) {
      throw new TypeError("protocols must be a string or an array of strings");
    }
    checkOption("openTimeout", openTimeout);
    if (signal !== null && !(signal instanceof AbortSignal)) {
      throw new TypeError(`signal must be an AbortSignal, not ${describe(signal)}`);
    }
    this.#reconnect = options.reconnect !== undefined && options.reconnect !== false;
    const entries = checkOptions(options, "", this.#reconnect);
    // Sent where the host can (Node.js, Deno); in a browser the core refuses them: `opened` rejects.
    if (headers != null) entries.push(["headers", checkHeaders(headers)]);
    this.url = resolveURL(url);
    this.opened = this.#opened.promise;
    this.closed = this.#closed.promise;
    if (signal?.aborted) {
      this.#ready = Promise.reject(abortReason(signal));
    } else {
      if (signal !== null) {
        const abort = () => this.#abort(signal);
        signal.addEventListener("abort", abort, { once: true });
        this.#unwatch = () => signal.removeEventListener("abort", abort);
      }
      this.#ready = this.#start(list, { pyodide, indexURL, wheelURL }, openTimeout, entries, signal);
    }
    this.#ready.catch((error) => this.#end(error, false));
  }

  async #start(protocols, load, openTimeout, entries, signal) {
    this.#bridge = await loadWebSocketStreaming(load);
    if (this.#final !== null) return; // aborted while Pyodide loaded
    const options = entries.length > 0 ? entries : undefined;
    if (!this.#reconnect) this.#event("connecting", { attempt: 1 });
    const py = await bridged(
      this.#bridge.js_open(this.url, protocols, openTimeout, options, this.#onEvent, this.#onConnection, signal),
    );
    if (this.#final !== null) {
      // Aborted just as the handshake completed: close the connection nobody will use.
      await this.#bridge.js_close(py, 1000, "");
      py.destroy();
      return;
    }
    this.#py = py;
    this.#writeLimit = this.#bridge.js_write_limit(py);
    if (!this.#reconnect) this.#waitClosed(py);
  }

  // A new connection is open: send() will use it; recv() reads it after the previous ones.
  // Without reconnect it is the one connection, and Python calls this inside the open event.
  #onConnection = (state) => {
    this.#seen.add(state);
    this.#newest = state;
    if (!this.#reconnect) this.#first = state;
    this.#wakeReader();
    if (!this.#reconnect) this.#onEvent("open", 1, null, null, null, null, 0);
  };

  // A state change of the Python stream (from ReconnectingStream's listener, or ours).
  // Never throws: it is called from Python.
  #onEvent = (type, attempt, delay, code, reason, error, flushed) => {
    const init = { attempt, delay: delay ?? null, code: code ?? null, reason: reason ?? null, flushed };
    init.error = error == null ? null : translate(error);
    if (type === "connecting") {
      this.#attempt = attempt;
    } else if (type === "open") {
      this.#attempt = 0;
      this.#live = this.#newest;
      if (!this.#opened.settled) {
        this.#opened.settled = true;
        const ws = this.#newest.ws;
        this.#opened.resolve({ protocol: ws.protocol, extensions: ws.extensions });
      }
    } else if (type === "close") {
      this.#end(init.error, endedCleanly(init.error));
      return;
    }
    this.#event(type, init);
  };

  #event(type, init) {
    this.dispatchEvent(new WebSocketStreamEvent(type, init));
  }

  // The `signal` option aborted: before the open, `opened` and `closed` reject with the
  // signal's reason and the attempt is abandoned; once open, the stream is closed (1000).
  #abort(signal) {
    if (this.#final !== null) return;
    if (this.#opened.settled) {
      this.close().catch(() => {});
      return;
    }
    const py = this.#py; // a reconnecting stream still trying: stop it
    this.#py = null;
    this.#end(abortReason(signal), false);
    if (py !== null) this.#bridge.js_close(py, 1000, "").finally(() => py.destroy());
  }

  // The stream has ended for good: `error` is what recv() throws after the messages.
  #end(error, clean) {
    if (this.#final !== null) return;
    this.#final = error;
    this.#unwatch?.();
    if (this.#py !== null) {
      if (this.#reconnect) {
        this.#unsent = this.#bridge.js_unsent(this.#py);
        this.#rest = Array.from(this.#bridge.js_unread_connections(this.#py));
      }
      this.#py.destroy(); // nothing of Python is needed any more: the queues are JS
      this.#py = null;
    }
    if (!this.#opened.settled) {
      this.#opened.settled = true;
      this.#opened.reject(error);
    }
    if (clean) {
      this.#closed.resolve({ code: error.code, closeCode: error.code, reason: error.reason });
    } else {
      this.#closed.reject(error);
    }
    this.#wakeReader();
    const [code, reason] = error instanceof ConnectionClosed ? [error.code, error.reason] : [null, null];
    this.#event("close", { attempt: this.#attempt, code, reason, error });
  }

  async #waitClosed(py) {
    const error = await this.#bridge.js_wait_closed(py);
    this.#end(translate(error), error.wasClean);
  }

  #wakeReader() {
    const wake = this.#wake;
    if (wake !== null) {
      this.#wake = null;
      wake();
    }
  }

  get readyState() {
    if (this.#final !== null) return 3;
    if (!this.#reconnect) return this.#live?.ws.readyState ?? 0;
    if (this.#closing) return 2;
    return this.#live?.ws.readyState === 1 ? 1 : 0;
  }

  get bufferedAmount() {
    return this.#live !== null ? this.#live.ws.bufferedAmount : 0;
  }

  get attempt() {
    return this.#attempt;
  }

  get latency() {
    const state = this.#live;
    return state === null || state.closeInfo !== undefined || state.latency < 0 ? 0 : state.latency / 1000;
  }

  get dropped() {
    let dropped = this.#dropped;
    for (const state of this.#seen) dropped += state.dropped;
    return dropped;
  }

  get unsent() {
    if (!this.#reconnect) return 0;
    return this.#py !== null ? this.#bridge.js_unsent(this.#py) : this.#unsent;
  }

  async send(data) {
    checkMessage(data);
    if (this.#live === null && !this.#reconnect) await this.opened;
    const live = this.#live;
    // The common case stays in JS, through the socket's own send (browser.js: the one the
    // core uses too; negative: not open, nothing sent): Python only to wait for a drain.
    const buffered = live !== null && !this.#closing ? live.send(data) : -1;
    if (buffered >= 0) {
      if (buffered > this.#writeLimit && this.#py !== null) {
        await bridged(this.#bridge.js_drain(this.#py));
      }
      return true;
    }
    if (this.#py === null) await this.#ready.catch(() => {});
    if (this.#py === null) throw this.#final;
    // The core's send() decides: queue it (reconnect), or raise ConnectionClosed.
    return await bridged(this.#bridge.js_send(this.#py, bytesOf(data)));
  }

  recv() {
    // A message already here costs one resolved promise, not an async call's ticks; a
    // message awaited on an open connection, one promise settled by its message event.
    const state = this.#reading;
    if (state !== null) {
      if (state.size !== 0) return Promise.resolve(state.shift());
      if (state.closeInfo === undefined && !this.#waiting) return this.#notified(state, 0);
    }
    return this.#recvWhenReady();
  }

  // One promise for the next message (max 0) or batch (recvMany(max)) of an open connection with none
  // queued, settled by #settle from the socket's own handler (state.notify, no trip through Python).
  // No closure per call but the promise's own.
  #notified(state, max) {
    this.#waiting = true;
    this.#nextState = state;
    this.#nextMax = max;
    state.notify = this.#notify;
    state.batching = max !== 0;
    return new Promise((resolve, reject) => {
      this.#next = resolve;
      this.#nextFailed = reject;
    });
  }

  // A batch reader woken by messages that come back to back waits one timer task, so
  // that it takes those that piled up in one array.
  #notify = (burst) => {
    if (burst && this.#nextMax !== 0) setTimeout(this.#settle, 0);
    else this.#settle();
  };

  // The message(s), or else (the close: on to the next connection, or the end) what
  // #recvWhenReady says.
  #settle = () => {
    const state = this.#nextState;
    const max = this.#nextMax;
    const resolve = this.#next;
    const reject = this.#nextFailed;
    this.#nextState = this.#next = this.#nextFailed = null;
    this.#waiting = false;
    if (state.size !== 0) {
      resolve(max === 0 ? state.shift() : this.#more([], max));
      return;
    }
    const rest = this.#recvWhenReady();
    (max === 0 ? rest : rest.then((first) => this.#more([first], max))).then(resolve, reject);
  };

  async #recvWhenReady() {
    if (this.#waiting) {
      const message =
        "recv() was called while another recv() is still waiting for a message: await the first call first";
      throw new ConcurrencyError(message, "ConcurrencyError");
    }
    this.#waiting = true;
    try {
      while (true) {
        const state = this.#reading;
        if (state !== null) {
          if (state.size !== 0) return state.shift();
          if (state.closeInfo === undefined) {
            // Woken by the socket's own message or close handler: no trip through Python.
            await new Promise((resolve) => {
              state.notify = resolve;
            });
            continue;
          }
          // Closed and read to its end: on to the next connection, or the end.
          this.#reading = null;
          this.#seen.delete(state);
          this.#dropped += state.dropped;
        }
        this.#reading = await this.#nextConnection();
      }
    } finally {
      this.#waiting = false;
    }
  }

  // The next connection to read, or throws the end. With reconnect the core decides the
  // order (one call per connection, never per message); once the stream has ended, the
  // connections it had not handed out yet are read, then the end.
  async #nextConnection() {
    if (this.#reconnect) {
      if (this.#py === null && this.#final === null) await this.#ready.catch(() => {});
      if (this.#py !== null) {
        try {
          return await bridged(this.#bridge.js_next_connection(this.#py));
        } catch (error) {
          if (this.#rest.length === 0) throw this.#final ?? error;
        }
      }
      if (this.#rest.length > 0) return this.#rest.shift();
      throw this.#final;
    }
    while (this.#first === null && this.#final === null) {
      await new Promise((resolve) => {
        this.#wake = resolve;
      });
    }
    const first = this.#first;
    if (first === null) throw this.#final;
    this.#first = null;
    return first;
  }

  recvMany(max = Number.POSITIVE_INFINITY) {
    try {
      checkMax(max);
    } catch (error) {
      return Promise.reject(error);
    }
    // Messages already here cost one resolved promise for the whole batch.
    const state = this.#reading;
    if (state !== null) {
      if (state.size !== 0) return Promise.resolve(this.#more([], max));
      if (state.closeInfo === undefined && !this.#waiting) return this.#notified(state, max);
    }
    return this.#recvWhenReady().then((first) => this.#more([first], max));
  }

  // `batch` and the messages queued after it, up to `max` in all.
  #more(batch, max) {
    const state = this.#reading;
    if (state !== null) {
      for (let n = Math.min(state.size, max - batch.length); n > 0; n--) batch.push(state.shift());
    }
    return batch;
  }

  async *batches(max = Number.POSITIVE_INFINITY) {
    checkMax(max);
    while (true) {
      try {
        yield await this.recvMany(max);
      } catch (error) {
        if (error instanceof ConnectionClosedOK) return;
        throw error;
      }
    }
  }

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

  async close(codeOrInfo, reasonText) {
    const [code, reason] = closeArguments(codeOrInfo, reasonText);
    checkClose(code, reason);
    try {
      await this.#ready; // past `opened`: the Python stream is known
    } catch {
      return; // never opened: nothing to close
    }
    if (this.#py !== null && this.#final === null) {
      this.#closing = true;
      await bridged(this.#bridge.js_close(this.#py, code, reason));
    }
    await this.closed.catch(() => {});
  }
}
