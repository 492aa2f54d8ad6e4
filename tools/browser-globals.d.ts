// The browser global browser.js uses that TypeScript 5.9's DOM library lacks: WebSocketStream
// (Chromium only), as much of it as browser.js touches. For tsconfig.browser.json.

interface WebSocketStreamOpened {
  readable: ReadableStream<string | Uint8Array | ArrayBuffer>;
  writable: WritableStream<string | ArrayBuffer>;
  protocol: string;
  extensions: string;
}

interface WebSocketStreamClosed {
  closeCode?: number;
  reason?: string;
}

interface WebSocketStream {
  readonly opened: Promise<WebSocketStreamOpened>;
  readonly closed: Promise<WebSocketStreamClosed>;
  close(info?: WebSocketStreamClosed): void;
}

// A `var`, so that it is also globalThis.WebSocketStream (hasNative() looks there).
declare var WebSocketStream: {
  prototype: WebSocketStream;
  new (url: string, options?: { protocols?: string[]; signal?: AbortSignal }): WebSocketStream;
};
