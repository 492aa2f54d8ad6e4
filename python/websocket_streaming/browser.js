// The JavaScript half of browser.py, shipped in the wheel and evaluated once per
// Pyodide (run_js). The file is one function expression: browser.py calls it
// with its constants and gets back { open, makeError }.
//
// open() owns one WebSocket and its event handlers, so no Python proxy or
// future is made per message: incoming messages wait in a JS array, and Python
// is called (one proxy per socket, `wake`) only when the socket opens or
// closes, or when a reader is waiting.
(function browserHelpers({ packMax }) {
  function open(url, protocols, wake) {
    const ws = new WebSocket(url, protocols);
    ws.binaryType = "arraybuffer";
    const s = {
      // queue[head:] are the messages not yet read: shift() moves `head` rather than
      // calling Array.shift(), which costs O(length) in some engines.
      ws,
      queue: [],
      head: 0,
      waiting: false,
      opened: false, // the open event fired (a close may follow before Python looks)
      closeInfo: undefined,
      get size() {
        return this.queue.length - this.head;
      },
      // [messages] or, when it holds small binary messages, [messages, packed, sizes]:
      // those are copied into `packed` (sizes[i] >= 0, messages[i] undefined) so that
      // Python copies them in one call rather than one call each.
      take() {
        const q = this.head === 0 ? this.queue : this.queue.slice(this.head);
        this.queue = [];
        this.head = 0;
        let small = 0;
        let total = 0;
        for (const m of q) {
          if (typeof m !== "string" && m.byteLength <= packMax) {
            small++;
            total += m.byteLength;
          }
        }
        if (small < 2) return [q, undefined, undefined];
        const packed = new Uint8Array(total);
        const sizes = new Int32Array(q.length).fill(-1);
        let offset = 0;
        for (let i = 0; i < q.length; i++) {
          const m = q[i];
          if (typeof m !== "string" && m.byteLength <= packMax) {
            packed.set(new Uint8Array(m), offset);
            offset += m.byteLength;
            sizes[i] = m.byteLength;
            q[i] = undefined;
          }
        }
        return [q, packed, sizes];
      },
      shift() {
        const m = this.queue[this.head];
        this.queue[this.head++] = undefined;
        if (this.head === this.queue.length) {
          this.queue = [];
          this.head = 0;
        } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
          this.queue = this.queue.slice(this.head); // amortised O(1)
          this.head = 0;
        }
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
      // Small binary: Python copies the message into `scratch`, the browser copies it out.
      scratch: new Uint8Array(packMax),
      sendScratch(n) {
        if (ws.readyState !== 1) return -1;
        ws.send(this.scratch.subarray(0, n));
        return ws.bufferedAmount;
      },
      notify: null, // the JS facade's waiter, called on a message or the close
    };
    ws.onopen = () => {
      s.opened = true;
      s.waiting = false;
      wake();
    };
    ws.onmessage = (e) => {
      s.queue.push(e.data);
      if (s.notify) {
        const notify = s.notify;
        s.notify = null;
        notify();
      }
      if (s.waiting) {
        s.waiting = false;
        wake();
      }
    };
    ws.onclose = (e) => {
      s.closeInfo = [e.code, e.reason, e.wasClean];
      ws.onopen = ws.onmessage = ws.onclose = null;
      s.waiting = false;
      if (s.notify) {
        const notify = s.notify;
        s.notify = null;
        notify();
      }
      try {
        wake();
      } finally {
        wake.destroy();
      }
    };
    return s;
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

  return { open, makeError, fromEntries: (entries) => Object.fromEntries(entries) };
});
