"""Issuing while the link to the server is down (docs/agents.md).

The server keeps blocks of numbers for this agent, per kiosk field and business day
(`agentproto.BLOCKS`); they are kept in `numbers.json`. A number is taken in order, marked
used and the ticket recorded (on disk) before it is printed, so a crash never gives one
number twice; the paper says "Cấp khi mất kết nối". The tickets wait in `pending` until the
server has taken them (`agentproto.HANDOVER`, idempotent on their uid).
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from agentproto import OFFLINE_MARK, OFFLINE_MARK_EN
from drivers.printer import BigText, Cut, Feed, PrintDocument, Rule, Text

from .journal import Journal

log = logging.getLogger(__name__)


class OfflineRefused(Exception):
    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.message, self.status = message, status


class OfflineDesk:
    def __init__(self, journal: Journal, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.j = journal
        self.clock = clock

    # Time and fields (from the last configuration) -----------------------------------------
    def _offset(self) -> timedelta:
        return timedelta(seconds=int(self.j.state.get("tz_offset_s", 7 * 3600)))

    def today(self) -> str:
        return (self.clock() + self._offset()).date().isoformat()

    def fields(self) -> dict[str, dict[str, Any]]:
        return {f["code"]: f for f in self.j.state.get("fields") or [] if f.get("kiosk", True)}

    # Blocks ----------------------------------------------------------------------------------
    def set_blocks(self, body: dict[str, Any]) -> None:
        """The server's blocks of the day (all of them): merged into what is kept."""
        day = body.get("business_date")
        blocks = body.get("blocks") if isinstance(body.get("blocks"), list) else []
        with self.j.lock:
            nums = self.j.numbers
            if nums.get("business_date") != day:
                nums.update(business_date=day, fields={}, used={})
            for b in blocks:
                if not isinstance(b, dict) or b.get("business_date") != day:
                    continue
                have = nums["fields"].setdefault(str(b["field"]), {})
                have.update({str(n): str(v) for n, v in (b.get("numbers") or {}).items()})
            self.j.save_numbers()

    def remaining(self) -> dict[str, int]:
        with self.j.lock:
            nums = self.j.numbers
            if nums.get("business_date") != self.today():
                return {}
            return {f: len(set(have) - set(map(str, nums["used"].get(f, [])))) for f, have in nums["fields"].items()}

    def low(self, block: int) -> bool:
        """A kiosk field has less than half a block left: time to ask for more."""
        if block <= 0:
            return False
        rem = self.remaining()
        return any(rem.get(code, 0) < max(1, block // 2) for code in self.fields())

    # Issuing -------------------------------------------------------------------------------
    def issue(self, field: str, priority: str | None = None) -> dict[str, Any]:
        fcfg = self.fields().get(field)
        if fcfg is None:
            raise OfflineRefused("Không có lĩnh vực này.", 404)
        now = self.clock()
        with self.j.lock:
            nums = self.j.numbers
            if nums.get("business_date") != self.today():
                raise OfflineRefused("Máy lấy số tạm thời chưa cấp được số. Xin ông/bà vui lòng chờ trong giây lát.", 503)
            used = nums["used"].setdefault(field, [])
            free = sorted(int(n) for n in nums["fields"].get(field, {}) if int(n) not in set(used))
            if not free:
                raise OfflineRefused("Lĩnh vực này tạm thời hết số. Xin ông/bà vui lòng chờ trong giây lát.", 503)
            n = free[0]
            ticket = {"uid": uuid.uuid4().hex, "field": field, "n": n, "number": nums["fields"][field][str(n)],
                      "business_date": nums["business_date"], "issued_at": now.isoformat(), "priority": priority}
            used.append(n)
            nums["pending"].append(ticket)
            self.j.save_numbers()  # on disk before it is printed: never the same number twice
        return {**ticket, "service": field, "service_name": fcfg.get("name", field), "offline": True}

    def pending(self) -> list[dict[str, Any]]:
        with self.j.lock:
            return list(self.j.numbers["pending"])

    def handed_over(self, uids: set[str]) -> None:
        with self.j.lock:
            self.j.numbers["pending"] = [t for t in self.j.numbers["pending"] if t["uid"] not in uids]
            self.j.save_numbers()

    # Paper ------------------------------------------------------------------------------------
    def document(self, ticket: dict[str, Any]) -> PrintDocument:
        when = datetime.fromisoformat(ticket["issued_at"]) + self._offset()
        office = str(self.j.state.get("office") or "")
        blocks: list[Any] = []
        if office:
            blocks += [Text(office, size="normal", bold=True), Rule()]
        blocks += [
            Text("SỐ THỨ TỰ", size="large", bold=True),
            BigText(ticket["number"]),
            Text(ticket.get("service_name") or ticket["field"], size="large", bold=True),
            Rule(),
            Text(OFFLINE_MARK, size="large", bold=True),
            Text(OFFLINE_MARK_EN, size="normal"),
            Rule(),
            Text(when.strftime("%H:%M  %d/%m/%Y"), size="small"),
            Text("Xin cảm ơn ông/bà!", size="normal"), Feed(1), Cut(),
        ]
        return PrintDocument(title=f"Vé {ticket['number']} (mất kết nối)", blocks=blocks)
