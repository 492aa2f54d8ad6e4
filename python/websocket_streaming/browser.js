// @ts-check
// The JavaScript half of browser.py, shipped in the wheel. The file is one statement that is
// both a classic script and an ES module (with no exports), so it reaches a page either way:
// - imported (<script type="module" src=".../websocket_streaming_browser.js">, or the JS
//   facade's import of it): no eval, so it works under a strict Content-Security-Policy;
// - evaluated by browser.py (run_js, which is eval) when nothing imported it first: the wheel
//   stays self-contained for micropip users on pages that allow eval.
// Either way browserHelpers ends up in globalThis[Symbol.for("websocket_streaming.browser")];
// browser.py calls it once with its constants and gets back { open, openNative, makeError... }.
//
// open() owns one WebSocket and its event handlers, openNative() one native
// WebSocketStream (Chromium) and its reader and writer, so no Python proxy or
// future is made per message: incoming messages wait in a JS array, and Python
// is called (one proxy per socket, `wake`) only when the socket opens or
// closes, or when a reader is waiting. Both return the same state object
// (makeState), made of the parts below, in this order:
//   the packer       take()'s packing of small binary and long text into one shared buffer
//   SocketState      the state object: the inbox (the queue and its limits) and the outbox
//                    (the send paths); receive() takes a message in (limits, faults, the
//                    heartbeat reply filter)
//   the wakers       when and how a waiting reader is woken: Python's (`wake`) and the
//                    JS facade's (`notify`)
//   makeState        a socket's state, its opener's entry points and the close (finish)
// Its `ws` is the WebSocket itself, or a shim of the WebSocketStream with the
// WebSocket fields the rest of the code uses. Type-checked with tsc --checkJs
// (tools/tsconfig.browser.json); tested under Node (tests/js/).

/**
 * A message as the browser delivers it: text, or binary as an ArrayBuffer (binaryType "arraybuffer").
 * @typedef {string | ArrayBuffer} Message
 */
/**
 * How the connection closed: [code, reason, wasClean].
 * @typedef {[number, string, boolean]} CloseInfo
 */
/**
 * What the state uses of its socket: the WebSocket, or openNative()'s shim of a WebSocketStream.
 * @typedef {object} Socket
 * @property {number} readyState 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED
 * @property {number} bufferedAmount bytes sent but not yet on the wire
 * @property {string} protocol
 * @property {string} extensions
 * @property {(data: string | ArrayBufferLike | ArrayBufferView) => void} send
 * @property {(code?: number, reason?: string) => void} close
 */
/**
 * Python's callback (a PyProxy of BrowserTransport._wake): wake(true) for the open, wake() for the close,
 * wake(false) "messages wait: take() them one loop turn later", wake(true, message) "here is the
 * message, resume now", wake(true, bytes, true) "here is a long text as UTF-8" (a view of the
 * shared pack buffer: Python copies it at once). destroy() frees the proxy.
 * @typedef {((now?: boolean, message?: Message | Uint8Array, utf8?: boolean) => void) & { destroy(): void }} PyWake
 */
/**
 * A heartbeat reply matcher: pongEquals()'s, the JS facade's, or a Python predicate's PyProxy
 * (which has destroy()).
 * @typedef {((data: Message) => boolean) & { destroy?: () => void }} PongMatcher
 */
/**
 * A PyProxy of a Python object with the buffer protocol (a bytearray, a memoryview):
 * getBuffer("u8") exports a view of its bytes in Pyodide's memory, held until release().
 * @typedef {{ getBuffer(type: "u8"): PyBufferView }} PyBuffer
 * @typedef {{ data: Uint8Array, release(): void }} PyBufferView
 */
/**
 * What take() returns: the oldest messages, or with some of them packed (see pack()).
 * @typedef {[Message[], undefined, undefined] | [(Message | undefined)[], Uint8Array, Int32Array]} Batch
 */
