// Types for websocket_streaming.js.

/** Where Pyodide and the websocket-streaming wheel are looked for by default: ./pyodide/ beside the module. */
export declare const DEFAULT_INDEX_URL: string;

export type Message = string | ArrayBuffer;
export type SendData = string | ArrayBuffer | ArrayBufferView;

export interface LoadOptions {
  /** An already loaded Pyodide instance whose lock file lists websocket-streaming. */
  pyodide?: unknown;
  /** Where to load Pyodide from when no instance is given (default DEFAULT_INDEX_URL). */
  indexURL?: string;
}

export interface WebSocketStreamOptions extends LoadOptions {
  /** Subprotocols to offer; `opened` resolves with the one the server chose. */
  protocols?: string | string[];
  /** Seconds to wait for the opening handshake (default 10). */
  openTimeout?: number;
}

export interface OpenInfo {
  protocol: string;
  extensions: string;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/** Load Pyodide (once per page and indexURL) and the websocket-streaming package. */
export declare function loadWebSocketStreaming(options?: LoadOptions): Promise<unknown>;

export declare class WebSocketStreamError extends Error {
  constructor(message: string, name?: string);
}
export declare class ConnectionClosed extends WebSocketStreamError {
  readonly code: number;
  readonly reason: string;
}
export declare class ConnectionClosedOK extends ConnectionClosed {}
export declare class ConnectionClosedError extends ConnectionClosed {}
export declare class ConnectionFailed extends WebSocketStreamError {}
export declare class ConcurrencyError extends WebSocketStreamError {}

export declare class WebSocketStream implements AsyncIterable<Message> {
  /** @throws {TypeError} url is not a string or URL, or protocols are not strings. */
  constructor(url: string | URL, options?: WebSocketStreamOptions);
  readonly url: string;
  /** Resolves once open; rejects with ConnectionFailed, or TypeError for a bad URL. */
  readonly opened: Promise<OpenInfo>;
  /** Resolves after a completed closing handshake (any code); rejects with ConnectionClosedError (1006) otherwise. */
  readonly closed: Promise<CloseInfo>;
  readonly readyState: number;
  readonly bufferedAmount: number;
  /** @throws {TypeError} for other data types; {ConnectionClosed} once closing or closed. */
  send(data: SendData): Promise<void>;
  /** @throws {ConnectionClosed} once closed and drained; {ConcurrencyError} if another recv() waits. */
  recv(): Promise<Message>;
  /** @throws {TypeError} non-integer code or non-string reason; {RangeError} out-of-range code or reason. */
  close(code?: number, reason?: string): Promise<void>;
  [Symbol.asyncIterator](): AsyncIterator<Message>;
}
