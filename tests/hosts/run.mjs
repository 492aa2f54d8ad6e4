// The host runner: one process of Node.js or Deno runs every check of that host, against the
// test server tests/test_hosts.py started, and prints one line "RESULTS {name: "ok" | failure}".
//
//   node run.mjs CONFIG_JSON      deno run --allow-read --allow-net [--unstable-net] run.mjs CONFIG_JSON
//
// CONFIG: { dist: absolute path of dist/, wheel: of our wheel, url: "ws://127.0.0.1:PORT", host, backends: ["classic"...],
// python: true (the Python API's checks, checks.py, per backend), facades: [{ name, module, only? }]
// (the JS facade's checks, facade_checks.mjs, with the module at that absolute path loading Pyodide
// by itself, as a user's app does; `load`: options such as indexURL), only: [names] (of checks.py's) }.
//
// The Python checks get a Pyodide loaded here from dist/pyodide/ with an absolute path (Pyodide's
// loader takes no file: URL there) and our wheel installed from dist/ with loadPackage.
import { facadeChecks } from "./facade_checks.mjs";

const config = JSON.parse((globalThis.Deno?.args ?? process.argv.slice(2))[0]);
const here = new URL(".", import.meta.url);
const read = async (url) =>
  globalThis.Deno ? Deno.readTextFile(url) : (await import("node:fs/promises")).readFile(url, "utf8");

const results = {};

// The last lines of an error, for the report.
const describe = (error) =>
  String(error?.stack ?? error)
    .split("\n")
    .slice(0, 4)
    .join("\n");

async function pythonChecks() {
  const { loadPyodide } = await import(`${config.dist}/pyodide/pyodide.mjs`);
  const pyodide = await loadPyodide({ indexURL: `${config.dist}/pyodide/` });
  await pyodide.loadPackage(config.wheel, { messageCallback: () => {} });
  const globals = pyodide.globals.get("dict")();
  pyodide.runPython(await read(new URL("checks.py", here)), { globals });
  for (const backend of config.backends) {
    const run = { url: config.url, host: config.host, backend, prefix: `${config.host}-${backend}` };
    if (config.only) run.only = config.only;
    const out = JSON.parse(await globals.get("main")(JSON.stringify(run)));
    for (const [name, result] of Object.entries(out)) results[`python-${backend}-${name}`] = result;
  }
}

async function facadeRun({ name, module, only, load }) {
  const facade = await import(module);
  for (const [check, run] of Object.entries(facadeChecks)) {
    if (only !== undefined && !only.includes(check)) continue;
    try {
      await run(facade, { url: config.url, prefix: `${config.host}-${name}`, load });
      results[`facade-${name}-${check}`] = "ok";
    } catch (error) {
      results[`facade-${name}-${check}`] = describe(error);
    }
  }
}

try {
  if (config.python) await pythonChecks();
  for (const facade of config.facades ?? []) await facadeRun(facade);
} catch (error) {
  results.runner = describe(error);
}
console.log(`RESULTS ${JSON.stringify(results)}`);
// Pyodide keeps no handle open, but a stream left open by a failed check would: exit now.
globalThis.Deno ? Deno.exit(0) : process.exit(0);
