"""Report benchmark: a busy office's quarter (50,000 tickets) and the report page's answer time.

Seeds a database with one quarter of a province centre (the `province` sample): tickets,
their events (issue, call, start, finish, no-show, recall, transfer, cancel), visits and
ratings, written with bulk inserts; then times, in-process through Flask's test client (no
network; the figures include the WSGI stack, authentication and the JSON encoding):

1. **first report ever**: ``--cold`` times, the folder of kept per-day facts
   (``<data>/reports``) is deleted and a fresh app times its first
   GET /api/v1/reports/summary?from=..&to=.. (the JSON the page draws; administrator): every
   day is worked out from the events;
2. **first load after a restart**: ``--restarts`` times, a fresh app (nothing in memory; the
   per-day facts on disk) times its first, then its second such request;
3. on the last app, ``--repeat`` times each: that JSON again, GET /admin/reports (the page
   itself, signed in), the same JSON for one staff member (their counter only), and the
   XLSX and CSV downloads.

Medians (and best) are printed, with the load average before and after, since the figures
mean little without it.

Databases:
- ``--database sqlite`` (default): a temporary folder, or ``--data-dir DIR`` (kept; a folder
  already seeded by this script is reused, so before/after runs time the same rows);
- ``--database postgresql``: creates its own database ``motcua_bench_reports_<random>`` on the
  server of ``--pg-admin-url`` (default: MOTCUA_TEST_PG_URL, as exported by scripts/test.sh, a
  URL of a role allowed to CREATE DATABASE) and drops it at the end (``--keep`` keeps it);
- ``--database-url URL``: an existing database (empty, or seeded by this script: reused).

Usage: .venv/bin/python bench/bench_reports.py [--database sqlite|postgresql] [--tickets 50000]
       [--cold 3] [--restarts 5] [--repeat 5] [--data-dir DIR] [--database-url URL] [--keep]
"""
from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
Q_START, Q_END = date(2026, 7, 1), date(2026, 9, 30)
LEVELS = ("very_satisfied", "very_satisfied", "satisfied", "satisfied", "satisfied", "unsatisfied")


def working_days(cfg) -> list[date]:
    days, d = [], Q_START
    holidays = set(cfg.hours.holidays)
    while d <= Q_END:
        if d.weekday() < 5 and d not in holidays:
            days.append(d)
        d += timedelta(days=1)
    return days


