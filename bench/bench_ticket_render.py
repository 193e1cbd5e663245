"""Render+encode time and size of a queue ticket, per paper width and mode.

Usage: python bench/bench_ticket_render.py [--runs N] [--markdown]

Targets (80 mm, default profile): <= 16 KB and median <= 30 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drivers.printer.encoder import encode_document  # noqa: E402
from drivers.printer.escpos_raster import find_font  # noqa: E402
from drivers.printer.profile import get_profile  # noqa: E402
from drivers.printer.sample import sample_ticket  # noqa: E402

VARIANTS = [
    ("80mm", {}),
    ("80mm", {"force_raster": True}),
    ("80mm", {"force_raster": True, "native_qr": False}),
    ("58mm", {}),
    ("58mm", {"force_raster": True}),
    ("58mm", {"force_raster": True, "native_qr": False}),
]


def label(name: str, changes: dict) -> str:
    if not changes:
        return f"{name} default (ASCII native, QR native)"
    if changes.get("native_qr") is False:
        return f"{name} all raster (text and QR)"
    return f"{name} raster text, QR native"


def measure(runs: int) -> list[tuple[str, int, float, float, float]]:
    rows = []
    for name, changes in VARIANTS:
        profile = get_profile(name, **changes)
        # First call of each variant: includes loading the font sizes it needs.
        start = time.perf_counter()
        encode_document(sample_ticket(), profile)
        first = (time.perf_counter() - start) * 1000
        times = []
        size = 0
        for i in range(runs):
            doc = sample_ticket(number=str(1005 + i % 50))  # a new document each time
            start = time.perf_counter()
            size = len(encode_document(doc, profile))
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        median = statistics.median(times)
        p90 = times[max(0, int(round(0.9 * len(times))) - 1)]
        rows.append((label(name, changes), size, median, p90, first))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    rows = measure(args.runs)
    print(f"font: {find_font()}  runs: {args.runs}")
    if args.markdown:
        print("| variant | bytes | median ms | p90 ms | first call ms |")
        print("|---|---:|---:|---:|---:|")
        for name, size, median, p90, first in rows:
            print(f"| {name} | {size} | {median:.1f} | {p90:.1f} | {first:.1f} |")
    else:
        for name, size, median, p90, first in rows:
            print(
                f"{name:44s} {size:6d} B  median {median:6.1f} ms  p90 {p90:6.1f} ms"
                f"  first {first:6.1f} ms"
            )
    default_80 = rows[0]
    ok = default_80[1] <= 16 * 1024 and default_80[2] <= 30
    print(f"80 mm targets (<= 16384 B, median <= 30 ms): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
