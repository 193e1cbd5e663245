"""Foundation benchmark: ticket issue throughput over HTTP, and call-to-socket latency.

Starts a real `motcua demo` server (SQLite, or PostgreSQL with MOTCUA_DATABASE_URL) on
loopback, then:
1. issue throughput: N keep-alive connections POST /api/v1/tickets for a fixed time;
   prints tickets/s and request latency percentiles;
2. call-to-socket latency: C Socket.IO clients connect as displays; for each of K
   calls, the time from sending POST /counters/<n>/call-next to the moment every client has
   received the matching `ticket:called`; prints p50/p99 over all (call, client) receipts
   and over the "received by all" times.

The clients run in one separate asyncio process by default (bench/leanclient.py), so they
take one core and leave the other to the server; `--client python` uses requests threads and
python-socketio's threaded client instead.

Usage: .venv/bin/python bench/bench_core.py [--seconds 10] [--threads 8] [--clients 200] [--calls 100]
       [--client lean|python] [--skip-issue] [--skip-fanout]
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
sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers import DISPLAY_TOKEN, KIOSK_TOKEN, ServerProcess  # noqa: E402

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


def bench_issue_lean(url: str, seconds: float, conns: int) -> dict:
    """The same load from one asyncio process (bench/leanclient.py): the client costs a
    fraction of what 8 requests threads cost, so the server gets the CPU it is measured on."""
    import json
    import multiprocessing as mp

    from leanclient import post_load

    bodies = [json.dumps({"service": f}).encode() for f in FIELDS]
    ctx = mp.get_context("fork")
    a, b = ctx.Pipe()

    def child() -> None:
        r = post_load(url, "/api/v1/tickets", KIOSK_TOKEN, bodies, seconds, conns)
        b.send(r)

    p = ctx.Process(target=child, daemon=True)
    p.start()
    r = a.recv()
    p.join(10)
    total = r["status"].get(201, 0)
    errors = sum(n for code, n in r["status"].items() if code != 201)
    return {"tickets": total, "seconds": r["seconds"], "per_s": total / r["seconds"], "errors": errors,
            "p50_ms": pct(r["lat"], 50) * 1000, "p99_ms": pct(r["lat"], 99) * 1000}


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


def _lean_proc(url: str, n: int, ready, go, out) -> None:
    """A process holding n lean asyncio display clients (bench/leanclient.py)."""
    import asyncio

    from leanclient import hold

    async def main() -> None:
        received: dict[int, list[float]] = {}
        until = asyncio.Event()
        loop = asyncio.get_running_loop()

        async def wait_go() -> None:
            await loop.run_in_executor(None, go.wait)
            until.set()

        waiter = asyncio.create_task(wait_go())
        # Configured display screens: the display device token, as /display/<name> uses.
        dropped = await hold(url, n, received, until, ready=ready.set, auth={"token": DISPLAY_TOKEN})
        await waiter
        out.send(received)
        print(f"  lean clients: {dropped} of {n} connections dropped", flush=True)

    asyncio.run(main())


def bench_fanout(srv: ServerProcess, clients: int, calls: int, procs: int = 1, lean: bool = True) -> dict:
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    go = ctx.Event()
    workers = []
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    for n in per:
        ready = ctx.Event()
        a, b = ctx.Pipe()
        p = ctx.Process(target=_lean_proc if lean else _client_proc, args=(srv.url, n, ready, go, b),
                        daemon=True)
        p.start()
        workers.append((p, ready, a))
    for _p, ready, _a in workers:
        if not ready.wait(120):
            raise RuntimeError("display clients did not connect")
    print(f"  {clients} display clients connected in {procs} processes", flush=True)
    h = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
    s = requests.Session()
    plan = []
    jobs = []
    for k in range(calls):
        n = (k % 3) + 1
        field = {1: "HOTICH", 2: "DATDAI", 3: "LDTBXH"}[n]
        r = s.post(srv.url + "/api/v1/tickets", json={"service": field}, headers=h, timeout=10)
        jobs.append((r.json().get("print_job") or {}).get("job_id"))
        plan.append(n)
    # The kiosk printer prints those tickets in the background (about 12 ms of rendering
    # each); let it finish, so the calls are measured alone, as they happen in an office.
    deadline = time.monotonic() + 120
    for job in filter(None, jobs):
        while time.monotonic() < deadline:
            st = s.get(f"{srv.url}/api/v1/print-jobs/{job}", headers=h, timeout=10).json().get("state")
            if st not in ("queued", "printing"):
                break
            time.sleep(0.1)
    tokens = {n: srv.token(f"quay{n}") for n in (1, 2, 3)}
    sent: dict[int, float] = {}
    answered: list[float] = []
    for n in plan:
        hh = {"Authorization": f"Bearer {tokens[n]}"}
        s.post(f"{srv.url}/api/v1/counters/{n}/finish", headers=hh, timeout=10)
        t0 = time.perf_counter()
        r = s.post(f"{srv.url}/api/v1/counters/{n}/call-next", headers=hh, timeout=10)
        answered.append(time.perf_counter() - t0)
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
            "all_p50_ms": pct(all_received, 50) * 1000, "all_p99_ms": pct(all_received, 99) * 1000,
            "answer_p50_ms": pct(answered, 50) * 1000, "answer_p99_ms": pct(answered, 99) * 1000}


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
    ap.add_argument("--threads", type=int, default=8, help="concurrent issuing connections")
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--procs", type=int, default=1, help="processes holding the display clients")
    ap.add_argument("--client", choices=["lean", "python"], default="lean",
                    help="lean: one asyncio process speaking HTTP/1.1 and WebSocket/Socket.IO itself "
                         "(bench/leanclient.py); python: requests threads and python-socketio's "
                         "threaded client (two threads per connection, heavy on a 2-core machine)")
    ap.add_argument("--skip-issue", action="store_true")
    ap.add_argument("--skip-fanout", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        cfg = bench_config(Path(d) / "bench.toml")
        srv = None if args.skip_issue else ServerProcess(Path(d) / "data", args=["serve", "--config", str(cfg)]).start()
        try:
            if srv is None:
                r = None
            elif args.client == "lean":
                r = bench_issue_lean(srv.url, args.seconds, args.threads)
            else:
                r = bench_issue(srv.url, args.seconds, args.threads)
            if r:
                print(f"issue: {r['tickets']} tickets in {r['seconds']:.1f} s = {r['per_s']:.0f} tickets/s "
                  f"({args.threads} connections, {args.client} client, {r['errors']} errors); request p50 {r['p50_ms']:.1f} ms, "
                  f"p99 {r['p99_ms']:.1f} ms", flush=True)
        finally:
            if srv:
                srv.stop()
        if args.skip_fanout:
            return
        srv = ServerProcess(Path(d) / "data2").start()  # the demo office: accounts with passwords
        try:
            f = bench_fanout(srv, args.clients, args.calls, args.procs, lean=args.client == "lean")
            print(f"call-to-socket: {f['calls']} calls x {f['clients']} clients, {f['missing']} receipts missing; "
                  f"per receipt p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms; "
                  f"received by all p50 {f['all_p50_ms']:.1f} ms, p99 {f['all_p99_ms']:.1f} ms; "
                  f"call-next answered p50 {f['answer_p50_ms']:.1f} ms, p99 {f['answer_p99_ms']:.1f} ms")
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
