// browser.js under Node's test runner (`node --test tests/js/`), over a fake WebSocket: the
// inbox's limits, take()'s batches and packing, the send paths, when readers are woken, the
// heartbeat filter and the close. The same file runs in the browsers through browser.py
// (tests/test_browser.py, test_limits.py, test_wake.py); these need no browser.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bin, constants, decodeBatch, FakeWebSocket, fakeProxy, fakePyBuffer, loadHelpers } from "./fakes.mjs";

const helpers = loadHelpers();
const { notSent, viewLost, asItCame, utf8Base, packMax, textPackMin } = constants;

// A socket opened and open: its state, the fake WebSocket, and Python's wake proxy (calls cleared).
function connect({ maxSize = null, maxCount = null, maxBytes = null, drop = false } = {}) {
  const wake = fakeProxy();
  const s = helpers.open("ws://example.test/", [], wake);
  const ws = FakeWebSocket.last;
  ws.open();
  s.setLimits(maxSize, maxCount, maxBytes, drop);
  wake.calls.length = 0;
  return { s, ws, wake };
}

// Python's reader waits: an empty take(), as browser.py's take() does.
function pythonWaits(s) {
  assert.equal(s.take(100, Infinity), undefined);
  assert.equal(s.waiting, true);
}

// Every message queued, read as the JS facade reads them.
function drain(s) {
  const out = [];
  while (s.size > 0) out.push(s.shift());
  return out;
}

const text = (n, c = "a") => c.repeat(n);
const bytesOf = (m) => Array.from(new Uint8Array(m));

describe("open()", () => {
  test("binaryType arraybuffer; the open event sets opened and wakes Python once, now, with no message", () => {
    const wake = fakeProxy();
    const s = helpers.open("ws://example.test/", ["chat"], wake);
    const ws = FakeWebSocket.last;
    assert.deepEqual([ws.url, ws.protocols, ws.binaryType], ["ws://example.test/", ["chat"], "arraybuffer"]);
    assert.equal(s.ws, ws);
    assert.equal(s.opened, false);
    ws.open("chat");
    assert.equal(s.opened, true);
    assert.deepEqual(wake.calls, [[true]]);
    assert.equal(s.ws.protocol, "chat");
  });

  test("messages wait in the queue, in order, unread ones counted in size and bytes", () => {
    const { s, ws, wake } = connect();
    ws.receive("abc");
    ws.receive(bin(5));
    assert.deepEqual([s.size, s.bytes, s.received], [2, 8, 2]);
    assert.deepEqual(wake.calls, [], "no reader waits: Python is not called");
    assert.equal(s.shift(), "abc");
    assert.deepEqual(bytesOf(s.shift()), [7, 7, 7, 7, 7]);
    assert.deepEqual([s.size, s.bytes], [0, 0]);
  });
});

