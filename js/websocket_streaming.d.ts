// Types for websocket_streaming.js.

/** Where Pyodide is looked for by default: ./pyodide/ beside the module. */
export declare const DEFAULT_INDEX_URL: string;
/** The websocket-streaming wheel shipped beside the module, installed with micropip when Pyodide lacks the package. */
export declare const DEFAULT_WHEEL_URL: string;

export type Message = string | ArrayBuffer;
export type SendData = string | ArrayBuffer | ArrayBufferView;

/**
 * Where the Python side comes from. The package is used as it is when importable (micropip, PyScript,
 * JupyterLite installed it), loaded with loadPackage when the lock file lists it, else installed from wheelURL.
 */
export interface LoadOptions {
  /** An already loaded Pyodide instance. */
  pyodide?: unknown;
  /** The folder holding pyodide.mjs, when no instance is given (default DEFAULT_INDEX_URL); relative to the module. */
  indexURL?: string;
  /** The websocket-streaming wheel micropip installs when Pyodide lacks the package (default DEFAULT_WHEEL_URL). */
  wheelURL?: string;
}

/** An application-level ping (a page cannot send WebSocket pings) that the server answers. */
export interface HeartbeatOptions {
  /** Seconds between pings; > 0. */
  interval: number;
  /** Seconds to wait for the reply before the peer is declared dead and dropped (default: interval). */
  timeout?: number | null;
  /** What to send (default "ping"). */
  ping?: string | ArrayBuffer | Uint8Array;
  /**
   * The reply (default "pong"): a message equal to it, or for which the function returns true
   * (called in JS with each message as received), sets `latency` and is never returned by recv().
   */
  pong?: string | ArrayBuffer | Uint8Array | ((data: Message) => boolean);
}

/** The backoff between attempts: grows from minDelay by factor up to maxDelay, each scaled by a random 0.5-1.5. */
export interface ReconnectOptions {
  /** Seconds (default 0.5). */
  minDelay?: number;
  /** Seconds (default 30). */
  maxDelay?: number;
  /** >= 1 (default 1.618). */
  factor?: number;
  /** Failed attempts in a row after which to give up with ReconnectFailed (default null: never). */
  maxRetries?: number | null;
}

/** A new connection, as the `onConnect` hook sees it. */
export interface Connection {
  readonly protocol: string;
  readonly extensions: string;
  /** Sends on this connection now, before the messages queued while disconnected. @throws {ConnectionClosedError} no longer open. */
  send(data: SendData): Promise<void>;
}

/** Every option is checked by the constructor (TypeError / RangeError); unknown names are a TypeError. */
export interface WebSocketStreamOptions extends LoadOptions {
  /** Subprotocols to offer; `opened` resolves with the one the server chose. */
  protocols?: string | string[];
  /** Seconds to wait for the opening handshake (default 10; null: forever). */
  openTimeout?: number | null;
  /**
   * As the native WebSocketStream's: aborting before the open rejects `opened` (and `closed`) with the
   * signal's reason (an AbortError DOMException by default) and abandons the attempt; once open, it closes (1000).
   */
  signal?: AbortSignal | null;
  /** Seconds close() waits for the server to answer (default 5); null waits for the browser (up to 60 s). */
  closeTimeout?: number | null;
  /** The largest message handed to the reader, in bytes (UTF-8 for text; default 16 MiB; null: no limit). A larger one closes the connection: PayloadTooBig. */
  maxSize?: number | null;
  /** Unread messages held for the reader (default null: no bound by count). */
  maxQueue?: number | null;
  /** Unread bytes held for the reader (default 64 MiB; text counts one per UTF-16 unit; null: no bound). */
  maxQueueBytes?: number | null;
  /** Over maxQueue / maxQueueBytes: "close" (default: QueueOverflow after the messages that fit) or "drop-oldest" (counted in `dropped`). */
  onOverflow?: "close" | "drop-oldest";
  /**
   * The browser API under the connection: "classic" (default: WebSocket, every browser), "native"
   * (Chromium's WebSocketStream: reads only while little is unread, so a slow reader makes the server
   * wait; rejects where the browser lacks it) or "auto" (native where available).
   */
  backend?: "classic" | "native" | "auto";
  /** An application-level ping (default null: none). */
  heartbeat?: HeartbeatOptions | null;
  /** Seconds without any message after which the peer is declared dead and dropped (default null: never). */
  idleTimeout?: number | null;
  /** Reconnect after a drop, with this backoff (default false). One stream across connections. */
  reconnect?: boolean | ReconnectOptions;
  /** With reconnect: messages queued by send() while disconnected (default 1000; 0: send() rejects at once). */
  sendQueue?: number;
  /** With reconnect: bytes queued while disconnected (default 1 MiB). */
  sendQueueBytes?: number;
  /** With reconnect: awaited on every (re)connection before the queue is flushed (re-authenticate, re-subscribe). Throwing ends the stream with that error. */
  onConnect?: ((connection: Connection) => void | Promise<void>) | null;
}

