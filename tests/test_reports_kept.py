"""Issue 12, the quarter's report under 1 s: the facts of past days are kept on disk, so the
first report after a restart reads them and gives the same figures; a late event is still
counted; statistics are exact (rounded once, half up like Excel), not float approximations.
Timing itself is measured by bench/bench_reports.py (docs/performance.md), never here."""
from __future__ import annotations

import numpy as np

from motcua.reports import duration_stats
from motcua.reports.rollup import exact_stats
from test_reports_day import NEXT_DAY, Q, at, check_json, seed_day


def test_statistics_are_exact_and_rounded_half_up():
    # 543.65 s is 543.649999... as a float: rounding the float gives 543.6, the exact value 543.7.
    assert duration_stats([543.65])["max"] == 543.6
    assert exact_stats(np.array([543_650]), 1000)["max"] == 543.7
    # Median of 280.5 s and 280.6 s is 280.55 s: 280.6, in milliseconds and in microseconds.
    assert exact_stats(np.array([280_500, 280_600]), 1000)["median"] == 280.6
    assert exact_stats(np.array([280_500_000, 280_600_000]), 1_000_000)["median"] == 280.6
    # The hand-computed waits of tests/test_reports_day.py (seconds 300 .. 7800).
    waits = np.array([300, 600, 900, 1200, 1800, 7800]) * 1000
    assert exact_stats(waits, 1000) == {"mean": 2100.0, "median": 1050.0, "p90": 4800.0, "max": 7800.0, "count": 6}
    assert exact_stats(np.array([], dtype=np.int64), 1000)["mean"] is None


def _app(cfg, data, db_url, clock):
    from motcua.app import Settings, create_app

    return create_app(Settings(config=cfg, data_dir=data, database_url=db_url, testing=True,
                               start_devices=False, background_jobs=False, clock=clock))


def _admin(client) -> dict:
    from test_ratings import PASSWORD

    r = client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD})
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def test_first_report_after_a_restart_reads_the_kept_day(db_url, tmp_path, clock):
    from config import load_config
    from test_ratings import write_rating_config

    cfg = load_config(write_rating_config(tmp_path / "cfg"))
    data = tmp_path / "data"
    first = _app(cfg, data, db_url, clock)
    svc = first.extensions["motcua"]
    seed_day(svc.store, svc.engine, clock)
    clock.now = NEXT_DAY
    client = first.test_client()
    before = client.get("/api/v1/reports/summary", query_string=Q, headers=_admin(client)).get_json()
    check_json(before)
    svc.close()
    kept = list((data / "reports").rglob("2026-11-23.facts"))
    assert len(kept) == 1  # the past day's facts, on disk

    again = _app(cfg, data, db_url, clock)  # a restart: nothing in memory
    client = again.test_client()
    heads = _admin(client)
    after = client.get("/api/v1/reports/summary", query_string=Q, headers=heads).get_json()
    check_json(after)
    for key in ("totals", "services", "counters", "staff", "hours", "heatmap", "days", "ratings"):
        assert after[key] == before[key], key

    # An event of the 23rd written late: the kept day no longer matches and is worked out again.
    svc = again.extensions["motcua"]
    clock.now = at(15, 0)
    svc.engine.issue("HOTICH")
    clock.now = NEXT_DAY
    late = client.get("/api/v1/reports/summary", query_string=Q, headers=heads).get_json()
    assert late["totals"]["issued"] == 7
    # An unreadable kept file is worked out again, never a 500.
    svc.close()
    kept[0].write_bytes(b"not a facts file")
    third = _app(cfg, data, db_url, clock)
    client = third.test_client()
    r = client.get("/api/v1/reports/summary", query_string=Q, headers=_admin(client))
    assert r.status_code == 200 and r.get_json()["totals"]["issued"] == 7
    third.extensions["motcua"].close()
