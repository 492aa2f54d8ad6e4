// The demo's chat pane: JavaScript on the ES-module facade, sharing the page's Pyodide.
//
// Every text message sent to /chat is broadcast by the server to every chat
// client, the sender included, so what we show is what came back. One
// WebSocketStream with `reconnect` lasts for the page's life: it reconnects by
// itself, and a message sent while it is down waits in its send queue and goes
// out on the next connection (the "open" event's `flushed` counts them).

import { WebSocketStream } from "../websocket_streaming.js";

/**
 * Follow the chat at `url` for as long as the page lives, using the Pyodide
 * already loaded by the page. `onState(state, attempt, delay)` hears
 * "connecting", "open", "reconnecting" (with the delay before the next attempt,
 * in seconds) and "closed"; `log(text, kind)` writes to the page's event log.
 */
export function startChat({ url, pyodide, onState, log = () => {} }) {
  const $ = (selector) => document.querySelector(selector);
  const list = $("#chat-log");
  const form = $("#chat-form");
  const input = $("#chat-input");
  const me = `guest-${Math.floor(100 + Math.random() * 900)}`;
  $("#chat-me").textContent = me;
  const pending = new Map(); // id -> the bubble of a message queued while disconnected
  let next = 0;
  let everOpen = false;

  const ws = new WebSocketStream(url, {
    pyodide,
    reconnect: { minDelay: 2, maxDelay: 10 },
    heartbeat: { interval: 1, timeout: 5 },
  });

  function figures() {
    $("#chat-queued").textContent = ws.unsent;
    $("#chat-latency").textContent = ws.latency ? (ws.latency * 1000).toFixed(1) : "–";
  }
  setInterval(figures, 250);

  function bubble({ user, text, system = false }) {
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
    return item;
  }

  function received(message) {
    if (typeof message !== "string") return;
    try {
      const { user, text, id } = JSON.parse(message);
      if (typeof user === "string" && typeof text === "string") {
        const waiting = user === me && pending.get(id);
        if (waiting) {
          // Our queued message came back: it was sent on reconnection.
          pending.delete(id);
          waiting.classList.replace("queued", "flushed");
          waiting.querySelector("small").textContent = "sent on reconnect";
          return;
        }
        bubble({ user, text });
        return;
      }
    } catch {
      // not one of ours: show it as it came
    }
    bubble({ user: "?", text: message });
  }

  ws.addEventListener("connecting", (event) => {
    onState(everOpen ? "reconnecting" : "connecting", event.attempt);
  });
  ws.addEventListener("reconnecting", (event) => {
    onState("reconnecting", event.attempt, event.delay);
    if (event.attempt === 1) {
      bubble({
        system: true,
        text: `chat lost (${event.code ?? event.error?.message}): retrying; you can keep typing`,
      });
      log(`lost: ${event.error?.message ?? event.code}; retrying in ${event.delay.toFixed(1)} s`, "bad");
    }
  });
  ws.addEventListener("open", (event) => {
    onState("open", event.attempt);
    input.disabled = false;
    if (!everOpen) {
      bubble({ system: true, text: `joined as ${me}` });
      log(`connected to ${url}`, "ok");
    } else {
      bubble({ system: true, text: `back (attempt ${event.attempt}): ${event.flushed} queued message(s) sent` });
      log(`reconnected (attempt ${event.attempt}); flushed ${event.flushed} queued message(s)`, "ok");
    }
    everOpen = true;
    figures();
  });
  ws.addEventListener("close", (event) => {
    onState("closed", event.attempt);
    input.disabled = true;
    bubble({ system: true, text: `the chat ended: ${event.error?.message ?? event.code}` });
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    const id = `${me}-${next++}`;
    try {
      const sent = await ws.send(JSON.stringify({ user: me, text, id }));
      if (!sent) {
        // Disconnected: the stream queued it for the next connection.
        const item = bubble({ user: me, text });
        item.classList.add("queued");
        const tag = document.createElement("small");
        tag.textContent = "queued";
        item.append(tag);
        pending.set(id, item);
      }
    } catch (error) {
      bubble({ system: true, text: `not sent (${error.name}: ${error.message})` });
    }
    figures();
  });

  (async () => {
    try {
      for await (const message of ws) received(message);
    } catch (error) {
      bubble({ system: true, text: `chat stopped: ${error.message}` });
    }
  })();
}
