// The JS facade's checks on Node.js and Deno, run by run.mjs: each is
// `async (facade, { url, prefix, load }) => {}` (facade: the imported websocket_streaming.js) and
// throws on failure. The first stream of a facade loads Pyodide by itself (no load options; echo
// passes `load`, the facade's load options, when the run gives some).
import assert from "node:assert/strict";

// Each check's own limit: one that hangs fails alone, named.
const CHECK_TIMEOUT_MS = 15_000;

async function within(promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("it did not fail");
}

export const facadeChecks = {
  async echo({ WebSocketStream }, { url, load }) {
    await within(
      (async () => {
        const ws = new WebSocketStream(`${url}/echo`, load);
        await ws.opened;
        await ws.send("héllo");
        assert.equal(await ws.recv(), "héllo");
        await ws.send(new Uint8Array([1, 2, 3]));
        assert.deepEqual(new Uint8Array(await ws.recv()), new Uint8Array([1, 2, 3]));
        await ws.close();
      })(),
    );
  },

  async close_codes({ WebSocketStream, ConnectionClosedError }, { url }) {
    await within(
      (async () => {
        const ws = new WebSocketStream(`${url}/close?code=4001&reason=bye`);
        const error = await rejection(ws.recv());
        assert.ok(error instanceof ConnectionClosedError, String(error));
        assert.deepEqual([error.code, error.reason], [4001, "bye"]);
      })(),
    );
  },

  async headers({ WebSocketStream }, { url, prefix }) {
    await within(
      (async () => {
        const headers = { Authorization: "Bearer js", "X-Feed": "js" };
        const ws = new WebSocketStream(`${url}/headers?id=${prefix}-headers`, { headers });
        const seen = JSON.parse(await ws.recv()).map(([k, v]) => `${k.toLowerCase()}: ${v}`);
        assert.ok(seen.includes("authorization: Bearer js") && seen.includes("x-feed: js"), String(seen));
        await ws.close();
      })(),
    );
  },

  async relative_url({ WebSocketStream }) {
    const ws = new WebSocketStream("/feed");
    const error = await within(rejection(ws.opened));
    assert.ok(error instanceof TypeError, String(error));
    assert.match(error.message, /relative URL needs the page's location/);
  },

  async reconnect({ WebSocketStream }, { url, prefix }) {
    await within(
      (async () => {
        const ws = new WebSocketStream(`${url}/flaky?id=${prefix}-reconnect&n=1`, { reconnect: { minDelay: 0.05 } });
        let opens = 0;
        const reopened = new Promise((resolve) => {
          ws.addEventListener("open", () => {
            if (++opens === 2) resolve();
          });
        });
        assert.equal(await ws.recv(), "0"); // then the first connection drops (1006)
        await reopened; // (a message sent before the drop would be lost with it)
        await ws.send("again");
        assert.equal(await ws.recv(), "again");
        await ws.close();
      })(),
    );
  },

  async limits({ WebSocketStream, PayloadTooBig }, { url }) {
    await within(
      (async () => {
        const ws = new WebSocketStream(`${url}/send?n=1&size=2000`, { maxSize: 1000 });
        const error = await rejection(ws.recv());
        assert.ok(error instanceof PayloadTooBig, String(error));
        assert.equal(error.size, 2000);
      })(),
    );
  },

  async heartbeat({ WebSocketStream }, { url }) {
    await within(
      (async () => {
        const ws = new WebSocketStream(`${url}/pong`, { heartbeat: { interval: 0.05 } });
        assert.equal(await ws.recv(), "after-pong");
        assert.ok(ws.latency > 0, String(ws.latency));
        await ws.close();
      })(),
    );
  },

  // Deno with --unstable-net: the native backend sends binary as its writer takes it.
  async native({ WebSocketStream }, { url }) {
    await within(
      (async () => {
        const ws = new WebSocketStream(`${url}/echo`, { backend: "native" });
        await ws.send(new Uint8Array([4, 5]).buffer);
        await ws.send("text");
        assert.deepEqual(new Uint8Array(await ws.recv()), new Uint8Array([4, 5]));
        assert.equal(await ws.recv(), "text");
        await ws.close();
      })(),
    );
  },

  // Node.js 20 without --experimental-websocket: `opened` rejects, naming the fix.
  async no_websocket({ WebSocketStream }, { url }) {
    const error = await within(rejection(new WebSocketStream(`${url}/echo`).opened));
    assert.match(error.message, /has no global WebSocket: use Node\.js >= 22, or start Node\.js 20 or 21/);
  },
};
