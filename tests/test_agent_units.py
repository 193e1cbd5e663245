"""Device agents without processes: the office file's rules for agents, the server's number
blocks and hand-over (both databases), the agent's journal (a job sent twice is printed once,
also after a restart). The whole path, with processes, is tests/test_agent.py."""
from __future__ import annotations

from datetime import timedelta

import pytest

from helpers import wait_for

AGENT_TOKEN = "agent-token-0001-thu-nghiem-may-tram"


def _with_agent(cfg, **printer):
    from config.schema import DeviceConfig

    devices = [d for d in cfg.devices if d.kind != "printer"] + [
        DeviceConfig(name="may-tram-1", kind="agent", token=AGENT_TOKEN, options={"offline_block": 5}),
        DeviceConfig(name="may-in-ve", kind="printer", url="virtual", **printer),
    ]
    return cfg.model_copy(update={"devices": devices})


def test_the_office_file_checks_who_owns_a_device(office_config):
    from pydantic import ValidationError

    from config.schema import OfficeConfig

    ok = _with_agent(office_config, agent="may-tram-1")
    OfficeConfig.model_validate(ok.model_dump())
    bad = ok.model_dump()
    next(d for d in bad["devices"] if d["name"] == "may-in-ve")["agent"] = "khong-co"
    with pytest.raises(ValidationError, match="phải là tên một thiết bị loại 'agent'"):
        OfficeConfig.model_validate(bad)
    short = ok.model_dump()
    next(d for d in short["devices"] if d["name"] == "may-tram-1")["token"] = "ngan"
    with pytest.raises(ValidationError, match="token"):
        OfficeConfig.model_validate(short)


class _Ctx:
    def __init__(self, cfg, store, engine):
        self.config, self.store, self.engine = cfg, store, engine


def test_blocks_are_never_issued_twice_and_a_hand_over_counts_once(db_url, engine_for, office_config, clock):
    from motcua.devices.offline import OfflineBlocks

    cfg = _with_agent(office_config, agent="may-tram-1")
    store, eng = engine_for(db_url, cfg)
    blocks = OfflineBlocks(_Ctx(cfg, store, eng))
    first = eng.issue("HOTICH")  # 1001: before any block
    granted = blocks.top_up("may-tram-1", 5)
    hotich = next(b for b in granted["blocks"] if b["field"] == "HOTICH")
    assert (hotich["first"], hotich["last"]) == (2, 6) and hotich["numbers"]["2"] == "1002"
    assert blocks.top_up("may-tram-1", 5)["blocks"] == granted["blocks"], "no new block while enough are left"
    server_next = eng.issue("HOTICH")
    assert server_next["number"] == "1007", "the server's numbering goes on after the block"
    issued_at = clock() + timedelta(minutes=1)
    tk = {"uid": "u1", "field": "HOTICH", "n": 2, "number": "1002", "business_date": granted["business_date"],
          "issued_at": issued_at.isoformat(), "priority": None}
    out = blocks.hand_over("may-tram-1", {"tickets": [tk]})
    assert out["results"][0]["ok"] and out["results"][0]["number"] == "1002"
    again = blocks.hand_over("may-tram-1", {"tickets": [tk]})
    assert again["results"][0]["ticket_id"] == out["results"][0]["ticket_id"], "sent twice, taken once"
    stray = blocks.hand_over("may-tram-1", {"tickets": [{**tk, "uid": "u2", "n": 7}]})
    assert stray["results"][0] == {"uid": "u2", "ok": False, "error": "not_in_block"}
    snap = eng.views.snapshot()
    assert next(s for s in snap["services"] if s["code"] == "HOTICH")["waiting"] == 3
    # Issue order: 1001 (09:00), 1007 (09:00, later id), then 1002 issued offline at 09:01.
    called = [eng.call_next(1)["number"]]
    for _ in range(2):
        clock.advance(seconds=5)
        called.append(eng.call_next(1)["number"])
    assert called == ["1001", "1007", "1002"]
    # Running low: half a block or less left (4 of 5 left after one hand-over: no new block yet).
    assert len(blocks.top_up("may-tram-1", 5)["blocks"]) == len(granted["blocks"])