export interface OpenInfo {
  protocol: string;
  extensions: string;
}

/** How `closed` resolves: `closeCode` (as the native WebSocketStream's) is the same number as `code`. */
export interface CloseInfo {
  code: number;
  closeCode: number;
  reason: string;
}

/** What `close()` takes, as the native WebSocketStream's `close()` does. */
export interface WebSocketCloseInfo {
  /** 1000 (default) or 3000-4999. */
  closeCode?: number;
  /** At most 123 bytes of UTF-8 (default ""). */
  reason?: string;
}

/** Load Pyodide (once per page and indexURL, or per instance given) and the websocket-streaming package. */
export declare function loadWebSocketStreaming(options?: LoadOptions): Promise<unknown>;

/** The URL `new WebSocket(url)` would open: relative to the page's location, http(s) made ws(s); others as given. */
export declare function resolveURL(url: string | URL): string;

export declare class WebSocketStreamError extends Error {
  constructor(message: string, name?: string);
}
export declare class ConnectionClosed extends WebSocketStreamError {
  constructor(message: string, name: string, code: number, reason: string);
  readonly code: number;
  readonly reason: string;
}
export declare class ConnectionClosedOK extends ConnectionClosed {}
export declare class ConnectionClosedError extends ConnectionClosed {}
/** A message was over maxSize (code 1009). */
export declare class PayloadTooBig extends ConnectionClosedError {
  constructor(message: string, name: string, code: number, reason: string, size: number, maxSize: number);
  /** The message's size in bytes (UTF-8 for text). */
  readonly size: number;
  readonly maxSize: number;
}
/** Unread data went over maxQueue / maxQueueBytes with onOverflow "close" (code 1008). */
export declare class QueueOverflow extends ConnectionClosedError {
  constructor(
    message: string,
    name: string,
    code: number,
    reason: string,
    held: { messages: number; bytes: number; maxQueue?: number | null; maxQueueBytes?: number | null },
  );
  /** Unread messages and bytes held when the next message arrived. */
  readonly messages: number;
  readonly bytes: number;
  readonly maxQueue: number | null;
  readonly maxQueueBytes: number | null;
}
/** A reconnecting stream gave up after maxRetries (code 1006). */
export declare class ReconnectFailed extends ConnectionClosedError {
  constructor(message: string, name: string, code: number, reason: string, attempts: number, unsent: Message[]);
  /** Failed attempts in a row. */
  readonly attempts: number;
  /** The messages still queued, oldest first: none was sent (binary as an ArrayBuffer copy). */
  readonly unsent: Message[];
}
export declare class ConnectionFailed extends WebSocketStreamError {}
export declare class ConcurrencyError extends WebSocketStreamError {}
/** send() while disconnected found the send queue full: the message was not queued. */
export declare class SendQueueFull extends WebSocketStreamError {}

export type WebSocketStreamEventType = "connecting" | "open" | "reconnecting" | "close";