describe("the inbox's limits", () => {
  test("max count, close policy: one message over closes with 4008 and an overflow fault", () => {
    const { s, ws, wake } = connect({ maxCount: 2 });
    ws.receive("a");
    ws.receive("bb");
    assert.equal(s.closeInfo, undefined);
    ws.receive("ccc");
    assert.deepEqual(s.fault, ["overflow", 2, 3]);
    assert.deepEqual(ws.closeCalls, [[4008, "reader too slow"]]);
    assert.deepEqual(s.closeInfo, [1008, "reader too slow", false]);
    assert.deepEqual(wake.calls, [[]], "Python woken for the close");
    assert.equal(wake.destroyed, 1);
    assert.deepEqual(drain(s), ["a", "bb"], "what was queued stays readable");
  });

  test("max bytes, close policy: the message that would pass maxBytes closes (overflow)", () => {
    const { s, ws } = connect({ maxBytes: 10 });
    ws.receive(bin(6));
    ws.receive(bin(4)); // exactly 10: fits
    assert.equal(s.closeInfo, undefined);
    ws.receive("x");
    assert.deepEqual(s.fault, ["overflow", 2, 10]);
    assert.deepEqual(ws.closeCalls, [[4008, "reader too slow"]]);
    assert.deepEqual(s.closeInfo, [1008, "reader too slow", false]);
  });

  test("max count, drop-oldest: the oldest make room, counted in dropped, no fault", () => {
    const { s, ws } = connect({ maxCount: 2, drop: true });
    for (const m of ["1", "2", "3", "4", "5"]) ws.receive(m);
    assert.deepEqual([s.size, s.dropped, s.fault, s.closeInfo], [2, 3, undefined, undefined]);
    assert.deepEqual(ws.closeCalls, []);
    assert.equal(s.bytes, 2);
    assert.deepEqual(drain(s), ["4", "5"]);
  });

  test("max bytes, drop-oldest: as many of the oldest as needed are dropped", () => {
    const { s, ws } = connect({ maxBytes: 10, drop: true });
    ws.receive("aaaa");
    ws.receive("bbbb");
    ws.receive("cccc"); // 12 > 10: "aaaa" goes
    assert.deepEqual([s.size, s.bytes, s.dropped], [2, 8, 1]);
    ws.receive(text(12, "d")); // bigger than maxBytes alone: everything older goes, it stays
    assert.deepEqual([s.size, s.bytes, s.dropped], [1, 12, 3]);
    assert.deepEqual(drain(s), [text(12, "d")]);
  });

  test("max size: binary over it closes with 4009 and a too-big fault; at it is fine", () => {
    const { s, ws, wake } = connect({ maxSize: 10 });
    ws.receive(bin(10));
    assert.equal(s.closeInfo, undefined);
    ws.receive(bin(11));
    assert.deepEqual(s.fault, ["too-big", 11, 10]);
    assert.deepEqual(ws.closeCalls, [[4009, "message too big"]]);
    assert.deepEqual(s.closeInfo, [1009, "message too big", false]);
    assert.equal(s.size, 1, "the message over it is not queued");
    assert.equal(wake.destroyed, 1);
  });

  test("max size: text is measured in UTF-8 near the limit, not in UTF-16 units", () => {
    const { s, ws } = connect({ maxSize: 10 });
    ws.receive("abcd"); // 4 units could be 12 bytes: measured, 4
    ws.receive("ééééé"); // 5 units, 10 bytes: at the limit
    assert.equal(s.closeInfo, undefined);
    assert.equal(s.size, 2);
    ws.receive("éééééa"); // 6 units, 11 bytes
    assert.deepEqual(s.fault, ["too-big", 11, 10]);
    assert.deepEqual(ws.closeCalls, [[4009, "message too big"]]);
  });

  test("max size: a text of few units but many UTF-8 bytes is over it", () => {
    const { s, ws } = connect({ maxSize: 10 });
    ws.receive("€€€€"); // 4 units, 12 bytes
    assert.deepEqual(s.fault, ["too-big", 12, 10]);
  });

  test("setLimits(null...) means no bound", () => {
    const { s } = connect();
    assert.deepEqual([s.maxSize, s.maxCount, s.maxBytes, s.drop], [Infinity, Infinity, Infinity, false]);
  });
});

describe("take()", () => {
  test("nothing queued: undefined and the reader waits; once closed, null", () => {
    const { s, ws } = connect();
    assert.equal(s.take(10, 100), undefined);
    assert.equal(s.waiting, true);
    ws.closeEvent();
    assert.equal(s.waiting, false);
    assert.equal(s.take(10, 100), null);
  });

  test("batches within maxCount and maxBytes, at least one message, oldest first", () => {
    const { s, ws } = connect();
    for (const m of ["aaa", "bbb", "ccc", "ddd", "eee"]) ws.receive(m);
    assert.deepEqual(s.take(2, Infinity), [["aaa", "bbb"], undefined, undefined]);
    assert.deepEqual(s.take(10, 2), [["ccc"], undefined, undefined], "one even over maxBytes");
    assert.deepEqual(s.take(10, 6), [["ddd", "eee"], undefined, undefined]);
    assert.deepEqual([s.size, s.bytes], [0, 0]);
  });

  test("after shift(), take() starts at the head", () => {
    const { s, ws } = connect();
    for (const m of ["a", "b", "c"]) ws.receive(m);
    assert.equal(s.shift(), "a");
    assert.deepEqual(s.take(10, Infinity), [["b", "c"], undefined, undefined]);
  });

  test("messages queued before the close are taken before null", () => {
    const { s, ws } = connect();
    ws.receive("last");
    ws.closeEvent(1000, "bye");
    assert.deepEqual(s.take(10, 100), [["last"], undefined, undefined]);
    assert.equal(s.take(10, 100), null);
  });
});

