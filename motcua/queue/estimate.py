"""Wait estimates: how long a waiting citizen still waits, as a range rather than one number.

The figures come from the event log of today (`visits`, `ticket_events`) and from the floor
right now (which counters are open, paused or busy, how many wait in each field):

- **Turn time** per field and counter: from the call of a citizen to the call of the next one
  at that counter (the visit, plus the changeover when the next call followed within
  `CHANGEOVER_MAX_S`), the newest visits weighing most (half-life `HALF_LIFE_VISITS`), shrunk
  towards the field's figure (and the field's towards `queue.default_service_min`) while few
  visits are known.
- **Schedule**: each open counter serving the field becomes free after its current visit (the
  expected rest of it) and after the older tickets of the fields it calls first
  (`strict_field_order`); then it calls from the field every `period` seconds (its turn time,
  longer where it shares its calls with other fields' older tickets, or where the fields it
  calls first keep arriving). The ticket is called at the (ahead + 1)-th call of the field; with
  nobody ahead, at the expected first call of the counters (the first of several to finish comes
  sooner than the soonest expected finish).
- **Rules** add citizens who will be called before this one although they are not in the queue
  yet (priority tickets arriving while a normal ticket waits, the normal ticket the priority
  quota lets through before a priority one, booked citizens whose slot begins meanwhile):
  a rule is `rule(ask: Ask) -> float`, the expected number of such citizens.
- **Range**: the spread of the sum of the turns still to come (their standard deviation), plus
  a share of the wait for what the model does not see (pauses to come, no-shows, transfers);
  `Z_LOW`/`Z_HIGH` standard deviations either side, measured by bench/bench_estimate.py.

Pure functions over small dataclasses: the caching (per field, forgotten when a visit ends)
lives in `WaitEstimator` (tickets.py). Nothing here reads the database.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

from config.schema import OfficeConfig

HALF_LIFE_VISITS = 8.0     # a visit this many visits older weighs half
PRIOR_WEIGHT = 2.0         # the default figure counts as this many visits of a field...
COUNTER_PRIOR_WEIGHT = 6.0  # ...and the field's as this many visits at one counter
DEFAULT_CV = 0.6           # spread of turn times before any visit is known
CHANGEOVER_MAX_S = 120.0   # a longer gap between two calls at a counter is idle time, not changeover...
GAP_MAX_S = 1800.0         # ...or time lost when the citizen called next was already waiting: up to this
LOST_PRIOR_TURNS = 10      # time lost to pauses: counted as if over this many more turns
PAUSE_REST_S = 300.0       # a paused counter is expected back after about this
TURN_MAX_S = 3600.0        # a visit left open longer (over lunch) counts as this
REACTION_S = 20.0          # an idle counter calls within about this
RANDOM_STEPS = 16          # steps of the integral of the first call of several counters (within ~1 %)
Z_LOW = 1.6                # the range: this many standard deviations below the point...
Z_HIGH = 2.2               # ...and this many above (waits run long more often than short)
MODEL_SHARE = 0.20         # what the model cannot see, as a share of the wait (one deviation)
ARRIVAL_WINDOW_S = 3600.0
  # arrival rates: issues of the last hour


@dataclass(frozen=True)
class Turn:
    """Turn time at a counter (seconds): mean, standard deviation, how many visits it rests on."""

    mean_s: float
    sd_s: float
    visits: float


@dataclass
class Stats:
    """Today's figures from the event log."""

    default: Turn
    by_field: dict[str, Turn] = field(default_factory=dict)
    by_counter: dict[tuple[str, int], Turn] = field(default_factory=dict)
    # per field: (issues per second, priority issues per second) over the last hour
    arrivals: dict[str, tuple[float, float]] = field(default_factory=dict)
    # time lost per turn (a counter paused or away while citizens waited), office-wide
    lost_mean_s: float = 0.0
    lost_sd_s: float = 0.0
    # per field: slot starts of today's bookings not checked in yet
    booked_slots: dict[str, list[datetime]] = field(default_factory=dict)

    def turn(self, field_code: str, counter: int | None = None) -> Turn:
        if counter is not None:
            t = self.by_counter.get((field_code, counter))
            if t is not None:
                return t
        return self.by_field.get(field_code, self.default)

    def visits(self, field_code: str) -> int:
        t = self.by_field.get(field_code)
        return int(round(t.visits)) if t is not None else 0


