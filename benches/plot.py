#!/usr/bin/env python3
"""Draws a benchmark's markdown table as an SVG chart: one panel per scenario, one bar per
server, each panel on its own scale (the sizes differ by orders of magnitude).

    cargo bench --bench echo_load > echo.md;  python3 benches/plot.py echo.md benches/plots/echo.svg
    python3 benches/plot.py deflate.md benches/plots/deflate.svg --title "Compressed echo"
    python3 benches/plot.py broadcast.md benches/plots/broadcast.svg \\
        --group clients --series server --value "deliveries per server CPU-s"

Without --value it reads the first "wide" table of the file (echo_load, deflate_load): a row
per scenario, a column per server whose cells read "MSG/S (µs CPU/MSG, ...)", and plots
messages per server CPU-second (10^6 / µs). With --group/--series/--value it reads a "long"
table (broadcast): a row per scenario and server. Only the standard library is used.
"""

import argparse
import html
import re
import sys

PALETTE = ["#d9480f", "#1c7ed6", "#2b8a3e", "#7048e8", "#e67700", "#0b7285", "#c2255c",
           "#5c940d", "#495057", "#862e9c"]


def tables(text):
    """Every markdown table in `text`, as a list of rows of cells (header first)."""
    found, rows = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                rows.append(cells)
        elif rows:
            found.append(rows)
            rows = []
    return found


def number(cell):
    match = re.search(r"[\d,]*\.?\d+", cell.replace("**", ""))
    return float(match.group(0).replace(",", "")) if match else None


def wide(text):
    """Panels from the first table whose server columns read "NAME msg/s (µs CPU/msg ...)"."""
    for table in tables(text):
        header = table[0]
        servers = [(i, h.split(" msg/s")[0]) for i, h in enumerate(header) if "µs CPU/msg" in h]
        if not servers:
            continue
        panels = []
        for row in table[1:]:
            label = " · ".join(row[: servers[0][0]])
            bars = []
            for i, name in servers:
                inner = re.search(r"\(([^)]*)\)", row[i])
                micros = number(inner.group(1).split(",")[0]) if inner else None
                if micros:
                    bars.append((name, 1e6 / micros))
            panels.append((label, bars))
        return panels, "messages per server CPU-second"
    sys.exit("no table with 'msg/s (µs CPU/msg)' columns found")


def long(text, group, series, value):
    for table in tables(text):
        header = table[0]
        if group in header and series in header and value in header:
            g, s, v = header.index(group), header.index(series), header.index(value)
            panels = {}
            for row in table[1:]:
                panels.setdefault(row[g], []).append((row[s], number(row[v]) or 0.0))
            return list(panels.items()), value
    sys.exit(f"no table with columns {group!r}, {series!r} and {value!r}")


def svg(panels, unit, title):
    names = []
    for _, bars in panels:
        names += [n for n, _ in bars if n not in names]
    colour = {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}
    columns = 2 if len(panels) > 1 else 1
    bar_h, gap, panel_w = 16, 4, 420
    label_w = max(110, 7 * max(len(n) for n in names) + 16)
    panel_h = 28 + len(names) * (bar_h + gap) + 10
    rows = (len(panels) + columns - 1) // columns
    width, top = columns * (label_w + panel_w + 30) + 20, 56
    height = top + rows * panel_h + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="20" y="24" font-size="16" font-weight="bold">{html.escape(title)}</text>',
           f'<text x="20" y="44" fill="#555">{html.escape(unit)}; each panel on its own scale, '
           f'longer is better</text>']
    for k, (label, bars) in enumerate(panels):
        x0 = 20 + (k % columns) * (label_w + panel_w + 30)
        y0 = top + (k // columns) * panel_h
        out.append(f'<text x="{x0}" y="{y0 + 16}" font-weight="bold">{html.escape(label)}</text>')
        most = max((v for _, v in bars), default=1.0) or 1.0
        by_name = dict(bars)
        for j, name in enumerate(names):
            y = y0 + 26 + j * (bar_h + gap)
            out.append(f'<text x="{x0 + label_w - 6}" y="{y + 12}" text-anchor="end">'
                       f'{html.escape(name)}</text>')
            if name not in by_name:
                continue
            v = by_name[name]
            w = max(1.0, panel_w * 0.78 * v / most)
            out.append(f'<rect x="{x0 + label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                       f'fill="{colour[name]}"/>')
            out.append(f'<text x="{x0 + label_w + w + 5:.1f}" y="{y + 12}">{v:,.0f}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", help="a benchmark's output (markdown tables)")
    parser.add_argument("out", help="the SVG to write")
    parser.add_argument("--title", default="Echo over loopback")
    parser.add_argument("--group", help="long tables: the column naming the scenario")
    parser.add_argument("--series", help="long tables: the column naming the server")
    parser.add_argument("--value", help="long tables: the column to plot")
    args = parser.parse_args()
    text = open(args.results, encoding="utf-8").read()
    if args.value:
        panels, unit = long(text, args.group, args.series, args.value)
    else:
        panels, unit = wide(text)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(svg(panels, unit, args.title))


if __name__ == "__main__":
    main()