describe("take()'s packing", () => {
  test("one small binary message is not packed; two are, into one buffer", () => {
    const { s, ws } = connect();
    ws.receive(bin(3, 1));
    const [messages, packed] = s.take(10, Infinity);
    assert.equal(packed, undefined);
    assert.deepEqual(bytesOf(messages[0]), [1, 1, 1]);
    ws.receive(bin(3, 1));
    ws.receive(bin(2, 2));
    const batch = s.take(10, Infinity);
    assert.deepEqual(batch[0], [undefined, undefined]);
    assert.deepEqual(Array.from(batch[1]), [1, 1, 1, 2, 2]);
    assert.deepEqual(Array.from(batch[2]), [3, 2]);
  });

  test("binary over packMax comes as it is (asItCame), the same ArrayBuffer", () => {
    const { s, ws } = connect();
    const big = bin(packMax + 1);
    ws.receive(big);
    ws.receive(bin(1));
    ws.receive(bin(packMax)); // at packMax: packed
    const [messages, packed, sizes] = s.take(10, Infinity);
    assert.deepEqual(Array.from(sizes), [asItCame, 1, packMax]);
    assert.equal(messages[0], big);
    assert.equal(packed.length, 1 + packMax);
  });

  test("text of textPackMin units or more comes as UTF-8 (utf8Base - n); shorter as it is", () => {
    const { s, ws } = connect();
    const long = text(textPackMin);
    ws.receive(long);
    ws.receive(text(textPackMin - 1));
    const batch = s.take(10, Infinity);
    assert.deepEqual(Array.from(batch[2]), [utf8Base - textPackMin, asItCame]);
    assert.deepEqual(decodeBatch(batch), [long, text(textPackMin - 1)]);
  });

  test("multi-byte characters: the UTF-8 length is in sizes, and decodes back", () => {
    const { s, ws } = connect();
    const long = `${"é".repeat(textPackMin)}€😀`; // 2, 3 and 4 bytes a character
    ws.receive(long);
    const batch = s.take(10, Infinity);
    const n = 2 * textPackMin + 3 + 4;
    assert.deepEqual(Array.from(batch[2]), [utf8Base - n]);
    assert.equal(batch[1].length, n);
    assert.deepEqual(decodeBatch(batch), [long]);
  });

  test("mixed: short text, small and large binary, long text, in order", () => {
    const { s, ws } = connect();
    const sent = ["hi", bin(3, 1), bin(packMax + 10, 2), text(200, "z"), bin(2, 3), "ok"];
    for (const m of sent) ws.receive(m);
    const batch = s.take(10, Infinity);
    assert.deepEqual(Array.from(batch[2]), [asItCame, 3, asItCame, utf8Base - 200, 2, asItCame]);
    const expected = sent.map((m) => (typeof m === "string" ? m : new Uint8Array(m)));
    assert.deepEqual(decodeBatch(batch), expected);
  });

  test("the pack buffer is shared and kept: a second batch reuses the first's memory", () => {
    const { s, ws } = connect();
    ws.receive(bin(2));
    ws.receive(bin(2));
    const first = s.take(10, Infinity)[1];
    ws.receive(text(300));
    const second = s.take(10, Infinity)[1];
    assert.equal(second.buffer, first.buffer);
  });

  test("a batch bigger than the kept size gets a buffer of its own; the kept one stays", () => {
    const { s, ws } = connect();
    ws.receive(bin(2));
    ws.receive(bin(2));
    const kept = s.take(10, Infinity)[1].buffer;
    ws.receive(text(2 << 20)); // 6 MiB of room: over the 4 MiB kept
    const big = s.take(10, Infinity)[1];
    assert.notEqual(big.buffer, kept);
    ws.receive(bin(2));
    ws.receive(bin(2));
    assert.equal(s.take(10, Infinity)[1].buffer, kept);
  });
});