def seed(store, cfg, n_tickets: int, seed_value: int = 12) -> dict[str, int]:
    """Bulk-insert a quarter: returns counts of what was written."""
    from sqlalchemy import select

    from motcua.store import tables as t

    rng = random.Random(seed_value)
    days = working_days(cfg)
    fields = [f.code for f in cfg.fields]
    by_field = {f: [c.number for c in cfg.counters if f in c.fields] or [1] for f in fields}
    with store.read() as conn:
        staff_of = {}
        for r in conn.execute(select(t.users.c.id, t.users.c.counters, t.users.c.role)):
            for n in r.counters or []:
                staff_of.setdefault(n, r.id)
    per_day = n_tickets // len(days)
    extra = n_tickets - per_day * len(days)
    tickets, events, visits, ratings = [], [], [], []
    tid = vid = eid = 0
    counts = {"tickets": 0, "ticket_events": 0, "visits": 0, "ratings": 0}

    def flush(conn) -> None:
        for table, rows in ((t.tickets, tickets), (t.visits, visits), (t.ticket_events, events),
                            (t.ratings, ratings)):
            if rows:
                conn.execute(table.insert(), rows)
                counts[table.name] = counts.get(table.name, 0) + len(rows)
                rows.clear()

    for di, day in enumerate(days):
        n_day = per_day + (1 if di < extra else 0)
        open_at = datetime.combine(day, dtime(7, 0), tzinfo=HANOI).astimezone(timezone.utc)
        seqs: dict[str, int] = {}
        for _ in range(n_day):
            tid += 1
            field = rng.choice(fields)
            seqs[field] = seqs.get(field, 0) + 1
            # Arrivals over the day: most in the morning, a lunch gap (11:30-13:30).
            minute = rng.choice((rng.uniform(0, 270), rng.uniform(0, 270), rng.uniform(390, 600)))
            issued = open_at + timedelta(minutes=minute)
            counter = rng.choice(by_field[field])
            staff = staff_of.get(counter)
            at = issued
            seq = 0

            def ev(action, to_status, when, *, fld=field, ctr=None, st=None, visit=None, detail=None):
                nonlocal eid, seq
                eid += 1
                seq += 1
                events.append({"id": eid, "ticket_id": tid, "seq": tid * 10 + seq, "at": when,
                               "business_date": day, "action": action, "from_status": None,
                               "to_status": to_status, "field": fld, "counter": ctr, "staff_id": st,
                               "visit_id": visit, "priority": None, "detail": detail})

            ev("issue", "waiting", at, detail={"source": "kiosk"})
            roll = rng.random()
            status, final_counter, final_visit = "done", counter, None
            if roll < 0.02:
                at += timedelta(minutes=rng.uniform(1, 20))
                ev("cancel", "cancelled", at)
                status, final_counter = "cancelled", None
            else:
                at += timedelta(minutes=rng.expovariate(1 / 14))
                vid += 1
                visit = vid
                ev("call", "called", at, ctr=counter, st=staff, visit=visit)
                called = at
                if rng.random() < 0.08:
                    at += timedelta(seconds=40)
                    ev("recall", "called", at, ctr=counter, st=staff, visit=visit)
                if roll < 0.07:
                    at += timedelta(minutes=2)
                    ev("no_show", "no_show", at, ctr=counter, st=staff, visit=visit)
                    visits.append({"id": visit, "ticket_id": tid, "business_date": day, "field": field,
                                   "counter": counter, "staff_id": staff, "called_at": called, "started_at": None,
                                   "ended_at": at, "outcome": "no_show", "dossiers": None})
                    status = "no_show"
                else:
                    if roll < 0.10:  # transferred to another field, served there
                        to_field = rng.choice([f for f in fields if f != field])
                        at += timedelta(minutes=rng.uniform(1, 5))
                        ev("transfer", "waiting", at, ctr=counter, st=staff, visit=visit,
                           detail={"from_field": field, "to_field": to_field})
                        visits.append({"id": visit, "ticket_id": tid, "business_date": day, "field": field,
                                       "counter": counter, "staff_id": staff, "called_at": called,
                                       "started_at": None, "ended_at": at, "outcome": "transferred",
                                       "dossiers": None})
                        field, counter = to_field, rng.choice(by_field[to_field])
                        staff = staff_of.get(counter)
                        at += timedelta(minutes=rng.expovariate(1 / 8))
                        vid += 1
                        visit = vid
                        ev("call", "called", at, fld=field, ctr=counter, st=staff, visit=visit)
                        called = at
                    manual = rng.random() < 0.6
                    if manual:
                        at += timedelta(seconds=rng.uniform(20, 90))
                    ev("start", "serving", at, fld=field, ctr=counter, st=staff, visit=visit,
                       detail=None if manual else {"auto": True})
                    started = at
                    at += timedelta(minutes=rng.expovariate(1 / 7))
                    ev("finish", "done", at, fld=field, ctr=counter, st=staff, visit=visit)
                    visits.append({"id": visit, "ticket_id": tid, "business_date": day, "field": field,
                                   "counter": counter, "staff_id": staff, "called_at": called,
                                   "started_at": started, "ended_at": at, "outcome": "done", "dossiers": None})
                    if rng.random() < 0.35:
                        level = rng.choice(LEVELS)
                        ratings.append({"visit_id": visit, "ticket_id": tid, "business_date": day, "level": level,
                                        "reasons": ["wait_long"] if level == "unsatisfied" else None,
                                        "comment": "", "field": field, "counter": counter, "staff_id": staff,
                                        "source": "bench", "at": at})
                final_counter, final_visit = counter, visit
            tickets.append({"id": tid, "token": f"b{tid:011d}", "business_date": day, "issue_field": field,
                            "seq": 0, "number": "", "field": field, "priority": None, "status": status,
                            "counter": final_counter, "target_counter": None, "staff_id": None,
                            "visit_id": final_visit, "source": "kiosk", "dossier_code": None,
                            "issued_at": issued, "queued_at": issued, "called_at": None, "recalls": 0,
                            "updated_at": at})
        # numbers: unique per (issue_field, day); the issue field is the first event's field
        first_field: dict[int, str] = {}
        for e in events:
            if e["action"] == "issue":
                first_field[e["ticket_id"]] = e["field"]
        per: dict[str, int] = {}
        for tk in tickets:
            f = first_field[tk["id"]]
            per[f] = per.get(f, 0) + 1
            tk["issue_field"], tk["seq"], tk["number"] = f, per[f], f"{f[:1]}{per[f]:03d}"
        with store.write() as conn:
            flush(conn)
    return counts


