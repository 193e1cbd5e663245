"""Wait estimates (issue 15, "Wait estimates"): a range computed from the event log and the floor
(motcua/queue/estimate.py, WaitEstimator in tickets.py), on the ticket, the phone page's data, the
public state and the printed ticket. The accuracy on a simulated day: bench/bench_estimate.py."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from drivers.printer import BigText, Text
from motcua.devices.documents import ticket_document
from motcua.queue import estimate as est

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def _stats(default_min: float = 5.0) -> est.Stats:
    return est.turn_stats([], default_min * 60)


def _only(cfg, field: str, counters: list[int]):
    """The office with `field` served by exactly these counters (and nothing else changed)."""
    new = []
    for c in cfg.counters:
        fields = [f for f in c.fields if f != field] + ([field] if c.number in counters else [])
        new.append(c.model_copy(update={"fields": fields or ["TRAKQ"], "strict_field_order": False}))
    return cfg.model_copy(update={"counters": new})


def test_two_open_counters_give_a_shorter_wait_than_one(office_config):
    one = _only(office_config, "HOTICH", [1])
    two = _only(office_config, "HOTICH", [1, 2])
    floor = est.Floor(NOW, waiting={"HOTICH": 8})
    e1 = est.estimate(one, "HOTICH", 8, priority=False, stats=_stats(), floor=floor, now=NOW)
    e2 = est.estimate(two, "HOTICH", 8, priority=False, stats=_stats(), floor=floor, now=NOW)
    assert e2.wait_s < e1.wait_s * 0.7 and e2.high_s < e1.high_s
    assert (e1.basis["counters_open"], e2.basis["counters_open"]) == (1, 2)


def test_a_busy_counter_and_the_older_tickets_of_a_shared_counter_come_first(office_config):
    cfg = _only(office_config, "HOTICH", [1])
    idle = est.estimate(cfg, "HOTICH", 0, priority=False, stats=_stats(), floor=est.Floor(NOW), now=NOW)
    busy = est.estimate(cfg, "HOTICH", 0, priority=False, stats=_stats(),
                        floor=est.Floor(NOW, busy={1: (NOW - timedelta(minutes=1), "HOTICH")}), now=NOW)
    assert idle.wait_s < 60 and idle.high_min <= 2, "an idle counter calls at once"
    assert 2 * 60 < busy.wait_s < 6 * 60, "the rest of the current visit"
    # Counter 2 calls DATDAI and XAYDUNG by queue time: 3 older XAYDUNG tickets go first.
    alone = est.estimate(office_config, "DATDAI", 0, priority=False, stats=_stats(), floor=est.Floor(NOW), now=NOW)
    shared = est.estimate(office_config, "DATDAI", 0, priority=False, stats=_stats(),
                          floor=est.Floor(NOW, waiting={"XAYDUNG": 3}), now=NOW)
    assert shared.wait_s > alone.wait_s + 2 * 5 * 60


def test_no_history_uses_default_service_min_then_the_log(db_url, engine_for, office_config, clock):
    slow = office_config.model_copy(update={"queue": office_config.queue.model_copy(update={"default_service_min": 10})})
    store, eng = engine_for(db_url, slow)
    for _ in range(4):
        tk = eng.issue("DATDAI")  # counter 2 alone, idle: 3 ahead of the last one
    e = tk["estimate"]
    assert e["basis"]["source"] == "default" and e["basis"]["service_min"] == 10.0 and e["ahead"] == 3
    assert 25 * 60 <= tk["estimated_wait_s"] <= 35 * 60, "3 citizens of 10 minutes each"
    for _ in range(3):  # three visits of 2 minutes: the log now says so
        eng.call_next(2)
        clock.advance(minutes=2)
        eng.finish(2)
    later = eng.get_ticket(tk["id"])
    assert later["ahead"] == 0 and later["estimate"]["basis"]["source"] == "history"
    assert later["estimate"]["basis"]["visits"] == 3 and later["estimate"]["basis"]["service_min"] < 10


def test_a_paused_counter_lengthens_the_wait(db_url, engine_for):
    store, eng = engine_for(db_url)
    tickets = [eng.issue("HOTICH") for _ in range(8)]
    before = eng.get_ticket(tickets[-1]["id"])
    eng.pause_counter(1, reason="Họp giao ban")
    after = eng.get_ticket(tickets[-1]["id"])
    assert after["estimated_wait_s"] > before["estimated_wait_s"]
    assert after["estimate"]["high_min"] > before["estimate"]["high_min"]
    assert after["estimate"]["basis"]["counters_paused"] == 1 and after["estimate"]["basis"]["counters_open"] == 1
    # The next ticket issued sees the pause too (read inside the issue transaction).
    issued = eng.issue("HOTICH")
    eng.unpause_counter(1)
    assert issued["estimate"]["basis"]["counters_paused"] == 1
    back = eng.get_ticket(issued["id"])  # back at work: no longer the doubt of the pause
    assert back["estimate"]["basis"]["counters_paused"] == 0
    assert back["estimate"]["high_min"] < issued["estimate"]["high_min"]


def test_rules_count_who_will_be_called_first_although_not_in_the_queue_yet(office_config):
    cfg = _only(office_config, "DATDAI", [2])
    floor = est.Floor(NOW, waiting={"DATDAI": 6})
    plain = est.estimate(cfg, "DATDAI", 6, priority=False, stats=_stats(), floor=floor, now=NOW)
    stats = _stats()
    stats.booked_slots["DATDAI"] = [NOW + timedelta(minutes=m) for m in (10, 15, 200)]  # two during the wait
    booked = est.estimate(cfg, "DATDAI", 6, priority=False, stats=stats, floor=floor, now=NOW)
    assert booked.basis["extra_ahead"] == 2 and booked.wait_s > plain.wait_s + 8 * 60
    stats.arrivals["DATDAI"] = (10 / 3600, 2 / 3600)  # two priority citizens an hour
    both = est.estimate(cfg, "DATDAI", 6, priority=False, stats=stats, floor=floor, now=NOW)
    assert both.basis["extra_ahead"] > 2 and both.wait_s > booked.wait_s
    prio = est.estimate(cfg, "DATDAI", 6, priority=True, stats=stats, floor=floor, now=NOW)
    assert prio.basis["extra_ahead"] == 2, "6 priority ahead, quota 3: two normal tickets go between"


def test_the_range_contains_the_point(office_config):
    stats = _stats()
    for field in ("HOTICH", "DATDAI", "TRAKQ"):
        for ahead in (0, 1, 3, 10, 40):
            for floor in (est.Floor(NOW), est.Floor(NOW, paused=frozenset({1, 2})),
                          est.Floor(NOW, busy={4: (NOW - timedelta(minutes=9), "HOTICH")}, waiting={"XAYDUNG": 2})):
                e = est.estimate(office_config, field, ahead, priority=ahead % 2 == 1, stats=stats, floor=floor, now=NOW)
                assert e.low_s <= e.wait_s <= e.high_s
                assert e.low_min * 60 <= e.wait_s <= e.high_min * 60 and e.low_min < e.high_min
                assert e.as_json()["ahead"] == ahead


def test_closed_or_unserved_gives_no_estimate(db_url, engine_for, office_config, clock):
    assert est.estimate(_only(office_config, "HKD", []), "HKD", 2, priority=False, stats=_stats(),
                        floor=est.Floor(NOW), now=NOW) is None
    hours = office_config.model_copy(update={"office": office_config.office.model_copy(update={"always_open": False})})
    store, eng = engine_for(db_url, hours)
    open_state = eng.public_state()["services"]
    assert all(s["estimate"] is not None for s in open_state), "Monday 09:00: tickets can be taken"
    clock.advance(hours=12)  # 21:00
    assert all(s["estimate"] is None for s in eng.public_state()["services"])


def test_the_printed_ticket_shows_the_range(office_config):
    ticket = {"number": "1007", "service_name": "Hộ tịch - Chứng thực", "counters": [1, 4], "ahead": 6,
              "estimated_wait_s": 1200, "estimate": {"low_min": 15, "high_min": 25, "ahead": 6, "basis": {}},
              "issued_at": "2026-11-23T09:00:00+07:00"}
    text = "\n".join(b.text for b in ticket_document(office_config, ticket).blocks if isinstance(b, (Text, BigText)))
    assert "Trước ông/bà: 6 người" in text and "Thời gian chờ dự kiến: 15–25 phút" in text
    short = {**ticket, "ahead": 0, "estimate": {"low_min": 0, "high_min": 2, "ahead": 0, "basis": {}}}
    text = "\n".join(b.text for b in ticket_document(office_config, short).blocks if isinstance(b, Text))
    assert "Thời gian chờ dự kiến: dưới 2 phút" in text


def test_the_api_answers_carry_the_estimate(tmp_path, db_url, office_config, clock):
    from motcua.app import Settings, create_app

    app = create_app(Settings(config=office_config, data_dir=tmp_path / "data", database_url=db_url, testing=True,
                              start_devices=False, background_jobs=False, clock=clock))
    try:
        c = app.test_client()
        for _ in range(3):
            r = c.post("/api/v1/tickets", json={"service": "DATDAI"})
            assert r.status_code == 201, r.get_data(as_text=True)
        tk = r.get_json()
        e = tk["estimate"]
        assert set(e) == {"low_min", "high_min", "ahead", "basis"} and e["ahead"] == tk["ahead"] == 2
        assert e["low_min"] * 60 <= tk["estimated_wait_s"] <= e["high_min"] * 60
        assert tk["estimated_wait_range_s"][0] <= tk["estimated_wait_s"] <= tk["estimated_wait_range_s"][1]
        got = c.get(f"/api/v1/tickets/{tk['id']}").get_json()
        assert got["estimate"]["ahead"] == 2 and got["estimated_wait_s"] > 0
        phone = c.get(f"/api/v1/tickets/by-token/{tk['token']}").get_json()
        assert phone["estimate"] == got["estimate"]
        queue = c.get("/api/v1/queue").get_json()
        datdai = next(s for s in queue["services"] if s["code"] == "DATDAI")
        assert datdai["estimate"]["ahead"] == 3, "a ticket taken now has the three waiting ahead"
    finally:
        app.extensions["motcua"].close()


def test_a_priority_ticket_waits_behind_the_fields_a_strict_counter_calls_first(office_config):
    """Counter 4 calls every Trả kết quả ticket before Hộ tịch (strict field order), priority or not:
    a priority Hộ tịch ticket served there alone waits behind the normal Trả kết quả tickets."""
    cfg = _only(office_config, "HOTICH", [])
    cfg = cfg.model_copy(update={"counters": [
        c.model_copy(update={"fields": ["TRAKQ", "HOTICH"], "strict_field_order": True}) if c.number == 4 else c
        for c in cfg.counters]})
    empty = est.estimate(cfg, "HOTICH", 0, priority=True, stats=_stats(), floor=est.Floor(NOW), now=NOW)
    behind = est.estimate(cfg, "HOTICH", 0, priority=True, stats=_stats(),
                          floor=est.Floor(NOW, waiting={"TRAKQ": 3}), now=NOW)
    # three wait, counter 4 takes its share of them (counter 1 serves Trả kết quả too here)
    assert behind.wait_s > empty.wait_s + 5 * 60, "the Trả kết quả citizens go first"


def test_the_first_of_several_busy_counters_to_finish_calls_sooner(office_config):
    """Nobody ahead and every counter of the field busy: the ticket is called when the first of them
    finishes, which comes sooner than the soonest expected finish (the visits vary); likewise the
    first of several idle counters calls sooner than one alone."""
    one = _only(office_config, "DATDAI", [2])
    three = _only(office_config, "DATDAI", [1, 2, 3])
    started = NOW - timedelta(minutes=1)
    e1 = est.estimate(one, "DATDAI", 0, priority=False, stats=_stats(),
                      floor=est.Floor(NOW, busy={2: (started, "DATDAI")}), now=NOW)
    e3 = est.estimate(three, "DATDAI", 0, priority=False, stats=_stats(),
                      floor=est.Floor(NOW, busy={c: (started, "DATDAI") for c in (1, 2, 3)}), now=NOW)
    assert 3 * 60 < e1.wait_s < 5 * 60, "the rest of one visit of about 5 minutes"
    assert e3.wait_s < 0.75 * e1.wait_s, (e1.wait_s, e3.wait_s)
    assert e3.low_s <= e3.wait_s <= e3.high_s
    # one ahead: the second call is still the planned merge of the counters (not below the first call)
    e3_next = est.estimate(three, "DATDAI", 1, priority=False, stats=_stats(),
                           floor=est.Floor(NOW, busy={c: (started, "DATDAI") for c in (1, 2, 3)}), now=NOW)
    assert e3_next.wait_s >= e3.wait_s
    idle1 = est.estimate(one, "DATDAI", 0, priority=False, stats=_stats(), floor=est.Floor(NOW), now=NOW)
    idle3 = est.estimate(three, "DATDAI", 0, priority=False, stats=_stats(), floor=est.Floor(NOW), now=NOW)
    assert idle3.wait_s < idle1.wait_s <= est.REACTION_S
