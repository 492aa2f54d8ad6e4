"""The Performance page's table and the speed chart, generated from the benchmark's JSON.

    .venv/bin/python tools/speed_table.py [--json build/bench/results.json]
        [--page docs/performance.md] [--svg demo/speed.svg] [--check]

Reads what ``./build.sh bench`` wrote (``tests/bench/__main__.py``: rates per engine, startup,
memory, shipped size, the machine) and

* replaces the block between ``<!-- speed-table:start -->`` and ``<!-- speed-table:end -->`` in
  the Performance page (only that block) with a table of every figure per engine, each target
  marked met (✓) or not (✗), the machine described above it;
* writes an SVG bar chart (no plotting library) of each variant's rate as a ratio to raw JS,
  per engine (shown by the README, the Performance page and the demo).

``--check`` writes nothing and exits 1 if the page's block or the chart would change.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- speed-table:start -->"
END = "<!-- speed-table:end -->"
ENGINE_ORDER = ("chromium", "firefox", "webkit")
COLORS = {"chromium": "#4285f4", "firefox": "#e66000", "webkit": "#6e5494"}

Rates = dict[tuple[str, int, bool], dict[str, float]]


# --------------------------------------------------------------------------------------------
# Reading the JSON


def browser_name(engine: str, description: str) -> str:
    """'chromium 156.0.8078.108 (system ...)' -> 'Chromium 156'; WebKitGTK when it is one."""
    words = description.split()
    version = words[1] if len(words) > 1 else "?"
    if engine == "chromium":
        return f"Chromium {version.split('.')[0]}"
    if engine == "firefox":
        esr = " ESR" if "esr" in version or "firefox-esr" in description else ""
        return f"Firefox{esr} {version.replace('esr', '').split('.')[0]}"
    gtk = "MiniBrowser" in description or "WebKitWebDriver" in description
    return f"{'WebKitGTK' if gtk else 'WebKit'} {'.'.join(version.split('.')[:2])}"


def rates_of(engine: dict[str, Any]) -> Rates:
    return {(r["direction"], r["size"], r["binary"]): r["rates"] for r in engine["rates"]}


def ratio(rates: Rates, direction: str, size: int, binary: bool, variant: str, base: str = "raw"):
    row = rates.get((direction, size, binary), {})
    if variant not in row or base not in row:
        return None
    return row[variant] / row[base]


def added_us(rates: Rates, size: int, binary: bool, variant: str = "python") -> float | None:
    """1/rate_ours - 1/rate_raw, in microseconds per message."""
    row = rates.get(("recv", size, binary), {})
    if variant not in row or "raw" not in row:
        return None
    return (1 / row[variant] - 1 / row["raw"]) * 1e6


def size_label(size: int) -> str:
    return f"{size} B" if size < 1024 else f"{size // 1024} KiB"


# --------------------------------------------------------------------------------------------
# The table

MET, NOT_MET = "✓", "✗"
NONE = "n/a"


def mark(ok: bool | None) -> str:
    return "" if ok is None else f" {MET if ok else NOT_MET}"


def fmt_x(value: float | None) -> str:
    return NONE if value is None else f"{value:.2f}x"


Cell = Callable[[dict[str, Any]], str]


def pair_cell(values: Callable[[dict[str, Any], bool], float | None], target: float | None) -> Cell:
    """'text / binary' ratios, marked met only if both reach target (no mark without one)."""

    def cell(engine: dict[str, Any]) -> str:
        text, binary = values(engine, False), values(engine, True)
        if text is None and binary is None:
            return NONE
        got = [v for v in (text, binary) if v is not None]
        met = None if target is None else all(v >= target for v in got)
        return f"{fmt_x(text)} / {fmt_x(binary)}{mark(met)}"

    return cell


def recv_cell(size: int, binary: bool, target_us: float | None, target_x: float | None) -> Cell:
    def cell(engine: dict[str, Any]) -> str:
        rates = engine["_rates"]
        x, us = ratio(rates, "recv", size, binary, "python"), added_us(rates, size, binary)
        if x is None or us is None:
            return NONE
        ok = us <= target_us if target_us is not None else x >= (target_x or 0)
        return f"{x:.2f}x, {us:+.1f} us{mark(ok)}"

    return cell


def split_cell(mode: str, size: int, target_us: float | None) -> Cell:
    """The receive split's added time per message (ours - raw JS, no network), 'text /
    binary', marked met only if both are within target_us."""

    def cell(engine: dict[str, Any]) -> str:
        rows = {(r["size"], r["binary"]): r[mode] for r in engine.get("split") or []}
        added = [
            rows[(size, binary)]["python"] - rows[(size, binary)]["raw"]
            for binary in (False, True)
            if (size, binary) in rows
        ]
        if len(added) != 2:
            return NONE
        met = None if target_us is None else all(us <= target_us for us in added)
        return f"{added[0]:+.1f} / {added[1]:+.1f} us{mark(met)}"

    return cell


