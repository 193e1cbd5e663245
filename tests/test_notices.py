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
