// The JavaScript half of browser.py, shipped in the wheel and evaluated once per
// Pyodide (run_js). The file is one function expression: browser.py calls it
// with its constants and gets back { open, openNative, makeError... }.
//
// open() owns one WebSocket and its event handlers, openNative() one native
// WebSocketStream (Chromium) and its reader and writer, so no Python proxy or
// future is made per message: incoming messages wait in a JS array, and Python
// is called (one proxy per socket, `wake`) only when the socket opens or
// closes, or when a reader is waiting. Both return the same state object
// (makeState): the queue, its limits, the heartbeat filter, the close; its
// `ws` is the WebSocket itself, or a shim of the WebSocketStream with the
// WebSocket fields the rest of the code uses.
(function browserHelpers({ packMax, textPackMin, pullMessages, pullBytes }) {
  const utf8 = new TextEncoder();
  // take()'s packing buffer, shared by every socket (Python copies the packed bytes out
  // before take() returns, so one take() is over before the next starts) and kept between
  // calls up to packKeep bytes: making a new one per batch cost more than what is packed
  // into it (192 KiB for a 64 KiB text: 96 us in WebKit; encodeInto into a new buffer
  // 211 us against 114 us into a used one in Chromium).
  const packKeep = 4 << 20;
  let packing = new Uint8Array(0);
  function packBuffer(room) {
    if (room <= packing.length) return packing;
    const buffer = new Uint8Array(Math.max(room, Math.min(2 * packing.length, packKeep), 1 << 16));
    if (buffer.length <= packKeep) packing = buffer;
    return buffer;
  }

  function open(url, protocols, wake) {
    const ws = new WebSocket(url, protocols);
    ws.binaryType = "arraybuffer";
    const { s, opened, message, finish } = makeState(ws, wake, () => {
      ws.onopen = ws.onmessage = ws.onclose = null;
    });
    ws.onopen = opened;
    ws.onmessage = (e) => message(e.data);
    ws.onclose = (e) => finish([e.code, e.reason, e.wasClean], true);
    return s;
  }

  // The same state over a native WebSocketStream, whose readable is pulled only while
  // fewer than `pullMessages` messages and `pullBytes` bytes wait unread (one read() in
  // flight at most): a reader that does not read leaves the data in the browser and the
  // kernel, and TCP slows the server down. With the "drop-oldest" policy, or once we
  // close, it reads on regardless. `closed` is reported once the readable is drained,
  // so that every message received before the close is read first, as with open().
  function openNative(url, protocols, wake) {
    const wss = new WebSocketStream(url, { protocols });
    let readyState = 0;
    let buffered = 0; // bytes of writes not yet done
    let reader = null; // null before the open, and once the readable is done
    let writer = null;
    let reading = false; // a read() is in flight
    let closing = false; // we closed: read everything until the close
    let closedInfo = null; // how `closed` settled, reported once the readable is done
    const ws = {
      protocol: "",
      extensions: "",
      get readyState() {
        return readyState;
      },
      get bufferedAmount() {
        return buffered;
      },
      // As WebSocket.send: the bytes are copied now (the caller may reuse its buffer).
      send(data) {
        const chunk = typeof data === "string" ? data : copyBytes(data);
        const n = sizeOf(chunk);
        const done = () => {
          buffered -= n;
        };
        buffered += n;
        writer.write(chunk).then(done, done);
      },
      close(code, reason) {
        if (readyState < 2) readyState = 2;
        closing = true;
        wss.close(code === undefined ? undefined : { closeCode: code, reason: reason ?? "" });
        pull();
      },
    };
    const { s, opened, message, finish } = makeState(ws, wake, () => {
      readyState = 3;
      closing = true;
      reader?.cancel().catch(() => {});
    });
    s.pull = pull;
    function pull() {
      if (reading || s.closeInfo !== undefined) return;
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

  // The state object both openers return (the JS facade and browser.py read it), and
  // the functions through which the opener feeds it: opened(), message(data) and
  // finish(info, fromEvent). `detach` stops the opener's events.
  function makeState(ws, wake, detach) {
    const s = {
      // queue[head:] are the messages not yet read: shift() moves `head` rather than
      // calling Array.shift(), which costs O(length) in some engines.
      ws,
      queue: [],
      head: 0,
      waiting: false,
      opened: false, // the open event fired (a close may follow before Python looks)
      closeInfo: undefined,
      fault: undefined, // ["too-big", size, maxSize] or ["overflow", count, bytes] when we closed it
      // Bounds on what is held for the reader (set by Python: setLimits).
      maxSize: Infinity,
      maxCount: Infinity,
      maxBytes: Infinity,
      drop: false, // on overflow: drop the oldest (true) or close (false)
      bytes: 0, // unread bytes held in queue[head:] (text: one per UTF-16 unit)
      dropped: 0,
      received: 0, // every message, heartbeat replies included
      pongs: 0,
      isPong: null, // the heartbeat reply matcher, or null
      pingAt: 0,
      latency: -1, // ms from the last ping to its reply; -1 until measured
      pull: noop, // called when messages were read: openNative's reader reads on
      get size() {
        return this.queue.length - this.head;
      },
      setLimits(maxSize, maxCount, maxBytes, drop) {
        this.maxSize = maxSize ?? Infinity;
        this.maxCount = maxCount ?? Infinity;
        this.maxBytes = maxBytes ?? Infinity;
        this.drop = drop;
        this.pull();
      },
      // The oldest messages, at least one, then as many as fit in maxCount and maxBytes:
      // [messages] or, when it holds small binary messages, [messages, packed, sizes]:
      // those are copied into `packed` (sizes[i] >= 0, messages[i] undefined) so that
      // Python copies them in one call rather than one call each. If there is none:
      // null once closed, else undefined, and the reader is woken by the next message
      // (one call per wait: no separate "waiting" or "closed?" crossing).
      take(maxCount, maxBytes) {
        if (this.head === this.queue.length) {
          if (this.closeInfo !== undefined) return null;
          this.waiting = true;
          return undefined;
        }
        let end = this.head;
        let taken = 0;
        while (end < this.queue.length && end - this.head < maxCount) {
          const n = sizeOf(this.queue[end]);
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
        // Packed: binary messages of up to packMax bytes (three copies of a small message
        // cost less than one FFI crossing per message) and text of textPackMin characters
        // or more, as UTF-8: the browser's encoder and Python's decoder cost far less than
        // the FFI's string conversion, character by character (see TEXT_PACK_MIN).
        let binaries = 0;
        let texts = 0;
        let room = 0;
        for (const m of q) {
          if (packedAsText(m)) {
            texts++;
            room += m.length * 3;
          } else if (typeof m !== "string" && m.byteLength <= packMax) {
            binaries++;
            room += m.byteLength;
          }
        }
        if (texts === 0 && binaries < 2) return [q, undefined, undefined];
        const packed = packBuffer(room);
        // sizes[i]: -1, q[i] as it is; n >= 0, n bytes of binary; n <= -2, -2 - n bytes of UTF-8.
        const sizes = new Int32Array(q.length).fill(-1);
        let offset = 0;
        for (let i = 0; i < q.length; i++) {
          const m = q[i];
          if (packedAsText(m)) {
            const n = utf8.encodeInto(m, packed.subarray(offset)).written;
            offset += n;
            sizes[i] = -2 - n;
            q[i] = undefined;
          } else if (typeof m !== "string" && m.byteLength <= packMax) {
            packed.set(new Uint8Array(m), offset);
            offset += m.byteLength;
            sizes[i] = m.byteLength;
            q[i] = undefined;
          }
        }
        return [q, packed.subarray(0, offset), sizes];
      },
      shift() {
        const m = this.queue[this.head];
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
      },
      // One call per message: -1 (nothing sent) unless OPEN, else bufferedAmount after it.
      send(data) {
        if (ws.readyState !== 1) return -1;
        ws.send(data);
        return ws.bufferedAmount;
      },
      sendBinary(buffer) {
        if (ws.readyState !== 1) return -1;
        const view = buffer.getBuffer("u8");
        try {
          ws.send(view.data);
        } finally {
          view.release();
        }
        return ws.bufferedAmount;
      },
      ping(data) {
        this.pingAt = performance.now();
        return this.send(data);
      },
      // Stop waiting for the browser: the connection is reported closed now.
      abandon(code, reason) {
        finish([code, reason, false], false);
      },
      // Binary up to SEND_COPY_MAX (browser.py): Python copies the message into its own bytearray, the
      // outbox (no call), and the browser copies it out of a view of Pyodide's memory: one
      // call per message. The view is held (the PyBuffer) until the close or a bigger one.
      outbox: null,
      setOutbox(buffer) {
        this.outbox?.release();
        this.outbox = buffer == null || s.closeInfo !== undefined ? null : buffer.getBuffer("u8");
      },
      // -2: the outbox's view is gone (Pyodide's memory grew): Python hands it over again.
      sendOutbox(n) {
        if (ws.readyState !== 1) return -1;
        const data = this.outbox?.data;
        if (data === undefined || data.byteLength === 0) return -2;
        ws.send(data.subarray(0, n));
        return ws.bufferedAmount;
      },
      // The JS facade's waiter, called once on a message or the close: notify(burst), burst
      // true when messages come back to back (a batch reader may wait a timer task for more).
      notify: null,
      batching: false, // the facade's waiter is a batch reader (recvMany)
    };
    function opened() {
      s.opened = true;
      s.waiting = false;
      wake();
    }
    function message(data) {
      s.received++;
      if (s.isPong?.(data)) {
        s.pongs++;
        s.latency = performance.now() - s.pingAt;
        return;
      }
      const n = sizeOf(data);
      const tooBig = typeof data === "string" ? n * 3 > s.maxSize : n > s.maxSize;
      if (tooBig && utf8Size(data) > s.maxSize) {
        s.fault = ["too-big", utf8Size(data), s.maxSize];
        ws.close(4009, "message too big");
        finish([1009, "message too big", false], true);
        return;
      }
      if (s.size + 1 > s.maxCount || s.bytes + n > s.maxBytes) {
        if (!s.drop) {
          s.fault = ["overflow", s.size, s.bytes];
          ws.close(4008, "reader too slow");
          finish([1008, "reader too slow", false], true);
          return;
        }
        while (s.size > 0 && (s.size + 1 > s.maxCount || s.bytes + n > s.maxBytes)) {
          s.shift();
          s.dropped++;
        }
      }
      s.queue.push(data);
      s.bytes += n;
      if (s.notify !== null || s.waiting) wakeReader();
    }
    // A reader waiting for this message resumes inside this event: Python's with the
    // message handed over with the wake-up (wake(true, message): no further call to
    // fetch it, and a reply it sends goes out from here too), or the JS facade's
    // (notify(false)). Unless messages come back to back: after one such wake, until the
    // browser has run a timer task (`settle`), Python is woken one loop turn later and
    // the facade is told (notify(true)), so that the reader takes the messages that
    // piled up in one batch. (A timer, not a MessageChannel message: WebKit delivers
    // those after the next network event, which made one reply in five wait a loop turn.)
    let burst = false;
    const settle = () => {
      burst = false;
    };
    function wakeReader() {
      if (s.notify !== null && !s.batching) {
        // A JS recv() takes one message a call: woken now whatever the traffic, and
        // no timer, which would only tell bursts apart.
        const notify = s.notify;
        s.notify = null;
        notify(false);
        if (!s.waiting) return;
      }
      const later = burst;
      if (!later) {
        burst = true;
        setTimeout(settle, 0);
      }
      const notify = s.notify;
      if (notify !== null) {
        s.notify = null;
        notify(later);
      }
      if (s.waiting && s.size !== 0) {
        s.waiting = false;
        if (later) wake(false);
        else if (!packedAsText(s.queue[s.head])) wake(true, s.shift());
        else {
          // A long text is handed over as UTF-8, as take() packs it (Python copies it out
          // of the shared buffer before anything else runs).
          const text = s.shift();
          const buffer = packBuffer(text.length * 3);
          wake(true, buffer.subarray(0, utf8.encodeInto(text, buffer).written), true);
        }
      }
    }
    // The close, as the browser reported it or as we decided it: later events are
    // dropped, the facade's waiter and (from an event, not from a Python call) Python
    // are woken, and the Python callback's proxy is destroyed.
    function finish(info, fromEvent) {
      if (s.closeInfo !== undefined) return;
      s.closeInfo = info;
      detach();
      s.waiting = false;
      s.setOutbox(null);
      if (s.isPong?.destroy) s.isPong.destroy();
      s.isPong = null;
      if (s.notify !== null) {
        const notify = s.notify;
        s.notify = null;
        notify(false);
      }
      try {
        if (fromEvent) wake();
      } finally {
        wake.destroy();
      }
    }
    return { s, opened, message, finish };
  }

  function noop() {}

  // A copy of the bytes of an ArrayBuffer or a view (a TypedArray, a DataView), as an ArrayBuffer.
  function copyBytes(data) {
    if (data instanceof ArrayBuffer) return data.slice(0);
    return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  }

  // A text long enough to reach Python as UTF-8 (TEXT_PACK_MIN): in take()'s packed
  // buffer, or with the wake-up.
  function packedAsText(m) {
    return typeof m === "string" && m.length >= textPackMin;
  }

  // What a message counts for in the bounds: bytes for binary, UTF-16 units for text.
  function sizeOf(m) {
    return typeof m === "string" ? m.length : m.byteLength;
  }

  // A message's exact size on the wire (text: UTF-8), only computed near a limit.
  function utf8Size(m) {
    if (typeof m !== "string") return m.byteLength;
    return new TextEncoder().encode(m).length;
  }

  // A heartbeat reply matcher for a fixed reply: a string, or bytes (a Uint8Array).
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
  function makeError(name, message, code, reason) {
    const e = new Error(message);
    e.name = name;
    if (code !== undefined) {
      e.code = code;
      e.reason = reason;
    }
    return e;
  }

  // The page's (or worker's) network and visibility events, for a reconnecting stream:
  // callback("online" | "offline" | "visible"). Returns the function that stops it
  // (and destroys the callback's proxy).
  function watchLifecycle(callback) {
    const online = () => callback("online");
    const offline = () => callback("offline");
    const doc = globalThis.document;
    const visible = () => {
      if (doc.visibilityState === "visible") callback("visible");
    };
    globalThis.addEventListener("online", online);
    globalThis.addEventListener("offline", offline);
    doc?.addEventListener("visibilitychange", visible);
    return () => {
      globalThis.removeEventListener("online", online);
      globalThis.removeEventListener("offline", offline);
      doc?.removeEventListener("visibilitychange", visible);
      callback.destroy();
    };
  }

  const isOnline = () => globalThis.navigator?.onLine ?? true;

  return {
    open,
    openNative,
    hasNative: () => typeof globalThis.WebSocketStream === "function",
    makeError,
    pongEquals,
    watchLifecycle,
    isOnline,
    fromEntries: (entries) => Object.fromEntries(entries),
  };
});