def extra_of(engine: dict[str, Any], key: tuple[str, str, int, bool], name: str) -> Any:
    """A run's other figure (``p50_us``, ``woken_inside``...) for (direction, variant, size,
    binary), or None."""
    for extra in engine.get("extras", []):
        if (extra["direction"], extra["variant"], extra["size"], extra["binary"]) == key:
            return extra.get(name)
    return None


def rtt_cell(variant: str, target: float | None, direction: str = "rtt", size: int = 16) -> Cell:
    """Round trips: the rate's ratio to raw JS (time per trip), and the median trip's
    (raw JS's p50 over ours), both held to the target. ``direction`` "plain": the plain
    loop's row (1 B text, the `websockets` echo server)."""

    def cell(engine: dict[str, Any]) -> str:
        rates = engine["_rates"]
        parts, oks = [], []
        for binary in (False, True):
            x = ratio(rates, direction, size, binary, variant)
            if x is None:
                continue
            us = 1e6 / rates[(direction, size, binary)][variant]
            ours = extra_of(engine, (direction, variant, size, binary), "p50_us")
            raw = extra_of(engine, (direction, "raw", size, binary), "p50_us")
            if ours and raw:
                parts.append(f"{x:.2f}x ({us:.0f} us), p50 {raw / ours:.2f}x")
                oks.append(target is None or min(x, raw / ours) >= target)
            else:
                parts.append(f"{x:.2f}x ({us:.0f} us)")
                oks.append(target is None or x >= target)
        return " / ".join(parts) + mark(all(oks) if target is not None else None) if parts else NONE

    return cell


def floor_cell(variant: str) -> Cell:
    """A round trip's floor (no code of ours): its ratio to raw JS in the round trip rows
    (16 B text / binary), then in the plain loop."""

    def cell(engine: dict[str, Any]) -> str:
        rates = engine["_rates"]
        xs = [ratio(rates, "rtt", 16, binary, variant) for binary in (False, True)]
        plain = ratio(rates, "plain", 1, False, variant)
        parts = [" / ".join(f"{x:.2f}x" for x in xs if x is not None)]
        if plain is not None:
            parts.append(f"plain {plain:.2f}x")
        return "; ".join(p for p in parts if p) or NONE

    return cell


def loop_cell(variant: str, size: int) -> Cell:
    """The send loop's own time per message (the page's work, before the server has it
    all), 'text / binary', ours then raw JS's."""

    def cell(engine: dict[str, Any]) -> str:
        us = {
            (v, binary): extra_of(engine, ("send", v, size, binary), "loop_us")
            for v in (variant, "raw")
            for binary in (False, True)
        }
        if None in us.values():
            return NONE
        return (
            f"{us[(variant, False)]:.1f} / {us[(variant, True)]:.1f} us "
            f"(raw JS {us[('raw', False)]:.1f} / {us[('raw', True)]:.1f})"
        )

    return cell


def ack_cell(variant: str) -> Cell:
    """A flood acked message by message: 16 B text / 1 KiB binary, as ratios to raw JS."""
    return pair_cell(
        lambda engine, binary: ratio(
            engine["_rates"], "ack", 1024 if binary else 16, binary, variant
        ),
        None,
    )


def woken_cell(engine: dict[str, Any]) -> str:
    """Of the last timed round-trip run, the share of recv() resumed inside the message event."""
    shares = []
    for binary in (False, True):
        key = ("rtt", "python", 16, binary)
        woken, n = extra_of(engine, key, "woken_inside"), extra_of(engine, key, "n")
        if woken is not None and n:
            shares.append(f"{woken / n:.0%}")
    return " / ".join(shares) if shares else NONE