describe("the outbox", () => {
  test("send(): bufferedAmount after it when open; notSent (nothing sent) before the open", () => {
    const wake = fakeProxy();
    const s = helpers.open("ws://example.test/", [], wake);
    const ws = FakeWebSocket.last;
    assert.equal(s.send("early"), notSent);
    assert.deepEqual(ws.sent, []);
    ws.open();
    assert.equal(s.send("hello"), 5);
    assert.equal(s.send(new Uint8Array([1, 2])), 7);
    assert.deepEqual(ws.sent, ["hello", new Uint8Array([1, 2])]);
    ws.closeEvent();
    assert.equal(s.send("late"), notSent);
  });

  test("sendBinary(): sends a view of the Python buffer and releases it, even if send throws", () => {
    const { s, ws } = connect();
    const buffer = fakePyBuffer(new Uint8Array([9, 8, 7]));
    assert.equal(s.sendBinary(buffer), 3);
    assert.deepEqual(ws.sent, [new Uint8Array([9, 8, 7])]);
    assert.equal(buffer.released, 1);
    ws.send = () => {
      throw new Error("boom");
    };
    assert.throws(() => s.sendBinary(buffer), /boom/);
    assert.equal(buffer.released, 2);
  });

  test("sendBinary(): notSent when not open, and no buffer exported", () => {
    const { s, ws } = connect();
    ws.readyState = 2;
    const buffer = fakePyBuffer(new Uint8Array([1]));
    assert.equal(s.sendBinary(buffer), notSent);
    assert.deepEqual(buffer.views, []);
  });

  test("sendOutbox(n): the first n bytes of the outbox; viewLost once its view is gone", () => {
    const { s, ws } = connect();
    const bytes = new Uint8Array([1, 2, 3, 4, 5]);
    const outbox = fakePyBuffer(bytes);
    s.setOutbox(outbox);
    assert.equal(s.sendOutbox(3), 3);
    bytes.set([6, 7]);
    assert.equal(s.sendOutbox(2), 5);
    assert.deepEqual(ws.sent, [new Uint8Array([1, 2, 3]), new Uint8Array([6, 7])]);
    outbox.lose(); // Pyodide's memory grew: the view is zero-length
    assert.equal(s.sendOutbox(2), viewLost);
    assert.equal(ws.sent.length, 2, "nothing sent");
    s.setOutbox(outbox); // as browser.py does on viewLost
    assert.equal(outbox.released, 1, "the old view released first");
    assert.equal(s.sendOutbox(1), 6);
  });

  test("sendOutbox(): viewLost with no outbox; notSent when not open", () => {
    const { s, ws } = connect();
    assert.equal(s.sendOutbox(1), viewLost);
    s.setOutbox(fakePyBuffer(new Uint8Array([1])));
    ws.readyState = 3;
    assert.equal(s.sendOutbox(1), notSent);
  });

  test("the outbox is let go of at the close, and not taken after it", () => {
    const { s, ws } = connect();
    const outbox = fakePyBuffer(new Uint8Array([1]));
    s.setOutbox(outbox);
    s.setOutbox(null);
    assert.equal(outbox.released, 1);
    s.setOutbox(outbox);
    ws.closeEvent();
    assert.equal(outbox.released, 2);
    assert.equal(s.outbox, null);
    s.setOutbox(outbox);
    assert.equal(s.outbox, null);
  });

  test("ping(): sent as a message, and its reply sets latency", () => {
    const { s, ws } = connect();
    s.isPong = helpers.pongEquals("pong");
    assert.equal(s.latency, -1);
    assert.equal(s.ping("ping"), 4);
    assert.deepEqual(ws.sent, ["ping"]);
    ws.receive("pong");
    assert.ok(s.latency >= 0);
  });
});

