// The JS facade's contract with browser.js (its FacadeState typedef): every member it names
// exists on the state object, and js/websocket_streaming.js uses no other member of it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { browserSource, FakeWebSocket, facadeSource, fakeProxy, loadHelpers } from "./fakes.mjs";

// The members FacadeState lists, and the socket members its `ws` Pick<>s.
const contract = (() => {
  const block = browserSource.match(/@typedef \{object\} FacadeState\n([\s\S]*?)\*\//);
  assert.ok(block, "browser.js declares the FacadeState typedef");
  const members = [...block[1].matchAll(/@property \{.*?\} (\w+) /g)].map((m) => m[1]);
  const ws = block[1].match(/\{Pick<Socket, ([^>]*)>\} ws /);
  assert.ok(ws, "FacadeState's ws is a Pick<Socket, ...>");
  return { members, ws: [...ws[1].matchAll(/"(\w+)"/g)].map((m) => m[1]) };
})();

// What the facade's code (comments left out) reads, calls or sets on a state object: on the
// names it keeps one in (state, live, #state, #live, #newest, #reading), and on its `ws`.
const used = (() => {
  const code = facadeSource.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  const members = new Set();
  for (const m of code.matchAll(/(?:\bstate|#state|#live|#newest|#reading|\blive)\??\.(\w+)/g)) members.add(m[1]);
  const ws = new Set();
  for (const m of code.matchAll(/\bws\??\.(\w+)/g)) ws.add(m[1]);
  return { members: [...members].sort(), ws: [...ws].sort() };
})();

test("the contract names the members the facade is known to need", () => {
  const known = ["batching", "closeInfo", "dropped", "latency", "notify", "send", "shift", "size", "ws"];
  assert.deepEqual([...contract.members].sort(), known);
  assert.deepEqual([...contract.ws].sort(), ["bufferedAmount", "extensions", "protocol", "readyState"]);
});

test("every member of the contract exists on the state open() returns", () => {
  const s = loadHelpers().open("ws://example.test/", [], fakeProxy());
  for (const name of contract.members) assert.ok(name in s, name);
  for (const name of contract.ws) assert.ok(name in FakeWebSocket.prototype || name in s.ws, `ws.${name}`);
});

test("the facade uses nothing of the state object outside the contract", () => {
  assert.ok(used.members.length > 0, "the facade's uses were found");
  for (const name of used.members) assert.ok(contract.members.includes(name), `the facade uses state.${name}`);
  for (const name of used.ws) assert.ok(contract.ws.includes(name), `the facade uses state.ws.${name}`);
});
