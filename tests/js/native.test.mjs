// openNative() under Node's test runner, over a fake WebSocketStream: the readable is pulled
// only while the reader keeps up (backpressure), the close waits for the readable to drain,
// and the shim of WebSocket's fields the state and the facade use.
import assert from "node:assert/strict";
import { test } from "node:test";
import { bin, constants, FakeWebSocketStream, fakeProxy, loadHelpers } from "./fakes.mjs";

// Small pull limits, so that a few messages reach them.
const native = loadHelpers({ pullMessages: 3, pullBytes: 100 });
const { notSent } = constants;

// Let the stream's promise callbacks run.
const flush = () => new Promise((resolve) => setImmediate(resolve));

// A native socket, open: its state, the fake stream and Python's wake proxy (calls cleared).
async function connect(limits = [null, null, null, false]) {
  const wake = fakeProxy();
  const s = native.openNative("ws://example.test/", ["chat"], wake);
  const wss = FakeWebSocketStream.last;
  s.setLimits(...limits);
  wss.accept("chat", "permessage-deflate");
  await flush();
  wake.calls.length = 0;
  return { s, wss, wake };
}

// The stream delivers these, each once a read() asks for it.
async function deliver(wss, ...values) {
  for (const value of values) {
    wss.deliver(value);
    await flush();
  }
}

test("the open: readyState 1, protocol and extensions, Python woken, one read() in flight", async () => {
  const wake = fakeProxy();
  const s = native.openNative("ws://example.test/", ["chat"], wake);
  const wss = FakeWebSocketStream.last;
  assert.deepEqual(wss.options, { protocols: ["chat"] });
  assert.equal(s.ws.readyState, 0);
  assert.equal(s.send("early"), notSent);
  wss.accept("chat", "permessage-deflate");
  await flush();
  assert.deepEqual(
    [s.ws.readyState, s.ws.protocol, s.ws.extensions, s.opened],
    [1, "chat", "permessage-deflate", true],
  );
  assert.deepEqual(wake.calls, [[true]]);
  assert.equal(wss.reads.length, 1);
});

test("backpressure by count: no read() once pullMessages wait unread; a shift() reads on", async () => {
  const { s, wss } = await connect();
  await deliver(wss, "a", "b", "c");
  assert.equal(s.size, 3);
  assert.equal(wss.reads.length, 0, "no read in flight: the data stays in the browser");
  assert.equal(s.shift(), "a");
  assert.equal(wss.reads.length, 1);
});

test("backpressure by bytes: no read() once pullBytes wait unread; take() reads on", async () => {
  const { s, wss } = await connect();
  await deliver(wss, bin(150));
  assert.equal(wss.reads.length, 0);
  s.take(10, Infinity);
  assert.equal(wss.reads.length, 1);
});

test("under max_queue (maxCount) it stops at maxCount, short of an overflow", async () => {
  const { s, wss } = await connect([null, 2, null, false]);
  await deliver(wss, "a", "b");
  assert.deepEqual([s.size, wss.reads.length, s.fault], [2, 0, undefined]);
});

test("with drop-oldest it reads on regardless, dropping the oldest", async () => {
  const { s, wss } = await connect([null, 2, null, true]);
  await deliver(wss, "a", "b", "c", "d");
  assert.deepEqual([s.size, s.dropped, wss.reads.length], [2, 2, 1]);
});

test("a Uint8Array from the readable is queued as an ArrayBuffer copy", async () => {
  const { s, wss } = await connect();
  const chunk = new Uint8Array([1, 2, 3]);
  await deliver(wss, chunk);
  chunk[0] = 9;
  const m = s.shift();
  assert.ok(m instanceof ArrayBuffer);
  assert.deepEqual(Array.from(new Uint8Array(m)), [1, 2, 3]);
});