describe("waking Python's reader", () => {
  test("a waiting reader is handed the message with the wake-up: wake(true, message)", () => {
    const { s, ws, wake } = connect();
    pythonWaits(s);
    ws.receive("hello");
    assert.deepEqual(wake.calls, [[true, "hello"]]);
    assert.deepEqual([s.size, s.waiting], [0, false]);
  });

  test("a long text is handed as UTF-8: wake(true, bytes, true)", () => {
    const { s, ws, wake } = connect();
    pythonWaits(s);
    const long = "é".repeat(textPackMin);
    ws.receive(long);
    assert.equal(wake.calls.length, 1);
    const [now, bytes, utf8] = wake.calls[0];
    assert.deepEqual([now, utf8], [true, true]);
    assert.equal(new TextDecoder().decode(bytes), long);
    assert.equal(s.size, 0);
  });

  test("a second message before the settle timer: wake(false), left queued for take()", () => {
    const { s, ws, wake } = connect();
    pythonWaits(s);
    ws.receive("one");
    pythonWaits(s);
    ws.receive("two");
    assert.deepEqual(wake.calls, [[true, "one"], [false]]);
    assert.equal(s.size, 1);
    ws.receive("three"); // nobody waits now: no call
    assert.equal(wake.calls.length, 2);
  });

  test("after the settle timer ran, the next message is handed over again", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] }); // the settle timer runs when the test says
    const { s, ws, wake } = connect();
    pythonWaits(s);
    ws.receive("one");
    pythonWaits(s);
    ws.receive("two");
    assert.deepEqual(s.take(10, Infinity), [["two"], undefined, undefined]);
    pythonWaits(s);
    ws.receive("still a burst");
    assert.deepEqual(wake.calls.at(-1), [false], "the timer has not run: still a burst");
    assert.equal(s.take(10, Infinity)[0].length, 1);
    t.mock.timers.tick(0);
    pythonWaits(s);
    ws.receive("three");
    assert.deepEqual(wake.calls, [[true, "one"], [false], [false], [true, "three"]]);
  });

  test("no reader waits: a message calls nothing", () => {
    const { ws, wake } = connect();
    ws.receive("a");
    ws.receive(bin(3));
    assert.deepEqual(wake.calls, []);
  });
});

describe("the JS facade's hook (notify, batching)", () => {
  test("recv (batching false): notify(false) once per message, even back to back; then null", () => {
    const { s, ws } = connect();
    const notify = fakeProxy();
    s.notify = notify;
    ws.receive("a");
    assert.equal(s.notify, null);
    s.notify = notify;
    ws.receive("b");
    assert.deepEqual(notify.calls, [[false], [false]]);
    ws.receive("c");
    assert.equal(notify.calls.length, 2, "called once per setting");
  });

  test("recvMany (batching true): notify(false) first, notify(true) in a burst, false after the timer", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const { s, ws } = connect();
    const notify = fakeProxy();
    s.batching = true;
    s.notify = notify;
    ws.receive("a");
    s.notify = notify;
    ws.receive("b");
    assert.deepEqual(notify.calls, [[false], [true]]);
    t.mock.timers.tick(0);
    s.notify = notify;
    ws.receive("c");
    assert.deepEqual(notify.calls, [[false], [true], [false]]);
    assert.equal(s.size, 3, "the facade's hook takes nothing itself");
  });

  test("the close calls notify(false)", () => {
    const { s, ws } = connect();
    const notify = fakeProxy();
    s.notify = notify;
    ws.closeEvent(1001, "away", true);
    assert.deepEqual(notify.calls, [[false]]);
    assert.equal(s.notify, null);
  });
});

