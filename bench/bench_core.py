"""Foundation benchmark: ticket issue throughput over HTTP, and call-to-socket latency.

Starts a real `motcua demo` server (SQLite, or PostgreSQL with MOTCUA_DATABASE_URL) on
loopback, then:
1. issue throughput: N client threads with keep-alive sessions POST /api/v1/tickets for a
   fixed time; prints tickets/s and request latency percentiles;
2. call-to-socket latency: C python-socketio clients connect as displays; for each of K
   calls, the time from sending POST /counters/<n>/call-next to the moment every client has
   received the matching `ticket:called`; prints p50/p99 over all (call, client) receipts
   and over the "received by all" times.

Usage: .venv/bin/python bench/bench_core.py [--seconds 10] [--threads 8] [--clients 200] [--calls 100]
Bounded: it talks only to 127.0.0.1 and stops by itself.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from helpers import KIOSK_TOKEN, ServerProcess  # noqa: E402

FIELDS = ["HOTICH", "DATDAI", "XAYDUNG", "LDTBXH", "HKD", "TRAKQ"]


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def bench_issue(url: str, seconds: float, threads: int) -> dict:
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    counts = [0] * threads

    def worker(i: int) -> None:
        s = requests.Session()
        h = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
        j = 0
        local: list[float] = []
        while time.monotonic() < stop_at:
            field = FIELDS[(i + j) % len(FIELDS)]
            j += 1
            t0 = time.perf_counter()
            r = s.post(url + "/api/v1/tickets", json={"service": field}, headers=h, timeout=10)
            dt = time.perf_counter() - t0
            if r.status_code == 201:
                counts[i] += 1
                local.append(dt)
            else:
                with lock:
                    errors[0] += 1
        with lock:
            lat.extend(local)

    t0 = time.monotonic()
    ths = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    elapsed = time.monotonic() - t0
    total = sum(counts)
    return {"tickets": total, "seconds": elapsed, "per_s": total / elapsed, "errors": errors[0],
            "p50_ms": pct(lat, 50) * 1000, "p99_ms": pct(lat, 99) * 1000}


def _client_proc(url: str, n: int, ready, go, out) -> None:
    """A process holding n display clients; sends back {ticket_id: [receipt times]}."""
    received: dict[int, list[float]] = {}
    lock = threading.Lock()

    def on_called(data):
        now = time.perf_counter()  # CLOCK_MONOTONIC: comparable across processes
        with lock:
            received.setdefault(data["ticket_id"], []).append(now)

    socks = []
    for _ in range(n):
        c = socketio.Client(reconnection=False)
        c.on("ticket:called", on_called)
        c.connect(url, transports=["websocket"], wait_timeout=30)
        socks.append(c)
    ready.set()
    go.wait()
    with lock:
        out.send(received)
    for c in socks:
        c.disconnect()


def bench_fanout(srv: ServerProcess, clients: int, calls: int, procs: int = 4) -> dict:
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    go = ctx.Event()
    workers = []
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    for n in per:
        ready = ctx.Event()
        a, b = ctx.Pipe()
        p = ctx.Process(target=_client_proc, args=(srv.url, n, ready, go, b), daemon=True)
        p.start()
        workers.append((p, ready, a))
    for _p, ready, _a in workers:
        if not ready.wait(120):
            raise RuntimeError("display clients did not connect")
    print(f"  {clients} display clients connected in {procs} processes", flush=True)
    h = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
    s = requests.Session()
    plan = []
    for k in range(calls):
        n = (k % 3) + 1
        field = {1: "HOTICH", 2: "DATDAI", 3: "LDTBXH"}[n]
        s.post(srv.url + "/api/v1/tickets", json={"service": field}, headers=h, timeout=10)
        plan.append(n)
    tokens = {n: srv.token(f"quay{n}") for n in (1, 2, 3)}
    sent: dict[int, float] = {}
    for n in plan:
        hh = {"Authorization": f"Bearer {tokens[n]}"}
        s.post(f"{srv.url}/api/v1/counters/{n}/finish", headers=hh, timeout=10)
        t0 = time.perf_counter()
        r = s.post(f"{srv.url}/api/v1/counters/{n}/call-next", headers=hh, timeout=10)
        tk = r.json()["ticket"]
        if tk is not None:
            sent[tk["id"]] = t0
        time.sleep(0.25)  # one call at a time, as a counter would
    time.sleep(2)
    go.set()
    received: dict[int, list[float]] = {}
    for p, _ready, a in workers:
        part = a.recv() if a.poll(60) else {}
        for tid, times in part.items():
            received.setdefault(tid, []).extend(times)
        p.join(10)
    per_receipt: list[float] = []
    all_received: list[float] = []
    for tid, t0 in sent.items():
        times = received.get(tid, [])
        per_receipt.extend(t - t0 for t in times)
        if len(times) >= clients:
            all_received.append(max(times) - t0)
    missing = sum(max(0, clients - len(received.get(tid, []))) for tid in sent)
    return {"clients": clients, "calls": len(sent), "missing": missing,
            "p50_ms": pct(per_receipt, 50) * 1000, "p99_ms": pct(per_receipt, 99) * 1000,
            "all_p50_ms": pct(all_received, 50) * 1000, "all_p99_ms": pct(all_received, 99) * 1000}


def bench_config(path: Path) -> Path:
    """The demo office without daily caps (a benchmark issues thousands of tickets)."""
    import re

    from config import sample_path

    text = sample_path("commune").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^daily_cap = \d+\n", "", text)
    text = text.replace("always_open = false", "always_open = true")
    # The queue alone: no hardware (printing has its own bench: bench_ticket_render.py).
    head, sep, devices = text.partition("[[devices]]")
    text = head + '[[devices]]\nname = "kiosk-1"\nkind = "kiosk"\ntoken = "demo-kiosk-token-0001-doi-khi-trien-khai"\n'

    starts = iter(range(1, 7))
    text = re.sub(r'numbering = \{ mode = "block", start = \d+ \}',
                  lambda m: f'numbering = {{ mode = "prefix", prefix = "{"ABCDEF"[next(starts) - 1]}", width = 5 }}', text)
    path.write_text(text.replace("{data}", str(path.parent)), encoding="utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--procs", type=int, default=4, help="processes holding the display clients")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        cfg = bench_config(Path(d) / "bench.toml")
        srv = ServerProcess(Path(d) / "data", args=["serve", "--config", str(cfg)]).start()
        try:
            r = bench_issue(srv.url, args.seconds, args.threads)
            print(f"issue: {r['tickets']} tickets in {r['seconds']:.1f} s = {r['per_s']:.0f} tickets/s "
                  f"({args.threads} client threads, {r['errors']} errors); request p50 {r['p50_ms']:.1f} ms, "
                  f"p99 {r['p99_ms']:.1f} ms", flush=True)
        finally:
            srv.stop()
        srv = ServerProcess(Path(d) / "data2").start()  # the demo office: accounts with passwords
        try:
            f = bench_fanout(srv, args.clients, args.calls, args.procs)
            print(f"call-to-socket: {f['calls']} calls x {f['clients']} clients, {f['missing']} receipts missing; "
                  f"per receipt p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms; "
                  f"received by all p50 {f['all_p50_ms']:.1f} ms, p99 {f['all_p99_ms']:.1f} ms")
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
