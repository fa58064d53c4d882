"""Prints the peers benchmark (criterion's saved estimates) as a markdown table with ratios.

usage: python3 benches/summarize_criterion.py   (after `cargo bench --bench peers`)
"""
import json
import pathlib

ROOT = pathlib.Path("target/criterion")
PEERS = ["ferrosocket", "tungstenite", "fastwebsockets"]


def median_ns(group, lib, size):
    path = ROOT / group / lib / str(size) / "new" / "estimates.json"
    return json.loads(path.read_text())["median"]["point_estimate"]


for group, label in [("server_decode", "decode"), ("server_encode", "encode")]:
    print(f"\n| {label} (server role) | " + " | ".join(f"{p} per message" for p in PEERS)
          + " | vs tungstenite | vs fastwebsockets |")
    print("|---|" + "---|" * (len(PEERS) + 2))
    for size in [16, 1024, 65536, 1048576]:
        count = 10 if size >= 1 << 20 else 100
        times = [median_ns(group, p, size) / count for p in PEERS]
        cells = [f"{t:.0f} ns" if t < 10_000 else f"{t / 1000:.1f} µs" for t in times]
        ratios = [f"{times[i] / times[0]:.2f}×" for i in (1, 2)]
        print(f"| {size} B | " + " | ".join(cells + ratios) + " |")