describe("heartbeat replies", () => {
  test("pongEquals(string): a matching text is counted in pongs, not queued; Python is told", () => {
    const { s, ws, wake } = connect();
    s.isPong = helpers.pongEquals("pong");
    pythonWaits(s);
    ws.receive("pong");
    assert.deepEqual(wake.calls, [[]]); // for ping(), which waits for the reply
    ws.receive("pong!");
    assert.deepEqual([s.pongs, s.received, s.size], [1, 2, 0]);
    assert.deepEqual(wake.calls, [[], [true, "pong!"]]); // the reader still waited
  });

  test("pongEquals(bytes): equal bytes match; other bytes, lengths or text do not", () => {
    const isPong = helpers.pongEquals(new Uint8Array([1, 2, 3]));
    assert.equal(isPong(new Uint8Array([1, 2, 3]).buffer), true);
    assert.equal(isPong(new Uint8Array([1, 2, 4]).buffer), false);
    assert.equal(isPong(new Uint8Array([1, 2]).buffer), false);
    assert.equal(isPong("\x01\x02\x03"), false);
  });

  test("a bytes reply is counted, not queued", () => {
    const { s, ws } = connect();
    s.isPong = helpers.pongEquals(new Uint8Array([0xff]));
    ws.receive(new Uint8Array([0xff]).buffer);
    ws.receive(new Uint8Array([0xfe]).buffer);
    assert.deepEqual([s.pongs, s.size], [1, 1]);
  });

  test("a Python predicate's proxy is destroyed at the close", () => {
    const { s, ws } = connect();
    const isPong = fakeProxy((data) => data === "p");
    s.isPong = isPong;
    ws.receive("p");
    assert.equal(s.pongs, 1);
    ws.closeEvent();
    assert.equal(isPong.destroyed, 1);
    assert.equal(s.isPong, null);
  });
});

describe("the close (finish) and abandon()", () => {
  test("the close event: closeInfo set, Python woken, then its proxy destroyed, handlers removed", () => {
    const { s, ws, wake } = connect();
    const onclose = ws.onclose;
    const onmessage = ws.onmessage;
    ws.closeEvent(1000, "bye", true);
    assert.deepEqual(s.closeInfo, [1000, "bye", true]);
    assert.deepEqual(wake.calls, [[]]);
    assert.equal(wake.destroyed, 1);
    assert.deepEqual([ws.onopen, ws.onmessage, ws.onclose], [null, null, null]);
    assert.equal(typeof onmessage, "function");
    onclose({ code: 1006, reason: "again", wasClean: false }); // a late event: ignored
    assert.deepEqual(s.closeInfo, [1000, "bye", true], "set once");
    assert.deepEqual([wake.calls.length, wake.destroyed], [1, 1]);
  });

  test("a message after the close is not queued (its handler is gone)", () => {
    const { s, ws } = connect();
    ws.closeEvent();
    ws.receive("late");
    assert.deepEqual([s.size, s.received], [0, 0]);
  });

  test("the proxy is destroyed even when waking Python throws", () => {
    const wake = fakeProxy(() => {
      throw new Error("python failed");
    });
    helpers.open("ws://example.test/", [], wake);
    const ws = FakeWebSocket.last;
    assert.throws(() => ws.closeEvent(), /python failed/);
    assert.equal(wake.destroyed, 1);
  });

  test("abandon(): closed now without waking Python (it asked); the browser's close is ignored", () => {
    const { s, ws, wake } = connect();
    s.abandon(1006, "gave up");
    assert.deepEqual(s.closeInfo, [1006, "gave up", false]);
    assert.deepEqual(wake.calls, []);
    assert.equal(wake.destroyed, 1);
    ws.closeEvent(1000, "late", true);
    assert.deepEqual(s.closeInfo, [1006, "gave up", false]);
  });
});

describe("the other helpers", () => {
  test("makeError: a plain Error with name, and code and reason when given", () => {
    const e = helpers.makeError("ConnectionClosedError", "closed", 1006, "gone");
    assert.ok(e instanceof Error);
    assert.deepEqual([e.name, e.message, e.code, e.reason], ["ConnectionClosedError", "closed", 1006, "gone"]);
    assert.equal("code" in helpers.makeError("TypeError", "bad"), false);
  });

  test("fromEntries and hasNative", () => {
    assert.deepEqual(helpers.fromEntries([["a", 1]]), { a: 1 });
    assert.equal(helpers.hasNative(), true); // the fake WebSocketStream is installed
  });
});