/** A state change: "connecting" (an attempt starts), "open" (connected, hook run, queue flushed), "reconnecting" (the next attempt comes after `delay`), "close" (for good). */
export declare class WebSocketStreamEvent extends Event {
  constructor(
    type: WebSocketStreamEventType,
    init?: {
      attempt?: number;
      delay?: number | null;
      code?: number | null;
      reason?: string | null;
      error?: Error | null;
      flushed?: number;
    },
  );
  readonly type: WebSocketStreamEventType;
  /** The attempt's number since the last open (1 for the first). */
  readonly attempt: number;
  /** Seconds until the next attempt ("reconnecting" only), else null. */
  readonly delay: number | null;
  /** The close code and reason that caused it, if a close did. */
  readonly code: number | null;
  readonly reason: string | null;
  /** What caused it ("reconnecting", "close"): one of the errors above, or what onConnect threw. */
  readonly error: Error | null;
  /** Queued messages sent on this open ("open" only). */
  readonly flushed: number;
}

export interface WebSocketStreamEventMap {
  connecting: WebSocketStreamEvent;
  open: WebSocketStreamEvent;
  reconnecting: WebSocketStreamEvent;
  close: WebSocketStreamEvent;
}

export declare class WebSocketStream extends EventTarget implements AsyncIterable<Message> {
  /** @throws {TypeError} url, protocols or an option of the wrong type, or an unknown option; {RangeError} an option out of range. */
  constructor(url: string | URL, options?: WebSocketStreamOptions);
  /** The URL opened: resolved against the page's location, http(s) made ws(s), as by `new WebSocket()`. */
  readonly url: string;
  /** Resolves once (first) open; rejects with ConnectionFailed, ReconnectFailed, TypeError for a bad URL, or the signal's reason. */
  readonly opened: Promise<OpenInfo>;
  /**
   * Resolves once ended with a closing handshake (any code; with reconnect: close(), or a close not retried);
   * rejects with ConnectionClosedError (1006, no handshake), PayloadTooBig, QueueOverflow, ReconnectFailed.
   */
  readonly closed: Promise<CloseInfo>;
  /** 0 connecting (with reconnect: also while waiting to reconnect), 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  readonly bufferedAmount: number;
  /** Attempts since the last open: 0 while open. */
  readonly attempt: number;
  /** Seconds from the last heartbeat ping to its reply; 0 until measured. */
  readonly latency: number;
  /** Unread messages dropped by onOverflow "drop-oldest", over every connection. */
  readonly dropped: number;
  /** How many messages wait in the send queue (reconnect only; else 0). */
  readonly unsent: number;
  /**
   * Resolves true once the browser took the message, false when it was queued (reconnect, disconnected).
   * @throws {TypeError} for other data types; {SendQueueFull} queue full; {ConnectionClosed} once closing or closed.
   */
  send(data: SendData): Promise<boolean>;
  /** @throws {ConnectionClosed} once closed (with reconnect: ended) and drained; {ConcurrencyError} if another recv() waits. */
  recv(): Promise<Message>;
  /**
   * Every queued message, up to `max`, in one array (waits for one if none is); no promise per message.
   * @throws {TypeError | RangeError} a bad `max`; otherwise as recv().
   */
  recvMany(max?: number): Promise<Message[]>;
  /** Arrays of messages (recvMany(max) each) until the stream ends; ends quietly on a clean close. */
  batches(max?: number): AsyncGenerator<Message[], void, undefined>;
  /** Closes (with reconnect: stops reconnecting). @throws {TypeError} non-integer code or non-string reason; {RangeError} out of range. */
  close(code?: number, reason?: string): Promise<void>;
  /** As the native WebSocketStream: close({closeCode, reason}). Unknown keys are a TypeError. */
  close(closeInfo: WebSocketCloseInfo): Promise<void>;
  [Symbol.asyncIterator](): AsyncIterator<Message>;
  addEventListener<K extends keyof WebSocketStreamEventMap>(
    type: K,
    listener: (this: WebSocketStream, event: WebSocketStreamEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof WebSocketStreamEventMap>(
    type: K,
    listener: (this: WebSocketStream, event: WebSocketStreamEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}
