"""The notices domain (motcua/notices.py) without a server: rules, table and bus event."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from motcua import notices
from motcua.events import EventBus


@pytest.fixture
def svc(tmp_path, engine_for):
    store, eng = engine_for(f"sqlite:///{tmp_path / 'n.sqlite3'}")
    bus = EventBus()
    seen: list = []
    bus.subscribe(seen.append, names=["notice:changed"])
    return SimpleNamespace(store=store, engine=eng, bus=bus, seen=seen)


def test_add_list_remove_publish(svc):
    assert notices.one_line("  Nghỉ\ttrưa\n 11:30 -\x0013:30 ") == "Nghỉ trưa 11:30 - 13:30"
    assert notices.active_notices(svc) == []
    first = notices.add_notice(svc, "Một")
    second = notices.add_notice(svc, "Hai")
    assert first["text"] == "Một" and first["created_at"].endswith("+07:00")
    assert [n["id"] for n in notices.active_notices(svc)] == [first["id"], second["id"]]
    assert [[n["text"] for n in e.payload["notices"]] for e in svc.seen] == [["Một"], ["Một", "Hai"]]
    assert all(e.audience == ("public",) for e in svc.seen)
    assert notices.remove_notice(svc, first["id"]) == [second]
    assert svc.seen[-1].payload["notices"] == [second]
    with pytest.raises(notices.NoticeError) as e:
        notices.remove_notice(svc, first["id"])
    assert (e.value.code, e.value.status) == ("notice_not_found", 404)
    assert len(svc.seen) == 3, "a refusal publishes nothing"


def test_at_most_twenty_on_the_screens(svc):
    for i in range(notices.MAX_ACTIVE_NOTICES):
        notices.add_notice(svc, f"Thông báo {i}")
    with pytest.raises(notices.NoticeError) as e:
        notices.add_notice(svc, "Một nữa")
    assert (e.value.code, e.value.status) == ("too_many_notices", 409)
    assert len(notices.active_notices(svc)) == notices.MAX_ACTIVE_NOTICES


def test_schedule_and_priority(svc, clock):
    """Only the notices in force now are on the screens, the urgent ones first; the screens are
    told when to ask again (the next start or end)."""
    from datetime import timedelta

    now = clock()
    plain = notices.add_notice(svc, "Thường trước")
    later = notices.add_notice(svc, "Nghỉ lễ 2/9", starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=3))
    urgent = notices.add_notice(svc, "Mất điện tầng 2", priority="urgent", ends_at=now + timedelta(hours=2))
    assert later["state"] == "scheduled" and urgent["state"] == "shown" and urgent["priority_label"] == "Khẩn"
    assert later["starts_at"].endswith("+07:00")
    state = notices.screen_state(svc)
    assert [n["text"] for n in state["notices"]] == ["Mất điện tầng 2", "Thường trước"]
    assert state["refresh_in_s"] == 3601  # the planned one starts in an hour
    assert svc.seen[-1].payload == state
    assert [n["id"] for n in notices.all_notices(svc)] == [urgent["id"], plain["id"], later["id"]]

    clock.advance(hours=1, minutes=30)
    assert [n["text"] for n in notices.active_notices(svc)] == ["Mất điện tầng 2", "Thường trước", "Nghỉ lễ 2/9"]
    clock.advance(hours=1)  # the urgent one is over
    assert [n["text"] for n in notices.active_notices(svc)] == ["Thường trước", "Nghỉ lễ 2/9"]
    clock.advance(hours=1)
    assert [n["text"] for n in notices.active_notices(svc)] == ["Thường trước"]
    assert notices.screen_state(svc)["refresh_in_s"] is None
    with pytest.raises(notices.NoticeError) as e:
        notices.remove_notice(svc, later["id"])  # over: nothing to take off
    assert e.value.status == 404


def test_change_and_bad_schedules(svc, clock):
    from datetime import timedelta

    now = clock()
    n = notices.add_notice(svc, "Một")
    changed = notices.change_notice(svc, n["id"], {"priority": "urgent", "starts_at": now + timedelta(minutes=10)})
    assert changed["priority"] == "urgent" and changed["state"] == "scheduled" and changed["text"] == "Một"
    assert notices.active_notices(svc) == [] and svc.seen[-1].payload["notices"] == []
    for start, end in ((now + timedelta(hours=2), now + timedelta(hours=1)), (None, now - timedelta(minutes=1))):
        with pytest.raises(notices.NoticeError) as e:
            notices.add_notice(svc, "Hai", starts_at=start, ends_at=end)
        assert (e.value.code, e.value.status) == ("bad_schedule", 422)
    with pytest.raises(notices.NoticeError) as e:
        notices.change_notice(svc, n["id"], {"ends_at": now + timedelta(minutes=5)})  # before its start
    assert e.value.code == "bad_schedule"
    assert notices.change_notice(svc, n["id"], {"starts_at": None})["state"] == "shown"