/**
 * The JS facade's contract. js/websocket_streaming.js (through browser.py's `js_state`) may use
 * these members of the state object open() and openNative() return, as marked, and nothing
 * else: every other member (class SocketState) is browser.py's and may change without notice.
 * (tests/js/contract.test.mjs checks the facade against this list.)
 * @typedef {object} FacadeState
 * @property {Pick<Socket, "readyState" | "bufferedAmount" | "protocol" | "extensions">} ws READ: the
 *   socket. The facade reads its readyState, bufferedAmount, protocol and extensions (never close():
 *   closing goes through Python; sending through `send` below).
 * @property {(data: Message | ArrayBufferView) => number} send CALL: the one send of the socket (the
 *   core's send_text goes through it too): sends `data` if the socket is open and returns its
 *   bufferedAmount after it; a negative number when nothing was sent (not open).
 * @property {number} size READ: how many messages wait to be read (heartbeat replies are never queued).
 * @property {() => Message} shift CALL, only while size > 0: removes and returns the oldest message.
 * @property {((burst: boolean) => void) | null} notify SET, while null, to the facade's waiter: called once,
 *   inside the socket's event, when a message is queued or the connection closes, and reset to null first.
 *   burst: messages come back to back (only ever true when `batching`): a batch reader may wait a timer
 *   task for more.
 * @property {boolean} batching SET: true while the waiter in `notify` is a batch reader (recvMany), false
 *   for a one-message reader (recv), which is then woken at once whatever the traffic.
 * @property {CloseInfo | undefined} closeInfo READ: undefined while the connection lives, then how it
 *   closed (set once; messages still queued stay readable).
 * @property {number} dropped READ: messages the "drop-oldest" policy dropped, in all.
 * @property {number} latency READ: milliseconds from the last ping() to its reply; -1 until measured.
 */
/**
 * The constants browser.py passes (js_helpers(): PACK_MAX, TEXT_PACK_MIN, NATIVE_PULL_*, and
 * the sentinels that browser.py reads back).
 * @typedef {object} Constants
 * @property {number} packMax binary messages up to this size are packed by take()
 * @property {number} textPackMin text of this many UTF-16 units or more reaches Python as UTF-8
 * @property {number} pullMessages openNative() reads on while fewer messages than this wait
 * @property {number} pullBytes ... and fewer bytes than this
 * @property {number} notSent send(), sendBinary(), sendOutbox(), ping(): nothing sent, the socket is not OPEN
 * @property {number} viewLost sendOutbox(): the outbox's view is gone (Pyodide's memory grew): set it again
 * @property {number} asItCame take()'s sizes[i]: messages[i] is the message as it came
 * @property {number} utf8Base take()'s sizes[i] = utf8Base - n: n bytes of UTF-8 in `packed` (a text)
 */

