"""What goes on paper: the ticket and the procedure checklist, as generic print documents
(drivers/printer's document model; the printer turns them into ESC/POS bytes)."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from config.schema import OfficeConfig
from drivers.printer import BigText, Cut, Feed, PrintDocument, QRCode, Rule, Text


def _wait_line(ticket: dict[str, Any]) -> str:
    ahead = int(ticket.get("ahead") or 0)
    minutes = round(int(ticket.get("estimated_wait_s") or 0) / 60)
    wait = "dưới 1 phút" if minutes < 1 else f"khoảng {minutes} phút"
    return f"Trước ông/bà: {ahead} người - Chờ {wait}"


def ticket_document(config: OfficeConfig, ticket: dict[str, Any], *, reprint: bool = False,
                    tz: ZoneInfo | None = None) -> PrintDocument:
    office = config.office.short_name or config.office.name
    issued = ticket.get("issued_at") or ""
    try:
        when = datetime.fromisoformat(issued)
        if tz is not None:
            when = when.astimezone(tz)
        issued_txt = when.strftime("%H:%M  %d/%m/%Y")
    except ValueError:
        issued_txt = issued
    counters = ticket.get("counters") or []
    blocks: list[Any] = [
        Text(office, size="normal", bold=True),
        Rule(),
        Text("SỐ THỨ TỰ", size="large", bold=True),
        BigText(str(ticket["number"])),
        Text(ticket.get("service_name") or ticket.get("service", ""), size="large", bold=True),
    ]
    if ticket.get("priority_label"):
        blocks.append(Text(f"Ưu tiên: {ticket['priority_label']}", size="normal", bold=True))
    if counters:
        blocks.append(Text("Quầy số " + ", ".join(str(c) for c in counters), size="normal"))
    if "ahead" in ticket:
        blocks.append(Text(_wait_line(ticket), size="small"))
    blocks.append(Text(issued_txt + ("  (IN LẠI)" if reprint else ""), size="small"))
    if ticket.get("url"):
        blocks.append(QRCode(ticket["url"], module_size=5))
        blocks.append(Text("Quét mã để theo dõi lượt của ông/bà", size="small"))
    blocks += [Text("Xin cảm ơn ông/bà!", size="normal"), Feed(1), Cut()]
    return PrintDocument(title=f"Vé {ticket['number']}", blocks=blocks)


def checklist_document(config: OfficeConfig, procedure: dict[str, Any]) -> PrintDocument:
    blocks: list[Any] = [
        Text(config.office.short_name or config.office.name, size="normal", bold=True),
        Rule(),
        Text("GIẤY TỜ CẦN MANG THEO", size="large", bold=True),
        Text(procedure.get("name", ""), size="normal", bold=True, align="left"),
    ]
    for i, doc in enumerate(procedure.get("documents") or [], 1):
        name = doc.get("name", "") if isinstance(doc, dict) else str(doc)
        counts = []
        if isinstance(doc, dict):
            if doc.get("original"):
                counts.append(f"{doc['original']} bản chính")
            if doc.get("copy"):
                counts.append(f"{doc['copy']} bản sao")
        blocks.append(Text(f"{i}. {name}" + (f" ({', '.join(counts)})" if counts else ""), size="small", align="left"))
    if procedure.get("time_limit"):
        blocks.append(Text("Thời hạn: " + str(procedure["time_limit"]), size="small", align="left"))
    if procedure.get("fees"):
        blocks.append(Text("Lệ phí: " + str(procedure["fees"]), size="small", align="left"))
    blocks += [Feed(1), Cut()]
    return PrintDocument(title="Danh sách giấy tờ", blocks=blocks)