test("the close is reported once the readable is drained, with every message before it", async () => {
  const { s, wss, wake } = await connect();
  await deliver(wss, "a", "b", "c"); // full: no read in flight
  wss.resolveClosed({ closeCode: 1000, reason: "done" });
  await flush();
  assert.equal(s.closeInfo, undefined, "not before the readable is done");
  assert.equal(wss.reads.length, 1, "reads on past the limit once closed");
  await deliver(wss, "d");
  wss.end();
  await flush();
  assert.deepEqual(s.closeInfo, [1000, "done", true]);
  assert.deepEqual(wake.calls, [[]]);
  assert.equal(wake.destroyed, 1);
  assert.equal(s.ws.readyState, 3);
  assert.deepEqual([s.shift(), s.shift(), s.shift(), s.shift()], ["a", "b", "c", "d"]);
});

test("an unclean close (closed rejects) is reported as 1006", async () => {
  const { s, wss } = await connect();
  wss.rejectClosed(new Error("network"));
  wss.end();
  await flush();
  assert.deepEqual(s.closeInfo, [1006, "", false]);
});

test("ws.close(code, reason): closes the stream, CLOSING, and reads on past the limits", async () => {
  const { s, wss } = await connect();
  await deliver(wss, "a", "b", "c");
  s.ws.close(4000, "bye");
  assert.deepEqual(wss.closeCalls, [{ closeCode: 4000, reason: "bye" }]);
  assert.equal(s.ws.readyState, 2);
  assert.equal(wss.reads.length, 1);
  s.ws.close();
  assert.deepEqual(wss.closeCalls, [{ closeCode: 4000, reason: "bye" }, undefined]);
});

test("send(): written as a copy, counted in bufferedAmount until the write is done", async () => {
  const { s, wss } = await connect();
  const bytes = new Uint8Array([1, 2]);
  assert.equal(s.send("hey"), 3);
  assert.equal(s.send(bytes), 5);
  bytes[0] = 9;
  assert.deepEqual(wss.writes, ["hey", new Uint8Array([1, 2])]);
  await flush();
  assert.equal(s.ws.bufferedAmount, 0);
});

test("abandoned while connecting: the stream is closed at its open, nothing read", async () => {
  const wake = fakeProxy();
  const s = native.openNative("ws://example.test/", [], wake);
  const wss = FakeWebSocketStream.last;
  s.abandon(1006, "timeout");
  assert.deepEqual(s.closeInfo, [1006, "timeout", false]);
  wss.accept();
  await flush();
  assert.deepEqual(wss.closeCalls, [undefined]);
  assert.equal(wss.readsAsked, 0);
  assert.deepEqual(wake.calls, []);
});

test("the close (finish) cancels the reader", async () => {
  const { s, wss } = await connect();
  s.abandon(1006, "gone");
  assert.equal(wss.cancelled, true);
  assert.equal(s.ws.readyState, 3);
});

test("send(): ArrayBuffer, DataView and typed arrays are written as a Uint8Array (Deno's writer takes no other)", async () => {
  const { s, wss, wake } = await connect();
  s.send(bin(2, 5));
  s.send(new DataView(bin(3, 6)));
  s.send(new Uint16Array([1]));
  await flush();
  assert.deepEqual(wss.writes, [new Uint8Array([5, 5]), new Uint8Array([6, 6, 6]), new Uint8Array([1, 0])]);
  assert.equal(s.closeInfo, undefined);
  assert.deepEqual(wake.calls, []);
});

test("a write the stream rejects fails the connection: 1006 with the error, later sends refused", async () => {
  const { s, wss, wake } = await connect();
  wss.failWrites = new TypeError("stream errored");
  assert.equal(s.send("lost"), 4); // queued in the writer: the failure comes later
  await flush();
  assert.deepEqual(s.closeInfo, [1006, "the send failed: TypeError: stream errored", false]);
  assert.deepEqual(wake.calls, [[]]); // Python is woken: its reader and sender raise
  assert.deepEqual(wss.closeCalls, [undefined]);
  assert.equal(s.send("next"), notSent);
  assert.equal(s.ws.bufferedAmount, 0);
});

test("a write rejected after our close is not reported as a failure", async () => {
  const { s, wss } = await connect();
  s.send("last");
  wss.failWrites = new TypeError("closing");
  s.ws.close(1000, "");
  s.send("after");
  await flush();
  assert.equal(s.closeInfo, undefined);
});