// The file's one statement, whose value run_js returns: browserHelpers, put where browser.py
// looks for it. An expression, not a declaration, so that a second evaluation (another
// Pyodide in the same page) declares nothing twice and no global name is taken.
// @ts-expect-error: a symbol-keyed global of our own, which no lib declares
globalThis[Symbol.for("websocket_streaming.browser")] = function browserHelpers(/** @type {Constants} */ constants) {
  // The package's version (tests/test_package.py checks it): browser.py refuses a copy from
  // another release, whose protocol with it may differ.
  const VERSION = "0.1.0";

  const { packMax, textPackMin, pullMessages, pullBytes, notSent, viewLost, asItCame, utf8Base } = constants;
  const utf8 = new TextEncoder();

  // ---- The packer: take()'s batches, and long text for the wake-up, into one shared buffer.

  // The packing buffer, shared by every socket (Python copies the packed bytes out before
  // take() or the wake-up returns, so one use is over before the next starts) and kept
  // between calls up to packKeep bytes: a new buffer per batch cost more than what is
  // packed into it, and encodeInto into a fresh buffer is slower than into a used one.
  const packKeep = 4 << 20;
  let packing = new Uint8Array(0);
  /** A buffer of at least `room` bytes: the shared one, grown if need be. @param {number} room */
  function packBuffer(room) {
    if (room <= packing.length) return packing;
    const buffer = new Uint8Array(Math.max(room, Math.min(2 * packing.length, packKeep), 1 << 16));
    if (buffer.length <= packKeep) packing = buffer;
    return buffer;
  }

  // Packed: binary messages of up to packMax bytes (three copies of a small message cost
  // less than one FFI crossing per message) and text of textPackMin characters or more,
  // as UTF-8: the browser's encoder and Python's decoder cost far less than the FFI's
  // string conversion, character by character (see TEXT_PACK_MIN).
  /** @param {Message | undefined} m @returns {m is string} */
  function packedAsText(m) {
    return typeof m === "string" && m.length >= textPackMin;
  }
  /** @param {Message} m @returns {m is ArrayBuffer} */
  function packedAsBinary(m) {
    return typeof m !== "string" && m.byteLength <= packMax;
  }

  /**
   * A batch as take() returns it: [q] as it is (undefined, undefined) unless it holds text to
   * pack or two small binary messages or more; then [q, packed, sizes]: sizes[i] >= 0, q[i]
   * (now undefined) is sizes[i] bytes of binary in `packed`; sizes[i] === asItCame, q[i] is
   * the message; sizes[i] <= utf8Base, q[i] (now undefined) is utf8Base - sizes[i] bytes of
   * UTF-8. `packed` is a view of the shared buffer: valid until the next packing.
   * @param {(Message | undefined)[]} q a new array (it is changed in place) of messages
   * @returns {Batch}
   */
  function pack(q) {
    let binaries = 0;
    let texts = 0;
    let room = 0;
    for (const m of /** @type {Message[]} */ (q)) {
      if (packedAsText(m)) {
        texts++;
        room += m.length * 3;
      } else if (packedAsBinary(m)) {
        binaries++;
        room += m.byteLength;
      }
    }
    if (texts === 0 && binaries < 2) return [/** @type {Message[]} */ (q), undefined, undefined];
    const packed = packBuffer(room);
    const sizes = new Int32Array(q.length).fill(asItCame);
    let offset = 0;
    for (let i = 0; i < q.length; i++) {
      const m = /** @type {Message} */ (q[i]);
      if (packedAsText(m)) {
        const n = utf8.encodeInto(m, packed.subarray(offset)).written;
        offset += n;
        sizes[i] = utf8Base - n;
        q[i] = undefined;
      } else if (packedAsBinary(m)) {
        packed.set(new Uint8Array(m), offset);
        offset += m.byteLength;
        sizes[i] = m.byteLength;
        q[i] = undefined;
      }
    }
    return [q, packed.subarray(0, offset), sizes];
  }

  /** A long text as UTF-8, in the shared buffer (see pack()). @param {string} text */
  function packText(text) {
    const buffer = packBuffer(text.length * 3);
    return buffer.subarray(0, utf8.encodeInto(text, buffer).written);
  }

  // ---- The state object both openers return: the JS facade reads its FacadeState part,
  // browser.py all of it. Its methods are the inbox's and the outbox's below. A class, not
  // an object literal: V8 keeps a literal with a getter (`size`) in dictionary mode, where
  // every field read on the hot path is a hash lookup; instances of a class share one shape.
  /** @implements {FacadeState} */
  class SocketState {
    /** @param {Socket} ws */
    constructor(ws) {
      this.ws = ws;
      // The inbox: queue[head:] are the messages not yet read: shift() moves `head` rather
      // than calling Array.shift(), which costs O(length) in some engines.
      /** @type {(Message | undefined)[]} */
      this.queue = [];
      this.head = 0;
      this.waiting = false; // Python's reader waits (an empty take()): wake it with the next message
      this.opened = false; // the open event fired (a close may follow before Python looks)
      /** @type {CloseInfo | undefined} */
      this.closeInfo = undefined;
      /** ["too-big", size, maxSize] or ["overflow", count, bytes] when we closed it.
       * @type {["too-big" | "overflow", number, number] | undefined} */
      this.fault = undefined;
      // Bounds on what is held for the reader (set by Python: setLimits).
      this.maxSize = Infinity;
      this.maxCount = Infinity;
      this.maxBytes = Infinity;
      this.drop = false; // on overflow: drop the oldest (true) or close (false)
      this.bytes = 0; // unread bytes held in queue[head:] (text: one per UTF-16 unit)
      this.dropped = 0;
      this.received = 0; // every message, heartbeat replies included
      this.pongs = 0;
      /** The heartbeat reply matcher, or null. @type {PongMatcher | null} */
      this.isPong = null;
      this.pingAt = 0;
      this.latency = -1; // ms from the last ping to its reply; -1 until measured
      /** Called when messages were read: openNative's reader reads on. @type {() => void} */
      this.pull = noop;
      /** Stop waiting for the browser: the connection is reported closed now (makeState).
       * @type {(code: number, reason: string) => void} */
      this.abandon = noop;
      /** The outbox's view (setOutbox). @type {PyBufferView | null} */
      this.outbox = null;
      /** @type {((burst: boolean) => void) | null} */
      this.notify = null;
      this.batching = false;
    }

    // ---- The inbox: the messages held for the reader, within the limits Python sets
    // (receive() below takes them in).

    get size() {
      return this.queue.length - this.head;
    }

    /**
     * @param {number | null | undefined} maxSize @param {number | null | undefined} maxCount
     * @param {number | null | undefined} maxBytes @param {boolean} drop
     */
    setLimits(maxSize, maxCount, maxBytes, drop) {
      this.maxSize = maxSize ?? Infinity;
      this.maxCount = maxCount ?? Infinity;
      this.maxBytes = maxBytes ?? Infinity;
      this.drop = drop;
      this.pull();
    }

    /** The oldest message (size > 0). @returns {Message} */
    shift() {
      const m = /** @type {Message} */ (this.queue[this.head]);
      this.queue[this.head++] = undefined;
      this.bytes -= sizeOf(m);
      if (this.head === this.queue.length) {
        this.queue.length = 0; // emptied in place: no new array per message read
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        this.queue = this.queue.slice(this.head); // amortised O(1)
        this.head = 0;
      }
      this.pull();
      return m;
    }

    /**
     * The oldest messages, at least one, then as many as fit in maxCount and maxBytes, as a
     * Batch (pack()), so that Python copies small ones in one call rather than one call each.
     * If there is none: null once closed, else undefined, and the reader is woken by the next
     * message (one call per wait: no separate "waiting" or "closed?" crossing).
     * @param {number} maxCount @param {number} maxBytes @returns {Batch | null | undefined}
     */
    take(maxCount, maxBytes) {
      if (this.head === this.queue.length) {
        if (this.closeInfo !== undefined) return null;
        this.waiting = true;
        return undefined;
      }
      let end = this.head;
      let taken = 0;
      while (end < this.queue.length && end - this.head < maxCount) {
        const n = sizeOf(/** @type {Message} */ (this.queue[end]));
        if (end > this.head && taken + n > maxBytes) break;
        taken += n;
        end++;
      }
      let q;
      if (this.head === 0 && end === this.queue.length) {
        q = this.queue;
        this.queue = [];
      } else {
        q = this.queue.slice(this.head, end);
        this.queue = this.queue.slice(end);
      }
      this.head = 0;
      this.bytes -= taken;
      this.pull();
      return pack(q);
    }

    // ---- The outbox: the send paths, one call from Python per message. Each returns
    // notSent (nothing sent) unless the socket is OPEN, else bufferedAmount after it.

    /** @param {string | ArrayBufferLike | ArrayBufferView} data */
    send(data) {
      const ws = this.ws;
      if (ws.readyState !== 1) return notSent;
      ws.send(data);
      return ws.bufferedAmount;
    }

    // Binary over SEND_COPY_MAX: a view of the caller's buffer, for this one message.
    /** @param {PyBuffer} buffer */
    sendBinary(buffer) {
      const ws = this.ws;
      if (ws.readyState !== 1) return notSent;
      const view = buffer.getBuffer("u8");
      try {
        ws.send(view.data);
      } finally {
        view.release();
      }
      return ws.bufferedAmount;
    }

    // A heartbeat ping: sent as any message, and timed (the reply sets `latency`).
    /** @param {string | Uint8Array} data */
    ping(data) {
      this.pingAt = performance.now();
      return this.send(data);
    }

    // Binary up to SEND_COPY_MAX (browser.py): Python copies the message into its own
    // bytearray, the outbox (no call), and the browser copies it out of a view of Pyodide's
    // memory: one call per message. The view is held (the PyBuffer) until the close or a
    // bigger one.
    /** @param {PyBuffer | null | undefined} buffer */
    setOutbox(buffer) {
      this.outbox?.release();
      this.outbox = buffer == null || this.closeInfo !== undefined ? null : buffer.getBuffer("u8");
    }

    // viewLost: the outbox's view is gone (Pyodide's memory grew): Python hands it over again.
    /** @param {number} n bytes, from the outbox's start */
    sendOutbox(n) {
      const ws = this.ws;
      if (ws.readyState !== 1) return notSent;
      const data = this.outbox?.data;
      if (data === undefined || data.byteLength === 0) return viewLost;
      ws.send(data.subarray(0, n));
      return ws.bufferedAmount;
    }
  }

  // The inbox's intake. What receive() did with a message, unless it refused it (then: the
  // close to report).
  const queued = 0; // held for the reader: wake it
  const counted = 1; // a heartbeat reply: counted, not held

  /**
   * One message from the socket, into the inbox: a heartbeat reply is counted (and the ping's
   * latency measured), not held. A message over maxSize, or one more than maxCount or maxBytes
   * allow with the "close" policy, is refused: `fault` says why, the socket is closed (code
   * 4009 or 4008) and the close to report is returned. With "drop-oldest", the oldest
   * messages make room.
   * @param {SocketState} s @param {Message} data
   * @returns {typeof queued | typeof counted | CloseInfo}
   */
  function receive(s, data) {
    s.received++;
    if (s.isPong?.(data)) {
      s.pongs++;
      s.latency = performance.now() - s.pingAt;
      return counted;
    }
    const n = sizeOf(data);
    const tooBig = typeof data === "string" ? n * 3 > s.maxSize : n > s.maxSize;
    if (tooBig && utf8Size(data) > s.maxSize) {
      s.fault = ["too-big", utf8Size(data), s.maxSize];
      s.ws.close(4009, "message too big");
      return [1009, "message too big", false];
    }
    if (s.size + 1 > s.maxCount || s.bytes + n > s.maxBytes) {
      if (!s.drop) {
        s.fault = ["overflow", s.size, s.bytes];
        s.ws.close(4008, "reader too slow");
        return [1008, "reader too slow", false];
      }
      while (s.size > 0 && (s.size + 1 > s.maxCount || s.bytes + n > s.maxBytes)) {
        s.shift();
        s.dropped++;
      }
    }
    s.queue.push(data);
    s.bytes += n;
    return queued;
  }

  // What a message counts for in the bounds: bytes for binary, UTF-16 units for text.
  /** @param {Message} m */
  function sizeOf(m) {
    return typeof m === "string" ? m.length : m.byteLength;
  }

  // A message's exact size on the wire (text: UTF-8), only computed near a limit.
  /** @param {Message} m */
  function utf8Size(m) {
    if (typeof m !== "string") return m.byteLength;
    return new TextEncoder().encode(m).length;
  }

  // ---- The wakers: a reader waiting for a message resumes inside the socket's event.
  // Python's with the message handed over with the wake-up (wake(true, message): no further
  // call to fetch it, and a reply it sends goes out from here too), or the JS facade's
  // (notify(false)). Unless messages come back to back: after one such wake, until the
  // browser has run a timer task (`settle`), Python is woken one loop turn later
  // (wake(false)) and a batch reader of the facade is told (notify(true)), so that the
  // reader takes the messages that piled up in one batch. (A timer, not a MessageChannel
  // message: WebKit delivers those after the next network event, which made some replies
  // wait a loop turn.)

  /**
   * The function that wakes a socket's waiting readers once a message is queued, with its
   * burst state (one per socket).
   * @param {SocketState} s @param {PyWake} wake
   */
  function makeWaker(s, wake) {
    let burst = false;
    const settle = () => {
      burst = false;
    };
    return function wakeReaders() {
      if (s.notify !== null && !s.batching) {
        // A JS recv() takes one message a call: woken now whatever the traffic, and no
        // timer, which would only tell bursts apart.
        notifyFacade(s, false);
        if (!s.waiting) return;
      }
      const later = burst;
      if (!later) {
        burst = true;
        setTimeout(settle, 0);
      }
      if (s.notify !== null) notifyFacade(s, later);
      if (s.waiting && s.size !== 0) wakePython(s, wake, later);
    };
  }

  // The JS facade's hook: its waiter is called once, and cleared first.
  /** @param {SocketState} s @param {boolean} burst */
  function notifyFacade(s, burst) {
    const notify = /** @type {(burst: boolean) => void} */ (s.notify);
    s.notify = null;
    notify(burst);
  }

  // Python's reader, waiting (an empty take()): handed the oldest message now, or, in a
  // burst, told to take() one loop turn later. A long text is handed over as UTF-8, as
  // take() packs it (Python copies it out of the shared buffer before anything else runs).
  /** @param {SocketState} s @param {PyWake} wake @param {boolean} later */
  function wakePython(s, wake, later) {
    s.waiting = false;
    if (later) wake(false);
    else if (!packedAsText(s.queue[s.head])) wake(true, s.shift());
    else wake(true, packText(/** @type {string} */ (s.shift())), true);
  }

  // ---- A socket's state (SocketState), and the functions through which its opener feeds
  // it: opened(), message(data) and finish(info, fromEvent). `detach` stops the opener's
  // events.

  /** @param {Socket} ws @param {PyWake} wake @param {() => void} detach */
  function makeState(ws, wake, detach) {
    const s = new SocketState(ws);
    s.abandon = (code, reason) => finish([code, reason, false], false);
    const wakeReaders = makeWaker(s, wake);
    // From the open event, nothing else running: wake(true) resumes the task awaiting the
    // open inside it, so that a reader it starts is waiting before the next event.
    function opened() {
      s.opened = true;
      s.waiting = false;
      wake(true);
    }
    /** @param {Message} data */
    function message(data) {
      const got = receive(s, data);
      if (got === queued) {
        if (s.notify !== null || s.waiting) wakeReaders();
      } else if (got === counted) {
        wake(); // Python's ping() waits for the reply (heartbeat intervals apart: rare)
      } else finish(got, true);
    }
    // The close, as the browser reported it or as we decided it: later events are
    // dropped, the facade's waiter and (from an event, not from a Python call) Python
    // are woken, and the Python callback's proxy is destroyed.
    /** @param {CloseInfo} info @param {boolean} fromEvent */
    function finish(info, fromEvent) {
      if (s.closeInfo !== undefined) return;
      s.closeInfo = info;
      detach();
      s.waiting = false;
      s.setOutbox(null);
      if (s.isPong?.destroy) s.isPong.destroy();
      s.isPong = null;
      if (s.notify !== null) notifyFacade(s, false);
      try {
        if (fromEvent) wake();
      } finally {
        wake.destroy();
      }
    }
    return { s, opened, message, finish };
  }

  // ---- The openers.

  // Handshake headers (`headers`, [name, value] pairs) are only ever given where the host's
  // WebSocket takes them, as { protocols, headers } (Node.js >= 22's undici, Deno: see
  // hostName()); browser.py refuses them elsewhere.
  /** @param {string} url @param {string[]} protocols @param {PyWake} wake @param {[string, string][] | null} [headers] */
  function open(url, protocols, wake, headers) {
    const ws = headers == null ? new WebSocket(url, protocols) : new WebSocket(url, socketOptions(protocols, headers));
    ws.binaryType = "arraybuffer";
    const { s, opened, message, finish } = makeState(ws, wake, () => {
      ws.onopen = ws.onmessage = ws.onclose = null;
    });
    ws.onopen = opened;
    ws.onmessage = (e) => message(e.data);
    // Deno 2 reports a connection dropped without a close frame as code 0 (the standard says
    // 1006, and so do browsers and Node.js): made 1006, so that the close is retried as one.
    ws.onclose = (e) => finish([e.code === 0 && !e.wasClean ? 1006 : e.code, e.reason, e.wasClean], true);
    return s;
  }

  // The same state over a native WebSocketStream, whose readable is pulled only while
  // fewer than `pullMessages` messages and `pullBytes` bytes wait unread (one read() in
  // flight at most): a reader that does not read leaves the data in the browser and the
  // kernel, and TCP slows the server down. With the "drop-oldest" policy, or once we
  // close, it reads on regardless. `closed` is reported once the readable is drained,
  // so that every message received before the close is read first, as with open().
  // Deno 2.9's WebSocketStream throws from its own pull ("The stream controller cannot close or
  // enqueue", uncaught: it ends the process) when its readable was cancelled and a message
  // comes in: there, the close closes the socket and reads it to its end instead.
  const drainOnClose = typeof (/** @type {{ Deno?: object }} */ (globalThis).Deno) === "object";

  /** @param {string} url @param {string[]} protocols @param {PyWake} wake @param {[string, string][] | null} [headers] */
  function openNative(url, protocols, wake, headers) {
    const wss = new WebSocketStream(url, headers == null ? { protocols } : { protocols, headers });
    let readyState = 0;
    let buffered = 0; // bytes of writes not yet done
    /** @type {ReadableStreamDefaultReader<string | Uint8Array | ArrayBuffer> | null} */
    let reader = null; // null before the open, and once the readable is done
    /** @type {WritableStreamDefaultWriter<string | Uint8Array> | null} */
    let writer = null;
    let reading = false; // a read() is in flight
    let closing = false; // we closed: read everything until the close
    /** @type {CloseInfo | null} */
    let closedInfo = null; // how `closed` settled, reported once the readable is done
    /** @type {Socket} */
    const ws = {
      protocol: "",
      extensions: "",
      get readyState() {
        return readyState;
      },
      get bufferedAmount() {
        return buffered;
      },
      // As WebSocket.send: the bytes are copied now (the caller may reuse its buffer), into a
      // Uint8Array: Deno's writer takes only strings and Uint8Array (Chromium's any BufferSource).
      // A write the stream rejects fails the connection (1006, the error as its reason), so
      // that the next send and the reader raise: a message is never lost without a word.
      send(data) {
        const chunk = typeof data === "string" ? data : new Uint8Array(copyBytes(data));
        const n = typeof chunk === "string" ? chunk.length : chunk.byteLength;
        buffered += n;
        /** @type {WritableStreamDefaultWriter<string | Uint8Array>} */ (writer).write(chunk).then(
          () => {
            buffered -= n;
          },
          (/** @type {unknown} */ error) => {
            buffered -= n;
            if (closing || s.closeInfo !== undefined) return; // we closed: abandoned, not refused
            finish([1006, `the send failed: ${error}`, false], true); // Python is woken
            wss.close();
          },
        );
      },
      close(code, reason) {
        if (readyState < 2) readyState = 2;
        closing = true;
        wss.close(code === undefined ? undefined : { closeCode: code, reason: reason ?? "" });
        pull();
      },
    };
    const { s, opened, message, finish } = makeState(ws, wake, () => {
      const wasClosing = closing;
      readyState = 3;
      closing = true;
      if (!drainOnClose) reader?.cancel().catch(noop);
      else if (!wasClosing && closedInfo === null) wss.close(); // as cancel() would
    });
    s.pull = pull;
    function pull() {
      if (reading) return;
      if (s.closeInfo !== undefined) {
        if (drainOnClose && reader !== null) {
          reading = true; // read to the end, dropping what comes (got())
          reader.read().then(got, lost);
        }
        return;
      }
      if (reader === null) {
        if (closedInfo !== null) finish(closedInfo, true);
        return;
      }
      // Under max_queue (count) it stops short of the limit: the server waits, nothing overflows.
      const full = s.size >= Math.min(pullMessages, s.maxCount) || s.bytes >= pullBytes;
      if (full && !s.drop && !closing && closedInfo === null) return;
      reading = true;
      reader.read().then(got, lost);
    }
    /** @param {ReadableStreamReadResult<string | Uint8Array | ArrayBuffer>} result */
    function got({ value, done }) {
      reading = false;
      if (done) reader = null;
      else if (s.closeInfo === undefined) message(ArrayBuffer.isView(value) ? copyBytes(value) : value);
      pull();
    }
    function lost() {
      reading = false;
      reader = null;
      pull();
    }
    wss.opened.then(({ readable, writable, protocol, extensions }) => {
      if (s.closeInfo !== undefined) return wss.close(); // abandoned while connecting
      ws.protocol = protocol;
      ws.extensions = extensions;
      reader = readable.getReader();
      writer = writable.getWriter();
      if (readyState === 0) readyState = 1;
      opened();
      pull();
    }, noop);
    /** @param {CloseInfo} info */
    const settled = (info) => {
      closedInfo = info;
      pull();
    };
    // An unclean close rejects `closed`: reported as 1006, as WebSocket reports it.
    wss.closed.then(
      ({ closeCode, reason }) => settled([closeCode ?? 1005, reason ?? "", true]),
      () => settled([1006, "", false]),
    );
    return s;
  }

  function noop() {}

  // What Node.js's and Deno's WebSocket take as their second argument (typed as the DOM's
  // WebSocket, which takes protocols only).
  /** @param {string[]} protocols @param {[string, string][]} headers */
  function socketOptions(protocols, headers) {
    return /** @type {string[]} */ (/** @type {unknown} */ ({ protocols, headers }));
  }

  // The host, for browser.py's rules and messages: "" in a browser (a page or a worker), else
  // "Node.js 22.1.0" or "Deno 2.9.6", whose WebSocket takes handshake headers (a browser's
  // cannot). Bun, which reports a Node.js version too, takes them as well.
  function hostName() {
    const g = /** @type {{ Deno?: { version?: { deno?: string } }, process?: { versions?: { node?: string } } }} */ (
      /** @type {unknown} */ (globalThis)
    );
    const deno = g.Deno?.version?.deno;
    if (typeof deno === "string") return `Deno ${deno}`;
    const node = g.process?.versions?.node;
    return typeof node === "string" ? `Node.js ${node}` : "";
  }

  // A copy of the bytes of an ArrayBuffer or a view (a TypedArray, a DataView), as an ArrayBuffer.
  /** @param {ArrayBufferLike | ArrayBufferView} data @returns {ArrayBuffer} */
  function copyBytes(data) {
    if (data instanceof ArrayBuffer) return data.slice(0);
    const view = /** @type {ArrayBufferView} */ (data);
    return /** @type {ArrayBuffer} */ (view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
  }

  // ---- The helpers browser.py and the JS facade call outside a socket.

  // A heartbeat reply matcher for a fixed reply: a string, or bytes (a Uint8Array).
  /** @param {string | Uint8Array} pong @returns {PongMatcher} */
  function pongEquals(pong) {
    if (typeof pong === "string") return (data) => data === pong;
    return (data) => {
      if (typeof data === "string" || data.byteLength !== pong.length) return false;
      const bytes = new Uint8Array(data);
      for (let i = 0; i < bytes.length; i++) if (bytes[i] !== pong[i]) return false;
      return true;
    };
  }

  // A plain Error for the JS facade: the bridge returns these rather than raising,
  // so no Python traceback or PyProxy reaches JS.
  /** @param {string} name @param {string} message @param {number} [code] @param {string} [reason] */
  function makeError(name, message, code, reason) {
    const e = /** @type {Error & { code?: number, reason?: string }} */ (new Error(message));
    e.name = name;
    if (code !== undefined) {
      e.code = code;
      e.reason = reason;
    }
    return e;
  }

  // The page's (or worker's) network and visibility events, for a reconnecting stream:
  // callback("online" | "offline" | "visible"). Returns the function that stops it
  // (and destroys the callback's proxy). Node.js has no global event target (nor such
  // events): nothing to watch there.
  /** @param {((event: string) => void) & { destroy(): void }} callback */
  function watchLifecycle(callback) {
    const online = () => callback("online");
    const offline = () => callback("offline");
    const doc = globalThis.document;
    const visible = () => {
      if (doc.visibilityState === "visible") callback("visible");
    };
    const target = typeof globalThis.addEventListener === "function" ? globalThis : null;
    target?.addEventListener("online", online);
    target?.addEventListener("offline", offline);
    doc?.addEventListener("visibilitychange", visible);
    return () => {
      target?.removeEventListener("online", online);
      target?.removeEventListener("offline", offline);
      doc?.removeEventListener("visibilitychange", visible);
      callback.destroy();
    };
  }

  const isOnline = () => globalThis.navigator?.onLine ?? true;

  return {
    open,
    openNative,
    hasNative: () => typeof globalThis.WebSocketStream === "function",
    hasWebSocket: () => typeof globalThis.WebSocket === "function",
    hostName,
    makeError,
    pongEquals,
    watchLifecycle,
    isOnline,
    /** @param {Iterable<readonly [PropertyKey, unknown]>} entries */
    fromEntries: (entries) => Object.fromEntries(entries),
    version: VERSION,
  };
};