@dataclass
class Floor:
    """The counters and queues at `at`."""

    at: datetime
    paused: frozenset[int] = frozenset()
    busy: dict[int, tuple[datetime, str]] = field(default_factory=dict)  # counter -> (call, field) of its ticket
    waiting: dict[str, int] = field(default_factory=dict)          # field -> waiting tickets
    waiting_priority: dict[str, int] = field(default_factory=dict)  # field -> of which priority


@dataclass
class Ask:
    """What a rule sees: the ticket's field, priority, people ahead, and the wait found so far."""

    field: str
    priority: bool
    ahead: int
    wait_s: float
    counters_open: int
    stats: Stats
    floor: Floor
    config: OfficeConfig
    now: datetime | None = None


Rule = Callable[[Ask], float]


def priority_arrivals(ask: Ask) -> float:
    """A normal ticket: priority tickets issued while it waits are called first (at most
    `priority_quota` of them for each normal call), those of its field and, at the counters
    it shares with other fields, theirs."""
    cfg = ask.config
    if ask.priority or not cfg.queue.priority_enabled:
        return 0.0
    serving = topology(cfg).serving
    mine = serving.get(ask.field, ())
    rate = 0.0
    for f, (_, prio) in ask.stats.arrivals.items():
        if prio:
            theirs = serving.get(f, ())
            rate += prio * sum(1 for c in theirs if c in mine) / max(1, len(theirs))
    return min(rate * ask.wait_s, cfg.queue.priority_quota * (ask.ahead + 1))