def startup_cell(key: str, target_ms: float | None = None, unit: str = "ms") -> Cell:
    def cell(engine: dict[str, Any]) -> str:
        startup = engine.get("startup")
        if not startup:
            return NONE
        ms = startup["median_ms"][key]
        text = f"{ms / 1000:.1f} s" if unit == "s" else f"{ms:.0f} ms"
        return text + mark(None if target_ms is None else ms < target_ms)

    return cell


def profile_cell(engine: dict[str, Any]) -> str:
    """One more page: Pyodide's first loadPackage (another wheel), ours after it, the import."""
    prof = (engine.get("startup") or {}).get("profiled")
    if not prof:
        return NONE
    parts = []
    if prof.get("other_package_ms") is not None:
        parts.append(
            f"Pyodide's first `loadPackage` (of `packaging`) {prof['other_package_ms']:.0f} ms, "
            f"then ours {prof['load_package_ms']:.0f} ms"
        )
    top = ", ".join(list(prof["stdlib_top"])[:2])
    parts.append(
        f"import {prof['import_ms']:.0f} ms: our modules {prof['own_ms']:.0f} ms (compiling "
        f"them {prof['own_compile_ms']:.0f}), stdlib {prof['stdlib_ms']:.0f} ms ({top})"
    )
    return "; ".join(parts)


def memory_cell(what: str) -> Cell:
    def cell(engine: dict[str, Any]) -> str:
        memory = engine.get("memory")
        if not memory:
            return NONE
        b, a = memory["before"], memory["after"]
        if what == "heap":
            delta = a["heap"] - b["heap"]
            return f"{delta / 1024:+.0f} KiB{mark(abs(delta) <= 1 << 20)}"
        return f"{b['pyproxies']} → {a['pyproxies']} / {b['jsrefs']} → {a['jsrefs']}" + mark(
            a["pyproxies"] == b["pyproxies"] and a["jsrefs"] == b["jsrefs"]
        )

    return cell


SIZES = (16, 1024, 65536)


def ratio_rows(
    label: str,
    direction: str,
    variant: str,
    target: float | None,
    base: str = "raw",
    sizes: tuple[int, ...] = SIZES,
) -> list[tuple[str, str, Cell | None]]:
    """One row per size: 'text / binary' ratios of variant to base, marked against target."""

    def values(size: int) -> Callable[[dict[str, Any], bool], float | None]:
        return lambda e, binary: ratio(e["_rates"], direction, size, binary, variant, base)

    return [
        (
            f"{label}, {size_label(size)} text / binary",
            "" if target is None else f"≥ {target}x",
            pair_cell(values(size), None if target is None else target),
        )
        for size in sizes
    ]


