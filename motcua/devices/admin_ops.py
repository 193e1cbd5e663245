"""What the administrator's device page may ask of a device: a test ticket on the printer,
a test number on an LED board, unplugging and replugging a simulated twin. Each is queued for
the device layer's own worker (`Bindings.later`, the printer's job thread): the web request
returns at once and the result comes back as `device:status` / `print:job` events."""
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


def run_test(reg: Any, name: str, action: str) -> dict[str, Any]:
    """Queue `action` for device `name`; returns {"ok", "queued", "message"} (Vietnamese)."""
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
        boards = [(bus, amap) for bus, amap in b.boards if getattr(bus, "name", "") == name] or b.boards
        for bus, amap in boards:
            for unit in amap:
                b.later(b._show, bus, unit, TEST_NUMBER)
        return {"ok": True, "queued": True, "message": f"Đã gửi số {TEST_NUMBER} tới bảng LED {name}."}
    if action in ("unplug", "replug"):
        if name not in reg.sims and not (reg.jobs.printer is not None and reg.jobs.printer_name == name):
            raise MotcuaError("not_simulated", f"Thiết bị {name} là thiết bị thật: chỉ rút/cắm lại được thiết bị "
                              "mô phỏng.", 409)
        b.later(functools.partial(reg.simulate, name, fault="offline" if action == "unplug" else None))
        word = "rút" if action == "unplug" else "cắm lại"
        return {"ok": True, "queued": True, "message": f"Đã {word} thiết bị mô phỏng {name}."}
    raise MotcuaError("invalid", "Thao tác không hợp lệ.", 422)
