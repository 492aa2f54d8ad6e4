// The demo's chat pane: JavaScript on the ES-module facade, sharing the page's Pyodide.
//
// Every text message sent to /chat is broadcast by the server to every chat
// client, the sender included, so what we show is what came back.

import { WebSocketStream } from "../websocket_streaming.js";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Follow the chat at `url` forever (reconnecting), using the Pyodide already
 * loaded by the page. `onState(state, detail)` hears "connecting", "open" and
 * "reconnecting".
 */
export function startChat({ url, pyodide, onState }) {
  const list = document.querySelector("#chat-log");
  const form = document.querySelector("#chat-form");
  const input = document.querySelector("#chat-input");
  const me = `guest-${Math.floor(100 + Math.random() * 900)}`;
  document.querySelector("#chat-me").textContent = me;
  let ws = null;

  function show({ user, text, system = false }) {
    const item = document.createElement("li");
    if (system) {
      item.className = "system";
      item.textContent = text;
    } else {
      item.className = user === me ? "mine" : "";
      const who = document.createElement("b");
      who.textContent = user;
      item.append(who, " ", text);
    }
    list.append(item);
    while (list.children.length > 200) list.firstElementChild.remove();
    list.scrollTop = list.scrollHeight;
  }

  function received(message) {
    if (typeof message !== "string") return;
    try {
      const { user, text } = JSON.parse(message);
      if (typeof user === "string" && typeof text === "string") return show({ user, text });
    } catch {
      // not one of ours: show it as it came
    }
    show({ user: "?", text: message });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || !ws) return;
    input.value = "";
    try {
      await ws.send(JSON.stringify({ user: me, text }));
    } catch (error) {
      show({ system: true, text: `not sent (${error.message})` });
    }
  });

  (async () => {
    for (let attempt = 0; ; attempt++) {
      onState(attempt === 0 ? "connecting" : "reconnecting");
      const stream = new WebSocketStream(url, { pyodide });
      try {
        await stream.opened;
        ws = stream;
        attempt = 0;
        onState("open");
        input.disabled = false;
        show({ system: true, text: `joined as ${me}` });
        for await (const message of stream) received(message);
        show({ system: true, text: "the server closed the chat" });
      } catch (error) {
        if (ws) show({ system: true, text: `chat lost: ${error.message}` });
      }
      ws = null;
      input.disabled = true;
      await sleep(Math.min(10_000, 500 * 2 ** attempt));
    }
  })();
}