def priority_quota(ask: Ask) -> float:
    """A priority ticket: after `priority_quota` priority calls a normal ticket goes first."""
    if not ask.priority or not ask.floor.waiting.get(ask.field, 0) - ask.floor.waiting_priority.get(ask.field, 0):
        return 0.0
    return float(ask.ahead // ask.config.queue.priority_quota)


def booked_arrivals(ask: Ask) -> float:
    """A walk-in ticket: booked citizens whose slot begins while it waits check in and are
    called first, up to one for every `booking.walk_ins_per_booked` calls (docs/booking.md)."""
    every = getattr(getattr(ask.config, "booking", None), "walk_ins_per_booked", 0)
    if not every or ask.priority or not ask.stats.booked_slots or ask.now is None:
        return 0.0
    serving = topology(ask.config).serving
    mine = serving.get(ask.field, ())
    end = ask.now + timedelta(seconds=ask.wait_s)
    due = 0.0
    for f, slots in ask.stats.booked_slots.items():
        theirs = serving.get(f, ())
        share = sum(1 for c in theirs if c in mine) / max(1, len(theirs))
        if share:
            due += share * sum(1 for at in slots if ask.now <= at <= end)
    return min(due, (ask.ahead + 1) / every)


DEFAULT_RULES: tuple[Rule, ...] = (priority_arrivals, priority_quota, booked_arrivals)


@dataclass(frozen=True)
class Estimate:
    wait_s: int
    low_s: int
    high_s: int
    ahead: int
    basis: dict[str, Any]

    @property
    def low_min(self) -> int:
        return int(self.low_s // 60)

    @property
    def high_min(self) -> int:
        return max(int(math.ceil(self.high_s / 60)), self.low_min + 1)

    def as_json(self) -> dict[str, Any]:
        return {"low_min": self.low_min, "high_min": self.high_min, "ahead": self.ahead, "basis": self.basis}

    def fill(self, out: dict[str, Any]) -> None:
        """The keys of a ticket's JSON: the point (kept for older clients), the range, the estimate."""
        out["estimated_wait_s"] = self.wait_s
        out["estimated_wait_range_s"] = [self.low_s, self.high_s]
        out["estimate"] = self.as_json()


def no_estimate(out: dict[str, Any], ahead: int, default_s: float) -> None:
    """Nothing is known (no counter serves the field): the old single figure, no range."""
    out["estimated_wait_s"] = int(round(ahead * default_s))
    out["estimated_wait_range_s"] = None
    out["estimate"] = None


# Statistics ---------------------------------------------------------------------------------
def _weighted(values: list[float], prior: Turn, prior_weight: float) -> Turn:
    """Recency-weighted mean and deviation of turn times (newest first), shrunk to the prior."""
    w_sum = prior_weight
    m1 = prior_weight * prior.mean_s
    m2 = prior_weight * (prior.sd_s ** 2 + prior.mean_s ** 2)
    for i, v in enumerate(values):
        w = 0.5 ** (i / HALF_LIFE_VISITS)
        w_sum += w
        m1 += w * v
        m2 += w * v * v
    mean = m1 / w_sum
    sd = math.sqrt(max(m2 / w_sum - mean * mean, 0.0))
    return Turn(mean, sd, float(len(values)))


def turn_stats(visits: Iterable[Any], default_s: float, arrivals: dict[str, tuple[float, float]] | None = None) -> Stats:
    """Stats from today's visits (rows with counter, field, called_at, ended_at and the queued_at
    of their ticket; any order). A turn runs from a call to the next call at that counter (the
    changeover counts); a longer gap while the next citizen was already waiting is time lost
    (a pause), pooled over the whole office and spread over every turn."""
    default = Turn(default_s, default_s * DEFAULT_CV, 0.0)
    by_counter_rows: dict[int, list[Any]] = {}
    for v in visits:
        by_counter_rows.setdefault(v.counter, []).append(v)
    samples: list[tuple[datetime, str, int, float]] = []  # (ended, field, counter, turn)
    lost: list[float] = []  # gaps while the next citizen waited (pauses), pooled over the office
    for counter, rows in by_counter_rows.items():
        rows.sort(key=lambda r: r.called_at)
        for i, v in enumerate(rows):
            if v.ended_at is None:
                continue
            turn = (v.ended_at - v.called_at).total_seconds()
            if i + 1 < len(rows):
                nxt = rows[i + 1]
                gap = (nxt.called_at - v.ended_at).total_seconds()
                if 0 <= gap <= CHANGEOVER_MAX_S:
                    turn += gap
                elif gap > 0 and nxt.queued_at is not None and nxt.queued_at <= v.ended_at:
                    lost.append(min(gap, GAP_MAX_S))
            samples.append((v.ended_at, v.field, counter, min(max(turn, 0.0), TURN_MAX_S)))
    samples.sort(key=lambda s: s[0], reverse=True)  # newest first
    per_field: dict[str, list[float]] = {}
    per_counter: dict[tuple[str, int], list[float]] = {}
    for _, f, c, turn in samples:
        per_field.setdefault(f, []).append(turn)
        per_counter.setdefault((f, c), []).append(turn)
    stats = Stats(default=default, arrivals=dict(arrivals or {}))
    n = len(samples) + LOST_PRIOR_TURNS
    stats.lost_mean_s = sum(lost) / n
    stats.lost_sd_s = math.sqrt(max(sum(x * x for x in lost) / n - stats.lost_mean_s ** 2, 0.0))
    for f, values in per_field.items():
        stats.by_field[f] = _weighted(values, default, PRIOR_WEIGHT)
    for (f, c), values in per_counter.items():
        stats.by_counter[(f, c)] = _weighted(values, stats.by_field[f], COUNTER_PRIOR_WEIGHT)
    return stats


# The estimate -------------------------------------------------------------------------------
def _lognormal(mean: float, sd: float) -> tuple[float, float]:
    """(mu, sigma) of the log-normal law with this mean and standard deviation."""
    s2 = math.log(1 + (sd / mean) ** 2)
    return math.log(mean) - s2 / 2, math.sqrt(s2) or 1e-6


def _tail(mu: float, sigma: float, x: float) -> float:
    """P(S > x) for S log-normal (mu, sigma)."""
    if x <= 0:
        return 1.0
    return 0.5 * math.erfc((math.log(x) - mu) / (sigma * math.sqrt(2)))


def residual(mean: float, sd: float, elapsed: float) -> float:
    """The expected rest of a turn already `elapsed` long, turn times taken as log-normal:
    E[S - e | S > e] = mean * P(S' > e) / P(S > e) - e (S' the size-biased time)."""
    if elapsed <= 0 or mean <= 0:
        return mean
    s2 = math.log(1 + (sd / mean) ** 2)
    sigma = math.sqrt(s2) or 1e-6
    mu = math.log(mean) - s2 / 2
    d2 = (mu - math.log(elapsed)) / sigma
    tail = 0.5 * math.erfc(-d2 / math.sqrt(2))
    if tail < 1e-9:
        return 0.1 * mean
    return max(mean * 0.5 * math.erfc(-(d2 + sigma) / math.sqrt(2)) / tail - elapsed, 0.05 * mean)


@dataclass
class _Lane:
    """One open counter as seen by the field: free after `start_s`, then one call every `period_s`."""

    start_s: float
    period_s: float
    sd_s: float
    idle: bool
    before: float = 0.0  # tickets of other fields it calls first
    # how its first call is spread around start_s: None (as planned: a paused counter), ("idle", mean
    # reaction), or ("busy", mu, sigma, elapsed, P(S > elapsed)): the visit under way, log-normal
    spread: tuple | None = None
    fixed_s: float = 0.0  # start_s without the random part


class _Topology:
    """Who serves what, looked up on every estimate (the configuration's lists, as dicts)."""

    def __init__(self, config: OfficeConfig):
        self.counters = {c.number: c for c in config.counters}
        self.serving: dict[str, list[int]] = {}
        for c in config.counters:
            for f in c.fields:
                self.serving.setdefault(f, []).append(c.number)


_TOPOLOGIES: dict[int, tuple[OfficeConfig, _Topology]] = {}


def topology(config: OfficeConfig) -> _Topology:
    got = _TOPOLOGIES.get(id(config))
    if got is None or got[0] is not config:
        if len(_TOPOLOGIES) > 64:
            _TOPOLOGIES.clear()
        got = _TOPOLOGIES[id(config)] = (config, _Topology(config))
    return got[1]


def _lanes(topo: _Topology, field_code: str, priority: bool, counters: list[int], paused: frozenset[int],
           stats: Stats, floor: Floor, now: datetime) -> list[_Lane]:
    waiting = floor.waiting_priority if priority else floor.waiting
    lost = stats.lost_mean_s
    open_of: dict[str, int] = {}

    def opened(f: str) -> int:
        n = open_of.get(f)
        if n is None:
            n = open_of[f] = max(1, len([c for c in topo.serving.get(f, ()) if c not in paused]))
        return n

    lanes = []
    for number in counters:
        ccfg = topo.counters[number]
        own = stats.turn(field_code, number)
        busy = floor.busy.get(number)
        start = PAUSE_REST_S if number in paused else (REACTION_S if busy is None else 0.0)
        # how its first call for the field is spread: not at a counter that calls other fields first
        # (one of their citizens may come before it is free) nor at a paused one: those keep the plan
        spread: tuple | None = None
        random = number not in paused and not (ccfg.strict_field_order and ccfg.fields.index(field_code) > 0)
        rest = REACTION_S if busy is None and number not in paused else 0.0
        if rest and random:
            spread = ("idle", REACTION_S)
        if busy is not None:  # the rest of its current visit
            current = stats.turn(busy[1], number)
            elapsed = max((now - busy[0]).total_seconds(), 0.0)
            rest = residual(current.mean_s, current.sd_s, elapsed)
            start += rest
            if random and current.mean_s > 0 and current.sd_s > 0:
                mu, sigma = _lognormal(current.mean_s, current.sd_s)
                tail = _tail(mu, sigma, elapsed)
                if tail > 1e-6:
                    spread = ("busy", mu, sigma, elapsed, tail)
        share = 1.0
        before = 0.0
        if len(ccfg.fields) > 1:
            # strict order: the fields it calls first go first, those waiting and those to come;
            # by queue time: the (older) waiting tickets of its other fields go first
            others = ccfg.fields[:ccfg.fields.index(field_code)] if ccfg.strict_field_order else \
                [f for f in ccfg.fields if f != field_code]
            load = 0.0
            for f in others:
                t = stats.turn(f, number)
                # by queue time a priority ticket passes the others' normal tickets; a strict order does not
                n = (floor.waiting if ccfg.strict_field_order else waiting).get(f, 0) / opened(f)
                before += n
                start += n * (t.mean_s + lost)
                if ccfg.strict_field_order:
                    load += stats.arrivals.get(f, (0.0, 0.0))[0] / opened(f) * t.mean_s
            share = min(1.0, max(0.15, 1.0 - load))
        sd = math.sqrt(own.sd_s ** 2 + stats.lost_sd_s ** 2)
        lanes.append(_Lane(start, (own.mean_s + lost) / share, sd, busy is None and number not in paused, before,
                           spread, start - rest if spread else start))
    return lanes


def _call_time(lanes: list[_Lane], calls: int) -> float:
    """When the `calls`-th call of the field happens (the lanes' calls merged in time), to a second."""
    if len(lanes) == 1:
        return lanes[0].start_s + (calls - 1) * lanes[0].period_s
    pairs = [(ln.start_s, ln.period_s) for ln in lanes]

    def count(t: float) -> int:
        n = 0
        for s, p in pairs:
            if t >= s:
                n += int((t - s) // p) + 1
        return n

    lo = min(s for s, _ in pairs)
    if count(lo) >= calls:
        return lo
    longest = max(p for _, p in pairs)
    hi = max(s for s, _ in pairs) + calls * longest
    # the fluid guess brackets the answer within one period either side: fewer halvings
    guess = (calls - len(pairs) + sum(s / p for s, p in pairs)) / sum(1.0 / p for _, p in pairs)
    a, b = max(lo, guess - longest), min(hi, guess + longest)
    if a < b and count(a) < calls <= count(b):
        lo, hi = a, b
    while hi - lo > 2.0:
        mid = (lo + hi) / 2
        if count(mid) >= calls:
            hi = mid
        else:
            lo = mid
    return hi


def _done_by(spec: tuple, t: float) -> float:
    """P(a lane's first call happened by t); spec from `_first_call_time`."""
    fixed, kind, a, b, c, d = spec
    if t < fixed:
        return 0.0
    if kind == 0:
        return 1.0
    if kind == 1:
        return 1.0 - math.exp((fixed - t) * a)
    x = c + t - fixed  # the visit under way, `c` long already: P(S <= x | S > c), S log-normal
    return max(0.0, 1.0 - d * math.erfc((math.log(x) - a) / b)) if x > 0 else 0.0


def _first_call_time(lanes: list[_Lane], planned: float) -> float:
    """The expected time of the field's next call when several counters may make it: the first
    of several busy counters to finish comes sooner than the soonest expected finish.
    E[T] = integral of P(no call by t), the lanes independent, each first call spread as it says."""
    specs = []
    for ln in lanes:
        sp = ln.spread
        if sp is None:
            specs.append((ln.fixed_s, 0, 0.0, 0.0, 0.0, 0.0))
        elif sp[0] == "idle":
            specs.append((ln.fixed_s, 1, 1.0 / sp[1], 0.0, 0.0, 0.0))
        else:
            _, mu, sigma, elapsed, tail = sp
            specs.append((ln.fixed_s, 2, mu, sigma * math.sqrt(2), elapsed, 0.5 / tail))
    h = (3.0 * planned + 2 * REACTION_S) / RANDOM_STEPS
    total, prev = 0.0, 1.0
    for j in range(1, RANDOM_STEPS + 1):
        now_p = 1.0
        for spec in specs:
            now_p *= 1.0 - _done_by(spec, j * h)
        total += (prev + now_p) * h / 2
        prev = now_p
        if now_p < 1e-4:
            break
    return min(total, planned)


_FIRST: dict[int, tuple[list[_Lane], float]] = {}
_LANES: dict[tuple, tuple[Stats, Floor, list[_Lane]]] = {}  # holding stats and floor keeps their ids unique


def _lanes_cached(topo: _Topology, field_code: str, priority: bool, counters: list[int], paused: frozenset[int],
                  stats: Stats, floor: Floor, now: datetime) -> list[_Lane]:
    """The lanes of a field for a second (a burst of issues reuses them): they change with the
    floor, the figures, the pauses and the clock (the rest of the visits under way)."""
    key = (field_code, priority, paused, id(stats), id(floor), int(now.timestamp()))
    got = _LANES.get(key)
    if got is not None and got[0] is stats and got[1] is floor:
        return got[2]
    if len(_LANES) > 256:
        _LANES.clear()
    lanes = _lanes(topo, field_code, priority, counters, paused, stats, floor, now)
    _LANES[key] = (stats, floor, lanes)
    return lanes


def _wait(lanes: list[_Lane], calls: int) -> float:
    """When the `calls`-th call of the field comes: the lanes' planned calls merged; the next call
    (nobody ahead), the expected first of several counters (idle or busy) to call."""
    planned = _call_time(lanes, calls)
    if calls != 1 or len(lanes) < 2:
        return planned
    spread = [ln for ln in lanes if ln.spread]
    if len(spread) < 2:
        return planned
    if len(spread) == len(lanes) and all(ln.spread[0] == "idle" and ln.fixed_s == lanes[0].fixed_s for ln in lanes):
        return min(lanes[0].fixed_s + REACTION_S / len(lanes), planned)  # the first of several idle counters
    got = _FIRST.get(id(lanes))
    if got is not None and got[0] is lanes:
        return got[1]
    if len(_FIRST) > 256:
        _FIRST.clear()
    first = _first_call_time(lanes, planned)
    _FIRST[id(lanes)] = (lanes, first)  # the lanes are reused for a second: so is their first call
    return first


def estimate(config: OfficeConfig, field_code: str, ahead: int, *, priority: bool, stats: Stats, floor: Floor,
             now: datetime, rules: Iterable[Rule] = DEFAULT_RULES,
             paused: frozenset[int] | None = None) -> Estimate | None:
    """The wait of a waiting ticket of `field_code` with `ahead` people before it; None when no
    counter serves the field. paused: the paused counters if read more recently than the floor."""
    topo = topology(config)
    serving = topo.serving.get(field_code)
    if not serving:
        return None
    paused = floor.paused if paused is None else paused
    open_counters = [c for c in serving if c not in paused]
    # A paused counter comes back, nobody knows when: it counts from PAUSE_REST_S on, and widens the range.
    lanes = _lanes_cached(topo, field_code, priority, serving, paused, stats, floor, now)
    wait = _wait(lanes, ahead + 1)
    # the rules see this first wait; the wait then counts who they bring
    ask = Ask(field_code, priority, ahead, wait, len(open_counters), stats, floor, config, now)
    extra = sum(max(0.0, float(rule(ask))) for rule in rules)
    if extra >= 0.5:
        wait = _wait(lanes, ahead + 1 + int(round(extra)))
    idle = sum(1 for ln in lanes if ln.idle and ln.start_s <= REACTION_S)
    turns = max(0.0, ahead + extra + 1 - idle) + sum(ln.before for ln in lanes) / len(lanes)
    turn = stats.turn(field_code)
    # effective counters: the calls per second of the lanes, in turns of the field
    k = max(1.0, sum(1.0 / max(ln.period_s, 1.0) for ln in lanes) * turn.mean_s)
    sd_turn = max(ln.sd_s for ln in lanes)
    paused_share = (len(serving) - len(open_counters)) / len(serving)
    spread = math.sqrt((sd_turn * math.sqrt(turns) / k) ** 2 + (MODEL_SHARE * wait) ** 2 + REACTION_S ** 2
                       + (paused_share * PAUSE_REST_S) ** 2)
    low = max(0.0, wait - Z_LOW * spread)
    high = wait + Z_HIGH * spread
    basis = {
        "counters_open": len(open_counters),
        "counters_paused": len(serving) - len(open_counters),
        "service_min": round(turn.mean_s / 60, 1),
        "visits": stats.visits(field_code),
        "source": "history" if stats.visits(field_code) else "default",
        "extra_ahead": round(extra, 1),
    }
    return Estimate(int(round(wait)), int(low), int(math.ceil(high)), ahead, basis)
