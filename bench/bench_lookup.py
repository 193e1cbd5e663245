"""Benchmark of dossier lookup by code (motcua.dossiers.store) on a large SQLite database.

Inserts 1,000,000 dossiers into a temporary SQLite file (schema from the Alembic
migrations, rows through the driver's executemany in batches of 50,000, one write
transaction), then looks up 10,000 random codes (90 % present, 10 % unknown, mixed case
and typographic dashes as a citizen may type them) through the store and
prints p50/p99/max latency of:

* ``DossierStore.get(code)``: normalise, one primary-key SELECT in a read transaction;
* ``get`` + ``public_view``: what GET /api/v1/dossiers/<code> computes (masking, status,
  lateness).

Optionally (``--search``) times one accent-free staff search over the whole table.

    .venv/bin/python bench/bench_lookup.py [--dossiers 1000000] [--lookups 10000] [--seed 2026] [--search]

Target: p99 <= 5 ms for the lookup.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import load_config, sample_path  # noqa: E402
from motcua.auth import Throttle  # noqa: E402
from motcua.clock import BusinessCalendar  # noqa: E402
from motcua.dossiers.store import DossierStore  # noqa: E402
from motcua.store import Store  # noqa: E402

BATCH = 50_000
AGENCIES = ["000.17.22.H56", "000.302.36.H05", "000.00.12.G22", "000.25.31.H46"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quang"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hương", "Lan", "Linh", "Nam", "Thảo", "Ánh", "Đạt"]
PROCEDURES = [
    ("Hộ tịch", "Đăng ký khai sinh"),
    ("Hộ tịch", "Đăng ký kết hôn"),
    ("Chứng thực", "Chứng thực bản sao từ bản chính giấy tờ, văn bản"),
    ("Đất đai", "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất"),
    ("Xây dựng", "Cấp giấy phép xây dựng nhà ở riêng lẻ"),
    ("Bảo trợ xã hội", "Trợ cấp xã hội hàng tháng đối với đối tượng bảo trợ xã hội"),
]
INSERT_SQL = (
    "INSERT INTO dossiers (code, procedure, field, applicant, applicant_id, phone, received_at, due_at, "
    "status, lookup_secret, finished_at, returned_at, new_due_at, apology, source, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _stamp(at: datetime) -> str:
    """How SQLAlchemy's SQLite DateTime stores a naive UTC instant."""
    return at.strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(count: int, rng: random.Random) -> tuple[list[tuple], list[str]]:
    rows: list[tuple] = []
    codes: list[str] = []
    start = date(2021, 1, 4)
    per_day = max(1, count // (5 * 365))
    by_day: dict[date, tuple[str, list[tuple[str, str]]]] = {}
    for i in range(count):
        agency = AGENCIES[i % len(AGENCIES)]
        day = start + timedelta(days=(i // len(AGENCIES)) // per_day)
        seq = (i // len(AGENCIES)) % per_day + 1
        code = f"{agency}-{day:%y%m%d}-{seq:04d}"
        codes.append(code)
        field, procedure = PROCEDURES[i % len(PROCEDURES)]
        stamps = by_day.get(day)
        if stamps is None:  # (received, due after 1..20 days, finished the day before due)
            received = datetime(day.year, day.month, day.day, 1, 30, tzinfo=timezone.utc)
            stamps = by_day[day] = (_stamp(received), [
                (_stamp(received + timedelta(days=n)), _stamp(received + timedelta(days=n - 1)))
                for n in range(1, 21)])
        received_s, dues = stamps
        due_s, finished_s = dues[rng.randrange(20)]
        status = rng.randint(1, 10)
        finished = finished_s if status in (3, 7, 8, 9, 10) else None
        rows.append((
            code, procedure, field, f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
            f"0{rng.randrange(10**11):011d}", f"09{rng.randrange(10**8):08d}", received_s, due_s,
            status, f"{rng.randrange(36**6):06X}"[-6:], finished, finished if status == 10 else None, None, "",
            "bench", received_s,
        ))
    return rows, codes


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def typed_like_a_citizen(code: str, rng: random.Random) -> str:
    choice = rng.randrange(4)
    if choice == 0:
        return code.lower()
    if choice == 1:
        return code.replace("-", " – ")
    if choice == 2:
        return f"  {code}\t"
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--search", action="store_true", help="also time one accent-free staff search")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        store = Store(url)
        store.upgrade()
        t0 = time.perf_counter()
        rows, codes = generate(args.dossiers, rng)
        t1 = time.perf_counter()
        with store.write() as conn:
            for i in range(0, len(rows), BATCH):
                conn.exec_driver_sql(INSERT_SQL, rows[i:i + BATCH])
        t2 = time.perf_counter()
        del rows
        gc.collect()  # the generated rows are gone; a server never holds them
        size_mb = (Path(tmp) / "bench.sqlite3").stat().st_size / 1e6
        print(f"dossiers: {args.dossiers:,} generated in {t1 - t0:.1f} s, inserted in {t2 - t1:.1f} s "
              f"({args.dossiers / (t2 - t1):,.0f} rows/s), database {size_mb:.0f} MB")

        cfg = load_config(sample_path("commune"))
        calendar = BusinessCalendar(cfg.office.timezone, cfg.hours)
        now = datetime.now(timezone.utc)
        ds = DossierStore(store, calendar, lambda: now, throttle=Throttle(store))

        queries = []
        for _ in range(args.lookups):
            if rng.random() < 0.9:
                queries.append((typed_like_a_citizen(rng.choice(codes), rng), True))
            else:
                day = date(2030, 1, 1) + timedelta(days=rng.randrange(300))
                queries.append((f"000.99.99.H99-{day:%y%m%d}-{rng.randrange(1, 9999):04d}", False))

        for code, _present in queries[:200]:  # warm the connection pool and the page cache
            ds.get(code)

        get_ms: list[float] = []
        view_ms: list[float] = []
        for code, present in queries:
            a = time.perf_counter()
            row = ds.get(code)
            b = time.perf_counter()
            if (row is not None) != present:
                raise SystemExit(f"wrong answer for {code!r}")
            if row is not None:
                ds.public_view(row)
            c = time.perf_counter()
            get_ms.append((b - a) * 1000)
            view_ms.append((c - a) * 1000)

        for label, values in (("get(code)", get_ms), ("get + public_view", view_ms)):
            print(f"{label:>18}: {len(values):,} lookups  p50 {statistics.median(values):.3f} ms  "
                  f"p99 {percentile(values, 99):.3f} ms  max {max(values):.3f} ms")
        p99 = percentile(get_ms, 99)
        print(f"target p99 <= 5 ms: {'met' if p99 <= 5 else 'NOT met'} ({p99:.3f} ms)")

        if args.search:
            a = time.perf_counter()
            page = ds.list_page(q="nguyen van an", per_page=50)
            print(f"staff search 'nguyen van an' over {args.dossiers:,}: {page['total']:,} matches in "
                  f"{time.perf_counter() - a:.2f} s")
        store.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
