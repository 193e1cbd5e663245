"""Load bench of the several-process set-up (issue 16): two `motcua serve` processes on one
PostgreSQL and one Redis channel (both private, started here), behind Debian's nginx
(tests/cluster.py, the configuration of docs/deployment.md) or reached directly (`--direct`).

1. Fan-out: `--phones` citizens' phone pages and `--tvs` displays (display token) connect,
   spread over both processes. Each phone holds a ticket taken before (in the counters' fields)
   and connects as the phone page does, with that ticket's token: it gets `ticket:called` and
   its own `ticket:update`, not the whole queue state (`--anonymous-phones`: anonymous clients
   in the `public` room instead, as phone pages were before); the tickets still waiting are
   cancelled after the calls; `--counters` counters call one after the other, alternately through each
   process, with call-next (which finishes the visit before it, as the console's button does;
   `--finish-first` sends a separate finish just before each call, as two keypad keys pressed
   at once would, so the finish's queue state is still going out). For every call: the time from sending call-next to its `ticket:called` at every
   client (p50/p99 per receipt, p99 of "received by all"), receipts missing, clients dropped.
   The clients are bench/leanclient.py's asyncio clients, in `--client-procs` processes; behind
   nginx each connects from its own loopback address (127.0.i.9), so ip_hash spreads them.
   Like browsers, they offer per-message compression (`--no-deflate`: they do not); the line
   says how many connections the server compressed. CPU used per call by each server, the
   clients, PostgreSQL, Redis and nginx (from /proc) is printed too.
2. Memory: each server process's RSS idle, with every client connected, after the busy day.
3. A busy day: `--day-tickets` tickets issued by 4 kiosks while `--day-counters` counters
   call, finish (every 10th: no-show) until the queue is empty (a counter that found nobody
   asks again after `--idle-s`, 0.5 s: a clerk, or a console told by `queue:state`, not a
   tight loop of requests); wall time, and
   /api/v1/reports/summary compared with what the script did (issued, served, no-show per
   field; the difference over the day must be exact).

Usage (run as root or as a user that may run initdb; nginx, redis-server, postgresql installed):
  .venv/bin/python bench/load/run.py --quick            # small: 100 phones, 4 TVs, 300 tickets
  .venv/bin/python bench/load/run.py                    # issue 16: 1,000 phones, 20 TVs, 50 counters, 3,000 tickets
Bounded: loopback only, stops by itself, leaves nothing running.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
from bench_core import FIELDS, bench_config, pct  # noqa: E402
from cluster import TEST_CLIENT_HEADER, Nginx, PrivatePostgres, PrivateRedis  # noqa: E402
from helpers import DISPLAY_TOKEN, KIOSK_TOKEN, ServerProcess  # noqa: E402

ADMIN_PASSWORD = "bench-" + secrets.token_hex(6)


def office_file(path: Path, counters: int) -> Path:
    """bench_core's office (no caps, prefix numbers A..F, only the kiosk device) plus a display
    token and counters 5..N, counter n serving field FIELDS[(n - 1) % 6]."""
    bench_config(path)
    text = path.read_text(encoding="utf-8")
    text += f'\n[[devices]]\nname = "tv"\nkind = "display"\ntoken = "{DISPLAY_TOKEN}"\n'
    for n in range(5, counters + 1):
        text += f'\n[[counters]]\nnumber = {n}\nname = "Quầy {n}"\nfields = ["{FIELDS[(n - 1) % len(FIELDS)]}"]\n'
    path.write_text(text, encoding="utf-8")
    return path


def counter_field(n: int) -> str:
    return {1: "HOTICH", 2: "DATDAI", 3: "LDTBXH", 4: "TRAKQ"}.get(n) or FIELDS[(n - 1) % len(FIELDS)]


def rss_mb(srv: ServerProcess) -> float:
    for line in Path(f"/proc/{srv.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_name(names: tuple[str, ...]) -> dict[str, float]:
    """CPU seconds used so far by every process of these names (PostgreSQL's backends, Redis, nginx)."""
    out = dict.fromkeys(names, 0.0)
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            comm = (d / "comm").read_text().strip()
        except OSError:
            continue
        for n in names:
            if comm.startswith(n):
                out[n] += cpu_s(int(d.name))
    return out


class Office:
    """The two processes and how to reach each: through nginx (a client address per process)
    or directly."""

    def __init__(self, tmp: Path, counters: int, direct: bool):
        self.tmp, self.direct = tmp, direct
        self.pg = self.redis = self.nginx = None
        self.servers: list[ServerProcess] = []
        try:
            self._start(counters)
        except BaseException:
            self.stop()  # never leave a PostgreSQL or a server behind
            raise

    def _start(self, counters: int) -> None:
        tmp, direct = self.tmp, self.direct
        self.pg = PrivatePostgres()
        self.pg.init()
        self.redis = PrivateRedis()
        self.redis.start()
        cfg = office_file(tmp / "office.toml", counters)
        env = {"MOTCUA_DATABASE_URL": self.pg.url, "MOTCUA_MESSAGE_QUEUE": self.redis.url,
               "MOTCUA_MESSAGE_QUEUE_CHANNEL": "motcua-bench", "MOTCUA_SECRET_KEY": secrets.token_hex(32),
               "MOTCUA_VOICE_GENERATE": "0"}
        if not direct:
            env["MOTCUA_TRUSTED_PROXIES"] = "1"
        self.env = env
        self.servers = [ServerProcess(tmp / f"proc{i}", env=env, args=["serve", "--config", str(cfg)]) for i in range(2)]
        self.servers[0].start(60)
        import subprocess

        subprocess.run([sys.executable, "-m", "motcua.cli", "user", "add", "admin", "--role", "admin",
                        "--password", ADMIN_PASSWORD, "--config", str(cfg), "--data", str(tmp / "proc0")],
                       env={**self.servers[0].env}, cwd=str(ROOT), check=True, capture_output=True)
        self.servers[1].start(60)
        self.ips = [None, None]
        if not direct:
            self.nginx = Nginx(tmp / "nginx", [s.port for s in self.servers], worker_connections=8192,
                               workers="auto")  # as Debian's nginx.conf
            self.nginx.start()
            self.ips = [self.nginx.client_ip_for(s.port) for s in self.servers]
        self.token = requests.post(self.url(0) + "/api/v1/auth/token", headers=self.headers(0), timeout=30,
                                   json={"username": "admin", "password": ADMIN_PASSWORD}).json()["token"]

    def url(self, i: int) -> str:
        return self.nginx.url if self.nginx else self.servers[i % 2].url

    def headers(self, i: int, **extra) -> dict:
        h = {TEST_CLIENT_HEADER: self.ips[i % 2]} if self.nginx else {}
        return {**h, **extra}

    def client_targets(self) -> tuple[list[str], list[str] | None]:
        """Where the socket clients connect: the proxy from many source addresses, or both processes."""
        if self.nginx:
            return [self.nginx.url], [f"127.0.{i}.9" for i in range(1, 201)]
        return [s.url for s in self.servers], None

    def stop(self) -> None:
        if self.nginx:
            self.nginx.stop()
        for s in self.servers:
            s.stop()
        if self.redis:
            self.redis.stop()
        if self.pg:
            self.pg.destroy()


# 1. Fan-out ---------------------------------------------------------------------------------
def _clients_proc(urls, sources, phones: int, tvs: int, ready, go, out, phone_auths=None, deflate=True) -> None:
    from leanclient import hold

    async def main() -> None:
        received: dict[int, list[float]] = {}
        until = asyncio.Event()
        loop = asyncio.get_running_loop()
        left = [2]

        def one_ready():
            left[0] -= 1
            if left[0] == 0:
                ready.set()

        async def wait_go() -> None:
            await loop.run_in_executor(None, go.wait)
            until.set()

        waiter = asyncio.create_task(wait_go())
        stats: dict = {}
        dropped = await asyncio.gather(
            hold(urls[0], phones, received, until, ready=one_ready, urls=urls, sources=sources, auths=phone_auths,
                 stats=stats, deflate=deflate),
            hold(urls[0], tvs, received, until, ready=one_ready, auth={"token": DISPLAY_TOKEN}, urls=urls,
                 sources=sources[::-1] if sources else None, stats=stats, deflate=deflate))
        await waiter
        out.send((received, sum(dropped), stats))

    asyncio.run(main())


def fanout(office: Office, phones: int, tvs: int, counters: int, calls: int, procs: int,
           finish_first: bool = False, anonymous_phones: bool = False, deflate: bool = True) -> dict:
    ctx = mp.get_context("fork")
    go = ctx.Event()
    urls, sources = office.client_targets()
    held: list[dict] = []  # the phones' tickets
    if not anonymous_phones:
        s = requests.Session()
        for k in range(phones):
            r = s.post(office.url(k) + "/api/v1/tickets", json={"service": counter_field(k % counters + 1)},
                       timeout=30, headers=office.headers(k, Authorization=f"Bearer {KIOSK_TOKEN}"))
            r.raise_for_status()
            held.append(r.json())
    workers = []
    for i in range(procs):
        ready = ctx.Event()
        a, b = ctx.Pipe()
        srcs = sources[i::procs] if sources else None
        auths = [{"ticket": t["token"]} for t in held[i:phones:procs]] if held else None
        p = ctx.Process(target=_clients_proc, daemon=True, args=(
            urls, srcs, phones // procs + (i < phones % procs), tvs // procs + (i < tvs % procs), ready, go, b,
            auths, deflate))
        p.start()
        workers.append((p, ready, a))
    t0 = time.monotonic()
    for _p, ready, _a in workers:
        if not ready.wait(600):
            raise RuntimeError("the socket clients did not connect")
    connect_s = time.monotonic() - t0
    clients = phones + tvs
    print(f"  {clients} clients connected in {connect_s:.1f} s ({procs} client processes)", flush=True)
    rss_connected = [rss_mb(s) for s in office.servers]
    s = requests.Session()
    plan = [(k % counters) + 1 for k in range(calls)]
    for n in plan:  # one waiting ticket per call, in the counter's field
        r = s.post(office.url(n) + "/api/v1/tickets", json={"service": counter_field(n)}, timeout=30,
                   headers=office.headers(n, Authorization=f"Bearer {KIOSK_TOKEN}"))
        r.raise_for_status()
        held.append(r.json())  # (called, or cancelled after the calls)
    time.sleep(2)  # the issue states reach every client before the calls are measured
    sent: dict[int, float] = {}
    answered: list[float] = []
    others = ("postgres", "redis-server", "nginx")
    cpu0 = ([cpu_s(x.proc.pid) for x in office.servers], [cpu_s(p.pid) for p, _r, _a in workers], cpu_by_name(others))
    for k, n in enumerate(plan):
        h = office.headers(k, Authorization=f"Bearer {office.token}")
        if finish_first:  # a separate finish just before: its queue state is still going out
            s.post(f"{office.url(k)}/api/v1/counters/{n}/finish", headers=h, timeout=30)
        t0 = time.perf_counter()
        r = s.post(f"{office.url(k)}/api/v1/counters/{n}/call-next", timeout=30,
                   headers={**h, "Idempotency-Key": uuid.uuid4().hex})
        answered.append(time.perf_counter() - t0)
        tk = r.json().get("ticket")
        if tk:
            sent[tk["id"]] = t0
        time.sleep(0.25)  # one call at a time, as counters do
    time.sleep(1)  # the last call's fan-out and phone-page round
    cpu1 = ([cpu_s(x.proc.pid) for x in office.servers], [cpu_s(p.pid) for p, _r, _a in workers], cpu_by_name(others))
    per_call = max(1, len(sent)) / 1000  # CPU seconds -> ms per call
    cpu_ms = {"servers": [(b - a) / per_call for a, b in zip(cpu0[0], cpu1[0])],
              "clients": sum(cpu1[1]) / per_call - sum(cpu0[1]) / per_call,
              **{n: (cpu1[2][n] - cpu0[2][n]) / per_call for n in others}}
    for n in sorted(set(plan)):  # the citizens called last are served: the day starts clean
        s.post(f"{office.url(0)}/api/v1/counters/{n}/finish", timeout=30,
               headers=office.headers(0, Authorization=f"Bearer {office.token}")).raise_for_status()
    time.sleep(2)
    go.set()
    received: dict[int, list[float]] = {}
    dropped = 0
    stats = {"bytes": 0, "updates": 0, "compressed": 0}
    for p, _ready, a in workers:
        part, d, st = a.recv() if a.poll(120) else ({}, 0, {})
        dropped += d
        for key in stats:
            stats[key] += st.get(key, 0)
        for tid, times in part.items():
            received.setdefault(tid, []).extend(times)
        p.join(10)
    for t in held:  # the tickets not called: cancelled, so the busy day starts with none waiting
        r = s.post(f"{office.url(0)}/api/v1/tickets/{t['id']}/cancel", json={"reason": "bench"}, timeout=30,
                   headers=office.headers(0, Authorization=f"Bearer {office.token}"))
        if r.status_code not in (200, 409):
            r.raise_for_status()
    per_receipt, by_all = [], []
    for tid, t0 in sent.items():
        times = received.get(tid, [])
        per_receipt.extend(t - t0 for t in times)
        if len(times) >= clients:
            by_all.append(max(times) - t0)
    missing = sum(max(0, clients - len(received.get(tid, []))) for tid in sent)
    return {"clients": clients, "calls": len(sent), "missing": missing, "dropped": dropped, "connect_s": connect_s,
            "p50_ms": pct(per_receipt, 50) * 1000, "p99_ms": pct(per_receipt, 99) * 1000,
            "all_p50_ms": pct(by_all, 50) * 1000, "all_p99_ms": pct(by_all, 99) * 1000,
            "answer_p99_ms": pct(answered, 99) * 1000, "rss_connected": rss_connected,
            "mb_per_call": stats["bytes"] / max(1, len(sent)) / 1e6, "phone_updates": stats["updates"],
            "compressed": stats["compressed"], "cpu_ms_per_call": cpu_ms}


# 3. A busy day ------------------------------------------------------------------------------
def _summary(office: Office) -> dict[str, dict]:
    r = requests.get(office.url(0) + "/api/v1/reports/summary", timeout=60,
                     headers=office.headers(0, Authorization=f"Bearer {office.token}"))
    r.raise_for_status()
    return {s["code"]: s for s in r.json()["services"]}


def busy_day(office: Office, tickets: int, counters: int, idle_s: float = 0.5) -> dict:
    before = _summary(office)
    issued, served, no_show = Counter(), Counter(), Counter()
    errors: list[str] = []
    lock = threading.Lock()
    issuing_done = threading.Event()
    plan = [FIELDS[k % len(FIELDS)] for k in range(tickets)]

    def kiosk(i: int) -> None:
        s = requests.Session()
        for j, field in enumerate(plan[i::4]):
            r = s.post(office.url(i + j) + "/api/v1/tickets", json={"service": field}, timeout=30,
                       headers=office.headers(i + j, Authorization=f"Bearer {KIOSK_TOKEN}"))
            with lock:
                (issued.update([field]) if r.status_code == 201 else errors.append(f"issue {r.status_code}"))

    def counter(n: int) -> None:
        s = requests.Session()
        empty = 0
        k = 0
        while True:
            k += 1
            h = office.headers(n + k, Authorization=f"Bearer {office.token}")
            r = s.post(f"{office.url(n + k)}/api/v1/counters/{n}/call-next", timeout=30,
                       headers={**h, "Idempotency-Key": uuid.uuid4().hex})
            if r.status_code != 200:
                with lock:
                    errors.append(f"call {r.status_code} {r.text[:100]}")
                return
            tk = r.json()["ticket"]
            if tk is None:
                empty += 1
                if issuing_done.is_set() and empty >= 3:
                    return
                time.sleep(idle_s)
                continue
            empty = 0
            action = "no-show" if tk["id"] % 10 == 0 else "finish"
            f = s.post(f"{office.url(n + k + 1)}/api/v1/counters/{n}/{action}", headers=h, timeout=30)
            with lock:
                if f.status_code != 200:
                    errors.append(f"{action} {f.status_code} {f.text[:100]}")
                else:
                    (no_show if action == "no-show" else served).update([tk["service"]])

    t0 = time.monotonic()
    kiosks = [threading.Thread(target=kiosk, args=(i,)) for i in range(4)]
    desks = [threading.Thread(target=counter, args=(n,)) for n in range(1, counters + 1)]
    for th in kiosks + desks:
        th.start()
    for th in kiosks:
        th.join()
    issuing_done.set()
    for th in desks:
        th.join()
    wall = time.monotonic() - t0
    after = _summary(office)
    mismatches = []
    for code in FIELDS:
        for key, ours in (("issued", issued), ("served", served), ("no_show", no_show)):
            got = after.get(code, {}).get(key, 0) - before.get(code, {}).get(key, 0)
            if got != ours[code]:
                mismatches.append(f"{code}.{key}: report {got}, script {ours[code]}")
    return {"tickets": sum(issued.values()), "served": sum(served.values()), "no_show": sum(no_show.values()),
            "seconds": wall, "errors": errors[:5], "n_errors": len(errors), "mismatches": mismatches}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small run (100 phones, 4 TVs, 10 counters, 300 tickets)")
    ap.add_argument("--direct", action="store_true", help="clients reach the two processes directly, no nginx")
    ap.add_argument("--phones", type=int, default=1000)
    ap.add_argument("--tvs", type=int, default=20)
    ap.add_argument("--counters", type=int, default=50)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--client-procs", type=int, default=2)
    ap.add_argument("--day-tickets", type=int, default=3000)
    ap.add_argument("--day-counters", type=int, default=20)
    ap.add_argument("--finish-first", action="store_true",
                    help="each call preceded by a separate finish request (the console's call-next finishes by itself)")
    ap.add_argument("--anonymous-phones", action="store_true",
                    help="phones as anonymous clients getting the whole queue state (phone pages before ticket:update)")
    ap.add_argument("--idle-s", type=float, default=0.5, help="a counter that found nobody asks again after this")
    ap.add_argument("--no-deflate", action="store_true",
                    help="clients do not offer per-message compression (browsers do; the default offers it)")
    ap.add_argument("--skip-day", action="store_true", help="the fan-out only, no busy day")
    args = ap.parse_args()
    if args.quick:
        args.phones, args.tvs, args.counters, args.calls, args.day_tickets = 100, 4, 10, 20, 300
    if not args.direct and not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        sys.exit("nginx is not installed (apt-get install nginx), or use --direct")
    tmp = Path(tempfile.mkdtemp(prefix="motcua-load-"))
    office = Office(tmp, max(args.counters, args.day_counters), args.direct)
    try:
        how = "direct to both processes" if args.direct else "through nginx (ip_hash) to both processes"
        print(f"two `motcua serve` processes on PostgreSQL + Redis, clients {how}", flush=True)
        idle = [rss_mb(s) for s in office.servers]
        f = fanout(office, args.phones, args.tvs, args.counters, args.calls, args.client_procs, args.finish_first,
                   args.anonymous_phones, not args.no_deflate)
        print(f"fan-out: {f['calls']} calls x {f['clients']} clients ({args.phones} phones, {args.tvs} TVs, "
              f"{args.counters} counters): {f['missing']} receipts missing, {f['dropped']} clients dropped; "
              f"per receipt p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms; received by all "
              f"p50 {f['all_p50_ms']:.1f} ms, p99 {f['all_p99_ms']:.1f} ms; call-next answered p99 "
              f"{f['answer_p99_ms']:.1f} ms; clients received {f['mb_per_call']:.2f} MB per call (after connecting, "
              f"issues included), {f['phone_updates']} ticket:update to phones; "
              f"{f['compressed']} of {f['clients']} connections compressed by the server"
              + ("" if not args.no_deflate else " (clients did not offer compression)"), flush=True)
        c = f["cpu_ms_per_call"]
        print("CPU per call (the calls, with 0.25 s between them, and what they set off): servers "
              + " / ".join(f"{x:.1f}" for x in c["servers"]) + f" ms, socket clients {c['clients']:.1f} ms, "
              f"PostgreSQL {c['postgres']:.1f} ms, Redis {c['redis-server']:.1f} ms, nginx {c['nginx']:.1f} ms",
              flush=True)
        d = None if args.skip_day else busy_day(office, args.day_tickets, args.day_counters, args.idle_s)
        end = [rss_mb(s) for s in office.servers]
        if d:
            print(f"busy day: {d['tickets']} tickets, {args.day_counters} counters: {d['served']} served, "
                  f"{d['no_show']} no-shows in {d['seconds']:.1f} s; {d['n_errors']} errors {d['errors']}; report "
                  + ("exact" if not d["mismatches"] else f"MISMATCH {d['mismatches']}"), flush=True)
        for i in range(2):
            print(f"server process {i + 1} RSS: idle {idle[i]:.0f} MB, {f['clients']} clients connected "
                  f"{f['rss_connected'][i]:.0f} MB, " + (f"after the day {end[i]:.0f} MB" if d else f"at the end {end[i]:.0f} MB"))
        print(json.dumps({"fanout": f, "day": d, "rss_idle": idle, "rss_end": end}, default=str))
    finally:
        office.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