def rows(messages: int) -> list[tuple[str, str, Cell | None]]:
    """(label, target, cell) per row; a None cell is a section heading."""
    out: list[tuple[str, str, Cell | None]] = [("**Python API**", "", None)]
    out.append(
        (
            "round trip, 16 B text / binary: rate (time per trip), median trip",
            "≥ 0.8x",
            rtt_cell("python", 0.8),
        )
    )
    out.append(
        (
            "round trip, plain loop: `await send(1 B text); await recv()`, `websockets` server",
            "≥ 0.8x",
            rtt_cell("python", 0.8, "plain", 1),
        )
    )
    out.append(
        (
            "floor, Pyodide: a `create_proxy` handler echoing: 16 B text / binary; plain loop",
            "",
            floor_cell("handler"),
        )
    )
    out.append(
        (
            "floor, asyncio: a task woken in the event: 16 B text / binary; plain loop",
            "",
            floor_cell("task"),
        )
    )
    out.append(("round trip, native backend", "", rtt_cell("native", None)))
    out.append(("round trip: `recv()` resumed inside the message event", "", woken_cell))
    out.append(("flood acked message by message, 16 B text / 1 KiB binary", "", ack_cell("python")))
    for size in SIZES:
        target, us, x = ("≥ 0.95x", None, 0.95) if size == 65536 else ("≤ 1.5 us", 1.5, None)
        for binary in (False, True):
            label = f"receive {size_label(size)} {'binary' if binary else 'text'}"
            out.append(
                (f"{label}: ratio, added time per message", target, recv_cell(size, binary, us, x))
            )
    for mode, what, target in (
        ("burst", "a burst, read after it", 1.5),
        ("paced", "one per task, a wake-up each", None),
    ):
        for size in SIZES:
            limit = target if size < 65536 else None
            out.append(
                (
                    f"receive, no network, {what}: added time per message, "
                    f"{size_label(size)} text / binary",
                    "" if limit is None else f"≤ {limit} us",
                    split_cell(mode, size, limit),
                )
            )
    out += ratio_rows("send", "send", "python", 0.9)
    for size in (16, 1024):  # at 64 KiB, ours waits for the buffer to drain (write_limit)
        out.append(
            (
                f"send loop: the page's own time per message, {size_label(size)} text / binary",
                "",
                loop_cell("python", size),
            )
        )
    out += ratio_rows("naive loop (reference): receive", "recv", "naive", None, sizes=(16,))
    out.append(("**JS facade**", "", None))
    out += ratio_rows(
        "`recv()` vs a bare promise-per-message reader", "recv", "facade", 0.9, "promise"
    )
    out += ratio_rows("`recvMany()` (batch read)", "recv", "batch", 0.95)
    out += ratio_rows("`recv()` vs raw JS", "recv", "facade", None, sizes=(1024,))
    out += ratio_rows("send", "send", "facade", 0.9)
    out.append(
        (
            "round trip, 16 B text / binary: rate (time per trip), median trip",
            "≥ 0.9x",
            rtt_cell("facade", 0.9),
        )
    )
    out.append(("round trip, plain loop (as above)", "≥ 0.9x", rtt_cell("facade", 0.9, "plain", 1)))
    out.append(("flood acked message by message, 16 B text / 1 KiB binary", "", ack_cell("facade")))
    out.append(("**Startup** (fresh page, Python API)", "", None))
    out.append(
        (
            "Pyodide's own load (`loadPyodide()`), for reference",
            "",
            startup_cell("pyodide", unit="s"),
        )
    )
    out.append(("ours: `loadPackage` + `import websocket_streaming`", "", startup_cell("import")))
    out.append(("ours: `connect()` + first message from a local server", "", startup_cell("first")))
    out.append(
        ("raw JS: `new WebSocket()` + first message, same page", "", startup_cell("raw_first"))
    )
    out.append(("where it goes (one more page, profiled)", "", profile_cell))
    out.append(
        ("ours: import + connect beyond raw JS's connect", "< 100 ms", startup_cell("ours", 100))
    )
    out.append((f"**Memory** ({messages:,} messages received + {messages:,} sent)", "", None))
    out.append(
        ("PyProxies / JS refs (hiwire) alive, before → after", "unchanged", memory_cell("proxies"))
    )
    out.append(("Python heap (tracemalloc), after minus before", "≤ 1 MB", memory_cell("heap")))
    return out


def kb(entry: dict[str, int]) -> str:
    return f"{entry['gzip'] / 1000:.1f} KB"


#: The trip split's variants (the benchmark's TRIP_VARIANTS), as the table names them.
TRIP_LABELS = {
    "raw": "raw JS",
    "handler": "floor, Pyodide: a `create_proxy` handler",
    "task": "floor, asyncio: a task woken in the event",
    "python": "Python API",
    "facade": "JS facade",
}


def trip_table(engines: list[str], data: dict[str, Any], names: list[str]) -> list[str]:
    """The round trip split (the benchmark's trip section), a row per variant and kind; no
    lines when the run had no trip section."""
    if not any(data[e].get("trip") for e in engines):
        return []
    lines = [
        "",
        "Where a round trip's time goes (the trip section: 1 B, the plain loop's server, 1,000 "
        "trips a run; the same `performance.now()` stamps around every socket's `onmessage` "
        "handler and `send()`): medians per trip in us, event → reply `send()` + the `send()` "
        "+ the handler after it + the wait for the next event; then the median trip (the parts' "
        "medians need not add up to it). Raw JS sends after its handler, in the promise's "
        "continuation.",
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(engines),
    ]
    for binary in (False, True):
        for variant, label in TRIP_LABELS.items():
            cells = []
            for e in engines:
                row = next((r for r in data[e].get("trip") or [] if r["binary"] == binary), None)
                parts = row.get(variant) if row else None
                if parts is None:
                    cells.append(NONE)
                    continue
                cells.append(
                    " + ".join(f"{parts[p]:.0f}" for p in ("to_send", "send", "after_send", "wait"))
                    + f"; trip {parts['trip']:.0f}"
                )
            kind = "1 B binary" if binary else "1 B text"
            lines.append(f"| {label}, {kind} | " + " | ".join(cells) + " |")
    return lines


