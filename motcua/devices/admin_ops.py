"""What the administrator's device page may ask of a device: a test ticket on the printer,
a test number on an LED board, unplugging and replugging a simulated twin. Each is queued for
the device layer's own worker (`Bindings.later`, the printer's job thread): the web request
returns at once and the result comes back as `device:status` / `print:job` events.

A device on a device agent's PC is driven through the agent's link. When another server
process holds that link, the action is left for it in the database (agent_links.py): the
administrator may ask through any process."""
from __future__ import annotations

import functools
import logging
from typing import Any

log = logging.getLogger(__name__)

TEST_NUMBER = "8888"


def _config(reg: Any, name: str) -> Any:
    dev = next((d for d in reg.ctx.config.devices if d.name == name), None)
    if dev is None:
        from ..errors import MotcuaError

        raise MotcuaError("unknown_device", f"Không có thiết bị tên '{name}'.", 404)
    return dev


def _simulated(dev: Any) -> bool:
    return str(dev.url or "").startswith(("sim://", "virtual"))


def _through_agent(reg: Any, dev: Any, action: str, message: str) -> dict[str, Any] | None:
    """None when this process does it itself; else the answer once left for the link's holder."""
    from ..errors import MotcuaError

    agent = str(dev.agent or "")
    if not agent or dev.name not in reg.remote.devices or reg.remote.is_connected(agent):
        return None
    if not reg.remote.links.held_elsewhere(agent):
        raise MotcuaError("agent_offline", f"Máy trạm {agent} chưa kết nối với máy chủ: chưa gửi được lệnh tới "
                          f"{dev.name}. Hãy kiểm tra máy trạm rồi thử lại.", 409)
    reg.remote.links.ask_holder(agent, dev.name, action)
    return {"ok": True, "queued": True, "message": message}


def run_test(reg: Any, name: str, action: str, *, here: bool = False) -> dict[str, Any]:
    """Queue `action` for device `name`; returns {"ok", "queued", "message"} (Vietnamese).
    `here`: asked by another process for an agent linked to this one (never passed on again)."""
    from ..errors import MotcuaError

    dev = _config(reg, name)
    b = reg.bindings
    if action == "test_print":
        if dev.kind != "printer":
            raise MotcuaError("not_a_printer", f"Thiết bị {name} không phải máy in.", 409)
        ticket = {"number": "TEST", "service_name": "In thử - kiểm tra máy in", "ahead": 0, "estimated_wait_s": 0,
                  "counters": []}
        job = reg.print_ticket(ticket, reprint=True)
        return {"ok": True, "queued": True, "job": job, "message": f"Đã gửi lệnh in thử tới {name}."}
    if action == "test_call":
        if dev.kind != "led":
            raise MotcuaError("not_a_board", f"Thiết bị {name} không phải bảng LED.", 409)
        message = f"Đã gửi số {TEST_NUMBER} tới bảng LED {name}."
        elsewhere = None if here else _through_agent(reg, dev, action, message)
        if elsewhere is not None:
            return elsewhere
        boards = [(bus, amap) for bus, amap in b.boards if getattr(bus, "name", "") == name]
        for bus, amap in boards:
            for unit in amap:
                b.later(b._show, bus, unit, TEST_NUMBER)
        return {"ok": True, "queued": True, "message": message}
    if action in ("unplug", "replug"):
        on_agent = name in reg.remote.devices and _simulated(dev)
        if name not in reg.sims and not on_agent and not (
                reg.jobs.printer is not None and reg.jobs.printer_name == name):
            raise MotcuaError("not_simulated", f"Thiết bị {name} là thiết bị thật: chỉ rút/cắm lại được thiết bị "
                              "mô phỏng.", 409)
        word = "rút" if action == "unplug" else "cắm lại"
        message = f"Đã {word} thiết bị mô phỏng {name}."
        elsewhere = None if here else _through_agent(reg, dev, action, message)
        if elsewhere is not None:
            return elsewhere
        b.later(functools.partial(reg.simulate, name, fault="offline" if action == "unplug" else None))
        return {"ok": True, "queued": True, "message": message}
    raise MotcuaError("invalid", "Thao tác không hợp lệ.", 422)