def timed(fn, repeat: int) -> tuple[float, float, object]:
    out, times = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), out


def _load() -> str:
    try:
        return "%.1f %.1f %.1f" % os.getloadavg()
    except OSError:
        return "?"


def _pg_database(admin_url: str) -> tuple[str, str]:
    """Create an empty database next to *admin_url*'s; (its URL, its name)."""
    import psycopg

    name = "motcua_bench_reports_" + secrets.token_hex(4)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{admin_url.rsplit('/', 1)[0]}/{name}", name


def _pg_drop(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _seeded(store) -> int:
    from sqlalchemy import func, select

    from motcua.store import tables as t

    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(t.tickets)
                                .where(t.tickets.c.business_date.between(Q_START, Q_END))).scalar_one())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cold", type=int, default=3, help="fresh apps timed with no per-day facts kept")
    ap.add_argument("--restarts", type=int, default=5, help="fresh apps timed on their first report")
    ap.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--database-url", default="", help="an existing database (empty, or seeded by this script)")
    ap.add_argument("--pg-admin-url", default=os.environ.get("MOTCUA_TEST_PG_URL", ""))
    ap.add_argument("--data-dir", default="", help="SQLite: a folder to keep (reused when already seeded)")
    ap.add_argument("--keep", action="store_true", help="keep the database made for the run")
    args = ap.parse_args()

    from config import load_config, sample_path
    from motcua.app import Settings, create_app

    cfg = load_config(sample_path("province"))
    data = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="motcua-bench-reports-"))
    data.mkdir(parents=True, exist_ok=True)
    url, pg_name = args.database_url, None
    if not url and args.database == "postgresql":
        if not args.pg_admin_url:
            ap.error("--database postgresql needs --pg-admin-url or MOTCUA_TEST_PG_URL (see scripts/test.sh)")
        url, pg_name = _pg_database(args.pg_admin_url)

    def new_app():
        return create_app(Settings(config=cfg, data_dir=data, database_url=url, testing=True,
                                   start_devices=False, background_jobs=False))

    password = "bench-password-1"
    q = f"?from={Q_START}&to={Q_END}"
    try:
        app = new_app()
        svc = app.extensions["motcua"]
        db = svc.store.engine.dialect.name
        have = _seeded(svc.store)
        if have:
            print(f"database: {db}; reusing {have} tickets already seeded")
        else:
            t0 = time.perf_counter()
            counts = seed(svc.store, cfg, args.tickets)
            print(f"database: {db}; seeded {counts} in {time.perf_counter() - t0:.1f} s "
                  f"({len(working_days(cfg))} working days, {Q_START} .. {Q_END})")
        for user in ("admin", "quay1"):
            svc.auth.set_password(user, password)
        svc.close()
        print(f"load average before: {_load()}")

        def signed_in(app) -> tuple[object, dict, dict]:
            client = app.test_client()
            heads = {}
            for user in ("admin", "quay1"):
                r = client.post("/api/v1/auth/token", json={"username": user, "password": password})
                heads[user] = ({"Authorization": f"Bearer {r.get_json()['token']}"}
                               if r.status_code == 200 else None)
            return client, heads["admin"], heads["quay1"]

        def get(client, path, headers):
            r = client.get(path, headers=headers)
            assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:300])
            return r

        rows = []
        colds = []
        for _ in range(args.cold):
            shutil.rmtree(data / "reports", ignore_errors=True)
            app = new_app()
            client, admin, staff = signed_in(app)
            t0 = time.perf_counter()
            get(client, "/api/v1/reports/summary" + q, admin)
            colds.append(time.perf_counter() - t0)
            app.extensions["motcua"].close()
        if colds:
            rows.append(("JSON summary, first ever (nothing kept)", min(colds), statistics.median(colds)))
        firsts, seconds = [], []
        for _ in range(max(1, args.restarts)):
            app = new_app()  # a restart: nothing of an earlier report is in memory
            client, admin, staff = signed_in(app)
            t0 = time.perf_counter()
            get(client, "/api/v1/reports/summary" + q, admin)
            firsts.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            get(client, "/api/v1/reports/summary" + q, admin)
            seconds.append(time.perf_counter() - t0)
            if len(firsts) < max(1, args.restarts):
                app.extensions["motcua"].close()
        rows.append(("JSON summary, first after a restart", min(firsts), statistics.median(firsts)))
        rows.append(("JSON summary, second after a restart", min(seconds), statistics.median(seconds)))

        best, med, r = timed(lambda: get(client, "/api/v1/reports/summary" + q, admin), args.repeat)
        body = r.get_json()
        rows.append(("JSON summary, administrator, again", best, med))
        login = client.post("/counter/login", data={"username": "admin", "password": password,
                                                    "csrf": _csrf(client)})
        assert login.status_code in (302, 303), login.status_code
        best_p, med_p, _ = timed(lambda: get(client, "/admin/reports" + q, {}), args.repeat)
        rows.append(("report page (HTML)", best_p, med_p))
        rows.append(("page + its JSON, again", best_p + best, med_p + med))
        if staff:
            b, m, _ = timed(lambda: get(client, "/api/v1/reports/summary" + q, staff), args.repeat)
            rows.append(("JSON summary, staff of counter 1", b, m))
        b, m, _ = timed(lambda: get(client, "/api/v1/reports/summary.xlsx" + q, admin), max(1, args.repeat // 2))
        rows.append(("XLSX download", b, m))
        b, m, _ = timed(lambda: get(client, "/api/v1/reports/summary.csv" + q, admin), max(1, args.repeat // 2))
        rows.append(("CSV download", b, m))

        tot = body["totals"]
        print(f"quarter: issued {tot['issued']}, served {tot['served']}, no-show {tot['no_show']}, "
              f"transferred {tot['transferred']}, cancelled {tot['cancelled']}, recalls {tot.get('recalled')}, "
              f"ratings {body['ratings']['total']}; wait mean {tot['wait_s']['mean']} s, "
              f"median {tot['wait_s']['median']} s, p90 {tot['wait_s']['p90']} s, "
              f"max {tot['wait_s']['max']} s; service mean {tot['service_s']['mean']} s, "
              f"p90 {tot['service_s']['p90']} s")
        print(f"first ever (s): {' '.join(f'{x:.3f}' for x in colds)}; "
              f"first after a restart (s): {' '.join(f'{x:.3f}' for x in firsts)}")
        for name, b, m in rows:
            print(f"{name:40s} best {b * 1000:7.0f} ms   median {m * 1000:7.0f} ms")
        print(f"load average after: {_load()}")
        app.extensions["motcua"].close()
    finally:
        if pg_name and not args.keep:
            _pg_drop(args.pg_admin_url, pg_name)
        if not args.data_dir and not args.keep:
            shutil.rmtree(data, ignore_errors=True)
    return 0


def _csrf(client) -> str:
    import re

    page = client.get("/counter").get_data(as_text=True)
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    return m.group(1) if m else ""


if __name__ == "__main__":
    sys.exit(main())
