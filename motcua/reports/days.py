"""The facts of past days, kept in memory and on disk between reports (no Flask).

A business day's events no longer change once it is over, so its facts (tally.py) are worked
out once and kept: in memory for the app, and as one small file per day under the data folder
(``<data>/reports/<zone>/<day>.npz``, numpy arrays only, written to a temporary name then
renamed), so the first report after a restart reads them instead of walking the events again.
A kept day is used only while the day still has the same number of events and the same last
event id, so a late write (an import, a test seeding the past) is seen. Those counts are read
again whenever the table's last event id has moved (events are only ever added), and the
roll-up of a period (per scope) is kept while they are unchanged, so asking again for the same
report (the page, then its XLSX or CSV) costs little. Today and later days are always worked
out afresh. Deleting the folder is always safe.

File format: one line of JSON (format, signature, time unit, field codes, row count), then the
rows as little-endian 64-bit integers.
"""
from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
from datetime import date, tzinfo
from pathlib import Path

import numpy as np
from sqlalchemy import Connection, func, select

from ..store import tables as t
from .period import Period
from .tally import DAY, EPOCH_DAY, FLD, N_COLS, TO_FLD, Facts, tally_days

log = logging.getLogger(__name__)

__all__ = ["DayStore", "facts_for_period"]

_FORMAT = 1  # bump when the facts' columns or meaning change: older files are then ignored


class DayStore:
    """Facts of past days by (zone, day), each with the day's signature (event count, last
    event id); *directory* (optional) keeps them across restarts."""

    def __init__(self, directory: Path | None = None, max_days: int = 2000) -> None:
        self.directory = directory
        self.max_days = max_days
        self._mem: dict[tuple[str, date], tuple[tuple[int, int], Facts]] = {}
        self._lock = threading.Lock()
        self._signatures: dict[Period, tuple[int, dict[date, tuple[int, int]]]] = {}
        self._results: dict[tuple, object] = {}  # (data version, scope...) -> a roll-up

    def result(self, key: tuple) -> object | None:
        with self._lock:
            return self._results.get(key)

    def keep_result(self, key: tuple, value: object) -> None:
        with self._lock:
            if len(self._results) >= 32:
                self._results.pop(next(iter(self._results)))
            self._results[key] = value

    def signatures(self, conn: Connection, period: Period) -> dict[date, tuple[int, int]]:
        """The period's day signatures, read again only when the last event id has moved."""
        top = conn.exec_driver_sql("SELECT MAX(id) FROM ticket_events").scalar()
        with self._lock:
            hit = self._signatures.get(period)
        if hit is not None and hit[0] == top:
            return hit[1]
        sigs = _signatures(conn, period)
        with self._lock:
            if len(self._signatures) >= 64:
                self._signatures.pop(next(iter(self._signatures)))
            self._signatures[period] = (top, sigs)
        return sigs

    def _path(self, zone: str, day: date) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / re.sub(r"[^A-Za-z0-9_+-]", "_", zone) / f"{day.isoformat()}.facts"

    def get(self, zone: str, day: date, sig: tuple[int, int]) -> Facts | None:
        with self._lock:
            hit = self._mem.get((zone, day))
        if hit is not None and hit[0] == sig:
            return hit[1]
        path = self._path(zone, day)
        if path is None or not path.is_file():
            return None
        try:
            data = path.read_bytes()
            head, _nl, body = data.partition(b"\n")
            meta = json.loads(head)
            if meta.get("format") != _FORMAT or tuple(meta.get("signature", ())) != tuple(sig):
                return None
            rows = np.frombuffer(body, dtype="<i8").reshape(int(meta["rows"]), N_COLS)
            facts = Facts(rows, [str(c) for c in meta["fields"]], int(meta["unit"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("report: kept facts of %s unreadable (%s); worked out again", day, exc)
            return None
        self._remember(zone, day, sig, facts)
        return facts

    def _remember(self, zone: str, day: date, sig: tuple[int, int], facts: Facts) -> None:
        with self._lock:
            if len(self._mem) >= self.max_days:
                self._mem.pop(next(iter(self._mem)))
            self._mem[(zone, day)] = (sig, facts)

    def put(self, zone: str, day: date, sig: tuple[int, int], facts: Facts) -> None:
        self._remember(zone, day, sig, facts)
        path = self._path(zone, day)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            head = json.dumps({"format": _FORMAT, "signature": list(sig), "unit": facts.unit,
                               "fields": facts.fields, "rows": len(facts.rows)}, ensure_ascii=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".facts-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(head.encode("ascii") + b"\n")
                    out.write(np.ascontiguousarray(facts.rows, dtype="<i8").tobytes())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.warning("report: could not keep the facts of %s (%s)", day, exc)


def _signatures(conn: Connection, period: Period) -> dict[date, tuple[int, int]]:
    ev = t.ticket_events.c
    q = (select(ev.business_date, func.count(), func.max(ev.id))
         .where(ev.business_date >= period.start, ev.business_date <= period.end).group_by(ev.business_date))
    out = {}
    for raw, n, last in conn.execute(q):
        day = raw if isinstance(raw, date) else date.fromisoformat(str(raw)[:10])
        out[day] = (int(n), int(last))
    return out


def merge(parts: list[Facts]) -> Facts:
    """One Facts of *parts* (field numbers made common)."""
    parts = [p for p in parts if len(p.rows)]
    if not parts:
        return Facts.empty()
    codes: dict[str, int] = {}
    # Column after column in memory (Fortran order): the roll-up reads whole columns.
    out = np.empty((sum(len(p.rows) for p in parts), N_COLS), dtype=np.int64, order="F")
    at = 0
    for p in parts:
        lookup = np.array([codes.setdefault(c, len(codes)) for c in p.fields] + [-1], dtype=np.int64)
        block = out[at:at + len(p.rows)]
        block[:] = p.rows
        block[:, FLD] = lookup[block[:, FLD]]  # -1 (none) reads the last entry: -1
        block[:, TO_FLD] = lookup[block[:, TO_FLD]]
        at += len(p.rows)
    return Facts(out, list(codes), parts[0].unit)


def data_version(conn: Connection, period: Period, tz: tzinfo, store: DayStore) -> tuple:
    """What a roll-up of *period* depends on: the zone and every day's signature."""
    return (getattr(tz, "key", str(tz)), period, tuple(sorted(store.signatures(conn, period).items())))


def facts_for_period(conn: Connection, period: Period, tz: tzinfo, *, store: DayStore | None = None,
                     today: date | None = None) -> Facts:
    """The facts of *period*: past days from *store* while unchanged, the rest worked out in one
    pass (and past days among them kept)."""
    if store is None or today is None:
        return tally_days(conn, period, tz)
    zone = getattr(tz, "key", str(tz))
    sigs = store.signatures(conn, period)
    parts, missing = [], set()
    for day, sig in sorted(sigs.items()):
        hit = store.get(zone, day, sig) if day < today else None
        if hit is None:
            missing.add(day)
        else:
            parts.append(hit)
    if missing:
        fresh = tally_days(conn, Period(min(missing), max(missing)), tz, days=missing)
        days_col = fresh.rows[:, DAY]
        for day in sorted(missing):
            if day >= today:
                continue
            rows = fresh.rows[days_col == (day - EPOCH_DAY).days]
            store.put(zone, day, sigs[day], Facts(np.ascontiguousarray(rows), fresh.fields, fresh.unit))
        parts.append(fresh)
    return merge(parts)
