// Type test of js/websocket_streaming.d.ts, run by `./build.sh check` and tests/test_facade.py:
// `tsc --strict --noEmit`. Every line marked @ts-expect-error must be an error (tsc reports an
// unused directive otherwise), so the wrong calls stay refused as the right ones stay accepted.
import {
  ConcurrencyError,
  type Connection,
  ConnectionClosed,
  ConnectionClosedError,
  ConnectionClosedOK,
  ConnectionFailed,
  DEFAULT_INDEX_URL,
  DEFAULT_WHEEL_URL,
  loadWebSocketStreaming,
  type Message,
  PayloadTooBig,
  QueueOverflow,
  ReconnectFailed,
  resolveURL,
  SendQueueFull,
  WebSocketStream,
  type WebSocketStreamError,
  type WebSocketStreamEvent,
} from "../../js/websocket_streaming.js";

export async function main(): Promise<number> {
  const ws = new WebSocketStream("ws://127.0.0.1:8765", { protocols: ["chat"], openTimeout: 5 });
  const { protocol } = await ws.opened;
  await ws.send("text");
  await ws.send(new Uint8Array(4));
  await ws.send(new ArrayBuffer(8));
  await ws.send(new DataView(new ArrayBuffer(2)));
  const data: Message = await ws.recv();
  if (typeof data !== "string") data.byteLength satisfies number;
  for await (const msg of ws) msg satisfies string | ArrayBuffer;
  try {
    await ws.close(1000, "bye");
  } catch (e) {
    if (e instanceof ConnectionClosed) return e.code;
  }
  const { code, reason, closeCode } = await ws.closed;
  return protocol.length + code + reason.length + closeCode + ws.readyState + ws.bufferedAmount;
}

export async function resilient(): Promise<number> {
  const ws = new WebSocketStream(new URL("ws://127.0.0.1:8765"), {
    reconnect: { minDelay: 0.1, maxRetries: 5 },
    closeTimeout: null,
    maxSize: 1 << 20,
    maxQueue: 100,
    maxQueueBytes: null,
    onOverflow: "drop-oldest",
    idleTimeout: 30,
    sendQueue: 10,
    sendQueueBytes: 1 << 16,
    backend: "auto",
    heartbeat: { interval: 20, timeout: null, ping: new Uint8Array([1]), pong: (m: Message) => m === "pong" },
    onConnect: async (conn: Connection) => {
      await conn.send("auth");
    },
  });
  ws.addEventListener("reconnecting", (e) => {
    e.delay satisfies number | null;
    e.error satisfies Error | null;
  });
  ws.addEventListener("open", (e: WebSocketStreamEvent) => e.flushed satisfies number);
  const sent: boolean = await ws.send("x");
  try {
    await ws.recv();
  } catch (e) {
    if (e instanceof ReconnectFailed) return e.attempts + e.unsent.length;
    if (e instanceof PayloadTooBig) return e.size - e.maxSize;
    if (e instanceof QueueOverflow) return e.messages + e.bytes + (e.maxQueue ?? 0);
    if (e instanceof SendQueueFull || e instanceof ConcurrencyError || e instanceof ConnectionFailed) return 0;
  }
  return ws.attempt + ws.latency + ws.dropped + ws.unsent + (sent ? 1 : 0);
}

export async function nativeShaped(): Promise<void> {
  const controller = new AbortController();
  const ws = new WebSocketStream("/feed", { signal: controller.signal, openTimeout: null, wheelURL: "/w.whl" });
  await ws.close({ closeCode: 4000, reason: "bye" });
  await ws.close({});
  controller.abort();
  resolveURL("/feed") satisfies string;
  await loadWebSocketStreaming({ indexURL: DEFAULT_INDEX_URL, wheelURL: DEFAULT_WHEEL_URL });
  // Handshake headers (Node.js, Deno): an object, pairs or a Headers.
  new WebSocketStream("ws://x", { headers: { Authorization: "Bearer x" } });
  new WebSocketStream("ws://x", { headers: [["X-A", "1"]], indexURL: "/srv/node_modules/pyodide/" });
  new WebSocketStream("ws://x", { headers: new Headers({ "X-A": "1" }) });
  new ConnectionClosedOK("closed", "ConnectionClosedOK", 1000, "") satisfies ConnectionClosed;
  new ConnectionClosedError("closed", "ConnectionClosedError", 1006, "") satisfies WebSocketStreamError;
}

export function wrongCalls(ws: WebSocketStream): void {
  // @ts-expect-error send() takes a string or binary data, not a number
  ws.send(42);
  // @ts-expect-error nor an object
  ws.send({ text: "hi" });
  // @ts-expect-error onOverflow is "close" or "drop-oldest"
  new WebSocketStream("ws://x", { onOverflow: "drop-newest" });
  // @ts-expect-error backend is "classic", "native" or "auto"
  new WebSocketStream("ws://x", { backend: "fast" });
  // @ts-expect-error header values are strings
  new WebSocketStream("ws://x", { headers: { "X-A": 1 } });
  // @ts-expect-error unknown option
  new WebSocketStream("ws://x", { reconect: true });
  // @ts-expect-error a URL is a string or URL
  new WebSocketStream(8765);
  // @ts-expect-error signal is an AbortSignal
  new WebSocketStream("ws://x", { signal: new AbortController() });
  // @ts-expect-error heartbeat needs an interval
  new WebSocketStream("ws://x", { heartbeat: { timeout: 5 } });
  // @ts-expect-error close() takes {closeCode, reason}: not code
  ws.close({ code: 4000 });
  // @ts-expect-error close code is a number
  ws.close("1000");
  // @ts-expect-error a ConnectionClosed carries a name, code and reason
  new ConnectionClosedOK("m");
  // @ts-expect-error readyState is read-only
  ws.readyState = 3;
}
