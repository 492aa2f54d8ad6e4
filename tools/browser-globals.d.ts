// The browser global browser.js uses that TypeScript 5.9's DOM library lacks: WebSocketStream
// (Chromium; Deno with --unstable-net), as much of it as browser.js touches. For
// tsconfig.browser.json. Its writer as Deno's, which takes strings and Uint8Array only;
// `headers` as Deno's (Chromium has none).

interface WebSocketStreamOpened {
  readable: ReadableStream<string | Uint8Array | ArrayBuffer>;
  writable: WritableStream<string | Uint8Array>;
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
  new (
    url: string,
    options?: { protocols?: string[]; signal?: AbortSignal; headers?: [string, string][] },
  ): WebSocketStream;
};