def test_a_job_sent_twice_is_printed_once_also_after_a_restart(tmp_path):
    import agentproto as proto
    from agent.link import Agent

    printer_dir = tmp_path / "printer"
    devices = [{"name": "may-in-ve", "kind": "printer", "url": f"virtual://?dir={printer_dir}", "options": {}}]
    body = {"job_id": "job-1", "title": "Vé 1001", "timeout_s": 30,
            "blocks": [{"t": "text", "text": "SỐ THỨ TỰ"}, {"t": "big", "text": "1001"}, {"t": "cut"}]}
    a = Agent("http://127.0.0.1:9", AGENT_TOKEN, tmp_path / "data")
    a.hw.start(devices)
    on_print = a.sio.handlers[proto.NAMESPACE][proto.PRINT_SUBMIT]
    try:
        assert on_print(body) == {"ok": True, "state": "queued"}
        wait_for(lambda: a.journal.job_state("job-1") == "done", 15, "printed")
        assert on_print(body) == {"ok": True, "state": "done"}
        assert on_print({**body, "blocks": []})["ok"] is False, "a malformed job is refused"
    finally:
        a.hw.stop()
    b = Agent("http://127.0.0.1:9", AGENT_TOKEN, tmp_path / "data")
    b.hw.start(devices)
    try:
        assert b.sio.handlers[proto.NAMESPACE][proto.PRINT_SUBMIT](body) == {"ok": True, "state": "done"}
    finally:
        b.hw.stop()
    assert len(list(printer_dir.glob("*.bin"))) == 1


def test_led_boards_on_an_agent_show_the_called_number(tmp_path, office_config):
    """Server side: the bindings' show() on an agent's board becomes a device:call message;
    agent side: that message reaches the board's driver (a simulated Modbus board)."""
    import agentproto as proto
    from agent.link import Agent
    from config.schema import DeviceConfig
    from motcua.devices.remote import RemoteAgents, RemoteBus

    sent = []
    remote = RemoteAgents(None, lambda *a, **k: None, lambda *a: None, lambda *a: None)
    board = DeviceConfig(name="bang-led-quay", kind="led", url="sim://", agent="may-tram-1", counters={"1": 1})
    remote.devices[board.name] = board
    remote.attach_sender(lambda sid, event, body, cb: sent.append((sid, event, body)))
    RemoteBus(remote, board).show(1, "1001")
    assert sent == [], "nothing is sent to an agent that is away"
    remote._sids["may-tram-1"] = "sid-1"
    RemoteBus(remote, board).show(1, "1001")
    ((sid, event, body),) = sent
    assert (sid, event) == ("sid-1", proto.CALL) and body == {"device": "bang-led-quay", "method": "show",
                                                              "args": [1, "1001"]}
    a = Agent("http://127.0.0.1:9", AGENT_TOKEN, tmp_path / "data")
    a.hw.start([{"name": "bang-led-quay", "kind": "led", "url": "sim://", "counters": {"1": 1}, "options": {}}])
    try:
        a.sio.handlers[proto.NAMESPACE][proto.CALL](body)
        a.sio.handlers[proto.NAMESPACE][proto.CALL]({**body, "method": "stop", "args": []})  # not allowed: ignored
        sim = a.hw.buses["bang-led-quay"].simulator
        wait_for(lambda: sim.value(1) == 1001, 15, "the board shows 1001")
        assert a.hw.running()
    finally:
        a.hw.stop()


def test_the_other_process_shows_the_newest_state_of_an_agents_device(db_url, engine_for, office_config):
    """Two server processes on one database, the agent linked to the first. The server handles
    an agent's messages on several threads, so a newer report may be handled before an older
    one; and an agent may link again before its old link's end is seen. Either way the device
    list of both processes shows what the device is now."""
    from config.schema import DeviceConfig
    from motcua.devices.remote import RemoteAgents

    cfg = _with_agent(office_config, agent="may-tram-1")
    store, eng = engine_for(db_url, cfg)
    shown: list[dict] = [{}, {}]

    def process(i: int) -> RemoteAgents:
        def set_status(name, kind, state, detail="", **extra):
            shown[i][name] = str(getattr(state, "value", state))
        remote = RemoteAgents(_Ctx(cfg, store, eng), set_status, lambda *a: None, lambda *a: None)
        remote.add_agent(next(d for d in cfg.devices if d.name == "may-tram-1"))
        remote.add_device(DeviceConfig(name="may-in-ve", kind="printer", url="virtual", agent="may-tram-1"))
        return remote

    holder, other = process(0), process(1)
    holder.connected("may-tram-1", "sid-1")
    report = {"device": "may-in-ve", "kind": "printer", "detail": "", "run": "chay-1"}
    holder.on_state("may-tram-1", {**report, "state": "ready", "seq": 2})
    holder.on_state("may-tram-1", {**report, "state": "connecting", "seq": 1})  # handled late
    assert shown[0]["may-in-ve"] == "ready"
    holder.connected("may-tram-1", "sid-2")  # linked again; the printer has not changed: no report
    holder.disconnected("may-tram-1", "sid-1")  # the old link's end, seen late: ignored
    holder.links._share()
    other.links._share()
    assert shown[1]["may-in-ve"] == "ready", shown[1]
    assert shown[1]["may-tram-1"] == "ready"
    holder.disconnected("may-tram-1", "sid-2")
    holder.on_state("may-tram-1", {**report, "state": "ready", "seq": 3})  # in flight at the end: not shown
    assert shown[0]["may-in-ve"] == "lost"