def table(report: dict[str, Any], json_name: str) -> str:
    engines = [e for e in ENGINE_ORDER if e in report["engines"]]
    data = {}
    for e in engines:
        data[e] = {**report["engines"][e], "_rates": rates_of(report["engines"][e])}
    names = [browser_name(e, data[e]["browser"]) for e in engines]
    m = report["machine"]
    before, after = report["load_before"]["loadavg"], report["load_after"]["loadavg"]
    opts = report["options"]
    size = report["size"]
    lines = [
        START,
        f"<!-- generated by tools/speed_table.py from {json_name}: do not edit by hand -->",
        "",
        f"Measured on {m['cpus']} CPUs ({m['cpu_model']}), {m['system']}, shared with other work "
        f"(load average {before[0]:.1f} at the start, {after[0]:.1f} at the end); "
        f"{', '.join(names)}; Pyodide {report['pyodide']}; {report['date'][:10]}; "
        f"medians of {opts['reps']}, about {opts['target_s']} s per rate. "
        "Ratios are to raw JS in the same page; added time is `1/rate_ours - 1/rate_raw`; "
        f"{MET} / {NOT_MET}: the row's target met or not.",
        "",
        "| | target | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(engines),
    ]
    body: list[tuple[str, bool]] = []  # (line, is a heading)
    for label, target, cell in rows(opts["messages"]):
        if cell is None:
            body.append((f"| {label} | |" + " |" * len(engines), True))
            continue
        cells = [cell(data[e]) for e in engines]
        if all(c == NONE for c in cells):
            continue  # e.g. recvMany() before the facade has it, a section not run
        body.append((f"| {label} | {target} | " + " | ".join(cells) + " |", False))
    for i, (line, heading) in enumerate(body):
        if not heading or (i + 1 < len(body) and not body[i + 1][1]):
            lines.append(line)
    lines += trip_table(engines, data, names)
    total, parts = size["total_gzip"], size["wheel_parts"]
    lines += [
        "",
        f"Shipped, gzipped (level 9, on the host): the wheel {kb(size['wheel'])} "
        f"+ `websocket_streaming.js` {kb(size['js'])} "
        + (f"+ `load_pyodide.js` {kb(size['loader'])} " if "loader" in size else "")
        + "+ `websocket_streaming.d.ts` "
        f"{kb(size['dts'])} = **{total / 1000:.1f} KB** (target < 25 KB{mark(total < 25_000)}). "
        f"The wheel is a zip of files deflated one by one; as gzip streams its parts weigh: "
        f"our code {kb(parts['code'])}"
        + (
            f" ({kb(parts['code_stripped'])} without docstrings and comments)"
            if "code_stripped" in parts
            else ""
        )
        + f", its metadata (python/README.md, as long description) {kb(parts['metadata'])}.",
        "",
        "![Each variant's rate as a ratio to raw JS, per engine](../demo/speed.svg)",
        "",
        END,
    ]
    return "\n".join(lines)


def replace_block(page: str, block: str) -> str:
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if not pattern.search(page):
        raise SystemExit(f"the page has no {START} ... {END} block")
    return pattern.sub(lambda _: block, page, count=1)


# --------------------------------------------------------------------------------------------
# The chart


def chart_items(report: dict[str, Any]) -> list[tuple[str, dict[str, float]]]:
    """(label, {engine: ratio to raw JS}) per bar group, in reading order."""
    items = []
    groups = [
        ("Python round trip", "rtt", "python", (16,)),
        ("asyncio floor, round trip", "rtt", "task", (16,)),
        ("Python plain loop", "plain", "python", (1,)),
        ("asyncio floor, plain loop", "plain", "task", (1,)),
        ("Python receive", "recv", "python", (16, 1024, 65536)),
        ("Python send", "send", "python", (16, 1024, 65536)),
        ("facade round trip", "rtt", "facade", (16,)),
        ("facade recv()", "recv", "facade", (16, 1024, 65536)),
        ("facade recvMany()", "recv", "batch", (16, 1024, 65536)),
        ("facade send", "send", "facade", (16, 1024, 65536)),
    ]
    engines = {e: rates_of(report["engines"][e]) for e in ENGINE_ORDER if e in report["engines"]}
    for title, direction, variant, sizes in groups:
        for size in sizes:
            for binary in (False, True):
                values = {}
                for e, rates in engines.items():
                    x = ratio(rates, direction, size, binary, variant)
                    if x is not None:
                        values[e] = x
                if values:
                    kind = "binary" if binary else "text"
                    items.append((f"{title}, {size_label(size)} {kind}", values))
    return items


