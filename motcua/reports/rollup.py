"""The report's dimensions, summed from facts (tally.py) with array operations (no Flask).

Per field, day, counter and staff member, and for the office: the counts of each event and the
statistics of the waits, services and servings; per local hour: tickets issued, called and
served and the waits; the arrivals per weekday and hour; the transfers in per field. A `Scope`
(a staff member's counters) is a filter on facts. Statistics are computed exactly: durations
are whole time units (`Facts.unit` per second), sorted once per dimension, and every figure
is integer arithmetic up to one final division (`exact_stats`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from .tally import (
    ACT, CALL, CANCEL, COUNTER, DAY, EPOCH_DAY, FINISH, FLD, HOUR, ISSUE, NO_SHOW, RECALL, SERVICE, SERVING,
    STAFF, TO_FLD, TRANSFER, WAIT, Facts, Scope,
)

__all__ = ["Cell", "HourCell", "Rolled", "exact_stats", "roll_up", "COUNT_KEYS"]

COUNT_KEYS = ("issued", "called", "served", "no_show", "transferred", "cancelled", "recalled")
_COUNT_ACTS = (ISSUE, CALL, FINISH, NO_SHOW, TRANSFER, CANCEL, RECALL)
_N_ACTS = 9
_NONE = {"mean": None, "median": None, "p90": None, "max": None, "count": 0}


def _tenths(num: int, den: int) -> float:
    """*num*/*den* seconds (>= 0) rounded to 0.1 s, half up like Excel's ROUND, exactly."""
    q, r = divmod(num * 10, den)
    return (q + (2 * r >= den)) / 10


def exact_stats(ordered: Any, unit: int) -> dict[str, Any]:
    """``{"mean", "median", "p90", "max", "count"}`` in seconds of *ordered* (sorted whole time
    units, *unit* per second): statistics.median and statistics.quantiles(n=10,
    method="inclusive")[8] (Excel MEDIAN and PERCENTILE.INC), as exact fractions of integers,
    rounded once to 0.1 s (`_tenths`)."""
    n = len(ordered)
    if not n:
        return dict(_NONE)
    half = n // 2
    median = (int(ordered[half]), unit) if n % 2 else (int(ordered[half - 1]) + int(ordered[half]), 2 * unit)
    if n == 1:
        p90 = (int(ordered[0]), unit)
    else:
        j, delta = divmod(9 * (n - 1), 10)
        p90 = (int(ordered[j]) * (10 - delta) + int(ordered[j + 1]) * delta, 10 * unit)
    return {"mean": _tenths(int(np.sum(ordered, dtype=np.int64)), n * unit), "median": _tenths(*median),
            "p90": _tenths(*p90), "max": _tenths(int(ordered[-1]), unit), "count": n}


@dataclass
class Cell:
    counts: list[int] = field(default_factory=lambda: [0] * len(COUNT_KEYS))
    wait: dict[str, Any] = field(default_factory=lambda: dict(_NONE))
    service: dict[str, Any] = field(default_factory=lambda: dict(_NONE))
    serving: dict[str, Any] = field(default_factory=lambda: dict(_NONE))


@dataclass
class HourCell:
    issued: int = 0
    called: int = 0
    served: int = 0
    wait: dict[str, Any] = field(default_factory=lambda: dict(_NONE))


@dataclass
class Rolled:
    total: Cell = field(default_factory=Cell)
    by_field: dict[str, Cell] = field(default_factory=dict)
    by_day: dict[date, Cell] = field(default_factory=dict)
    by_counter: dict[int, Cell] = field(default_factory=dict)
    by_staff: dict[int, Cell] = field(default_factory=dict)
    by_hour: dict[int, HourCell] = field(default_factory=dict)
    arrivals: dict[tuple[int, int], int] = field(default_factory=dict)  # (weekday, hour) -> issued
    transferred_in: dict[str, int] = field(default_factory=dict)


class _Sorted:
    """The durations of one column (WAIT, SERVICE or SERVING) of some facts, sorted once; each
    dimension then orders them by its key with a stable sort, keeping the values sorted within
    each key."""

    def __init__(self, rows: np.ndarray, col: int) -> None:
        self.valid = np.flatnonzero(rows[:, col] >= 0)
        values = rows[self.valid, col]
        order = np.argsort(values, kind="stable")
        self.valid, self.values = self.valid[order], values[order]

    def stats(self, dense: np.ndarray, n_keys: int, unit: int) -> dict[int, dict[str, Any]]:
        """Statistics per dense key (0..n_keys-1) of the facts' rows (-1: none)."""
        keys = dense[self.valid]
        ok = keys >= 0
        keys, values = keys[ok], self.values[ok]
        if not len(keys):
            return {}
        order = np.argsort(keys.astype(np.int16) if n_keys < 32000 else keys, kind="stable")
        values = values[order]
        ends = np.cumsum(np.bincount(keys, minlength=n_keys))
        out, start = {}, 0
        for k, end in enumerate(ends.tolist()):
            if end > start:
                out[k] = exact_stats(values[start:end], unit)
            start = end
        return out


def _cells(keys: np.ndarray, rows: np.ndarray, durations: list[tuple[str, _Sorted]], unit: int) -> dict[int, Cell]:
    """One Cell per key (>= 0) of *rows*."""
    ok = keys >= 0
    every = bool(ok.all())
    if not every and not ok.any():
        return {}
    low = int(keys.min()) if every else int(keys[ok].min())
    dense = keys - low if every else np.where(ok, keys - low, -1)
    n_keys = int(dense.max()) + 1
    slots = dense * _N_ACTS + rows[:, ACT]
    counts = np.bincount(slots if every else slots[ok], minlength=n_keys * _N_ACTS).reshape(n_keys, _N_ACTS)
    present = np.flatnonzero(counts.sum(axis=1))
    out = {int(k) + low: Cell(counts=[int(counts[k, a]) for a in _COUNT_ACTS]) for k in present.tolist()}
    for name, sorted_values in durations:
        for k, stats in sorted_values.stats(dense, n_keys, unit).items():
            setattr(out[k + low], name, stats)
    return out


def roll_up(facts: Facts, scope: Scope) -> Rolled:
    rows, codes, unit = facts.rows, facts.fields, facts.unit
    out = Rolled()
    # Transfers in: by the field joined, whatever the counter (a staff member: their fields).
    t_rows = rows[(rows[:, ACT] == TRANSFER) & (rows[:, TO_FLD] >= 0)]
    for idx, n in zip(*np.unique(t_rows[:, TO_FLD], return_counts=True)):
        code = codes[int(idx)]
        if scope.whole_office or code in scope.fields:
            out.transferred_in[code] = int(n)
    if not scope.whole_office:
        mine = [i for i, c in enumerate(codes) if c in scope.fields]
        at_counter = rows[:, COUNTER] >= 0
        keep = np.where(at_counter, np.isin(rows[:, COUNTER], sorted(scope.counters or ())),
                        np.isin(rows[:, FLD], mine))
        rows = rows[keep]
    if not len(rows):
        return out
    durations = [("wait", _Sorted(rows, WAIT)), ("service", _Sorted(rows, SERVICE)),
                 ("serving", _Sorted(rows, SERVING))]
    out.total = _cells(np.zeros(len(rows), dtype=np.int64), rows, durations, unit).get(0, Cell())
    out.by_field = {codes[k]: c for k, c in _cells(rows[:, FLD], rows, durations, unit).items()}
    out.by_day = {EPOCH_DAY + timedelta(days=k): c for k, c in _cells(rows[:, DAY], rows, durations, unit).items()}
    out.by_counter = _cells(rows[:, COUNTER], rows, durations, unit)
    out.by_staff = _cells(rows[:, STAFF], rows, durations, unit)
    for h, cell in _cells(rows[:, HOUR], rows, durations[:1], unit).items():
        issued, called, served = cell.counts[0], cell.counts[1], cell.counts[2]
        out.by_hour[h] = HourCell(issued=issued, called=called, served=served, wait=cell.wait)
    timed = rows[rows[:, HOUR] >= 0]
    issued = timed[timed[:, ACT] == ISSUE]
    slots = ((issued[:, DAY] + EPOCH_DAY.weekday()) % 7) * 24 + issued[:, HOUR]
    for slot, n in zip(*np.unique(slots, return_counts=True)):
        out.arrivals[(int(slot) // 24, int(slot) % 24)] = int(n)
    return out