def svg(report: dict[str, Any]) -> str:
    items = chart_items(report)
    engines = [e for e in ENGINE_ORDER if e in report["engines"]]
    names = {e: browser_name(e, report["engines"][e]["browser"]) for e in engines}
    bar, gap, label_w, plot_w, top = 7, 8, 250, 420, 52
    group_h = bar * len(engines) + gap
    height = top + group_h * len(items) + 40
    width = label_w + plot_w + 60
    xmax = 1.6
    scale = plot_w / xmax

    def x(v: float) -> float:
        return label_w + min(v, xmax) * scale

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">'
        "Rate as a ratio to raw JS in the same page (1.0 = raw JS; higher is faster)</text>",
    ]
    lx = label_w
    for e in engines:
        out.append(f'<rect x="{lx}" y="26" width="10" height="10" fill="{COLORS[e]}"/>')
        out.append(f'<text x="{lx + 14}" y="35">{escape(names[e])}</text>')
        lx += 16 + 7 * len(names[e]) + 20
    bottom = top + group_h * len(items)
    for tick in (0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6):
        tx = x(tick)
        color, w = ("#333", 1.2) if tick == 1.0 else ("#ddd", 0.8)
        out.append(
            f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{bottom}" stroke="{color}" '
            f'stroke-width="{w}"/>'
        )
        out.append(f'<text x="{tx:.1f}" y="{bottom + 14}" text-anchor="middle">{tick:.1f}x</text>')
    for i, (label, values) in enumerate(items):
        y0 = top + i * group_h
        out.append(
            f'<text x="{label_w - 6}" y="{y0 + bar * len(engines) / 2 + 4:.1f}" '
            f'text-anchor="end">{escape(label)}</text>'
        )
        for j, e in enumerate(engines):
            if e not in values:
                continue
            v = values[e]
            y = y0 + j * bar
            out.append(
                f'<rect x="{label_w}" y="{y}" width="{x(v) - label_w:.1f}" height="{bar - 1}" '
                f'fill="{COLORS[e]}"><title>{escape(names[e])}: {v:.2f}x</title></rect>'
            )
            if v > xmax:
                out.append(
                    f'<text x="{x(v) + 3:.1f}" y="{y + bar - 1}" font-size="8">{v:.1f}x</text>'
                )
    m = report["machine"]
    out.append(
        f'<text x="{width / 2}" y="{height - 8}" text-anchor="middle" fill="#555">'
        f"{escape(str(m['cpus']))} CPUs, {escape(m['cpu_model'])}, {report['date'][:10]}, "
        f"medians of {report['options']['reps']} (tools/speed_table.py)</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=ROOT / "build" / "bench" / "results.json")
    parser.add_argument("--page", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--svg", type=Path, default=ROOT / "demo" / "speed.svg")
    parser.add_argument("--check", action="store_true", help="exit 1 if anything would change")
    args = parser.parse_args()
    report = json.loads(args.json.read_text())
    try:
        json_name = str(args.json.resolve().relative_to(ROOT))
    except ValueError:
        json_name = args.json.name
    page = args.page.read_text()
    new_page = replace_block(page, table(report, json_name))
    new_svg = svg(report)
    old_svg = args.svg.read_text() if args.svg.exists() else ""
    if args.check:
        stale = [
            p
            for p, old, new in ((args.page, page, new_page), (args.svg, old_svg, new_svg))
            if old != new
        ]
        for path in stale:
            print(f"{path} is out of date: run tools/speed_table.py", file=sys.stderr)
        return 1 if stale else 0
    args.page.write_text(new_page)
    args.svg.write_text(new_svg)
    print(f"wrote the speed table into {args.page} and the chart {args.svg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
