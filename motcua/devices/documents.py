"""What goes on paper: the ticket and the procedure checklist, as generic print documents
(drivers/printer's document model; the printer turns them into ESC/POS bytes)."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from config.schema import OfficeConfig
from drivers.printer import BigText, Cut, Feed, PrintDocument, QRCode, Rule, Text


def counters_text(counters: list[Any]) -> str:
    """The counters as a citizen says them: "4", "1 hoặc 4", "1, 2 hoặc 4"."""
    names = [str(c) for c in counters or []]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " hoặc " + names[-1]


def _office(config: OfficeConfig) -> str:
    """The office's full name (never the abbreviation: citizens do not know "TTPVHCC")."""
    return config.office.name or config.office.short_name


def _wait_line(ticket: dict[str, Any]) -> str:
    """People ahead and the estimated wait as a range ("Thời gian chờ dự kiến: 15–25 phút")."""
    ahead = int(ticket.get("ahead") or 0)
    est = ticket.get("estimate")
    if est:
        low, high = int(est["low_min"]), int(est["high_min"])
        wait = f"dưới {high} phút" if low < 1 else f"{low}–{high} phút"
    else:
        minutes = round(int(ticket.get("estimated_wait_s") or 0) / 60)
        wait = "dưới 1 phút" if minutes < 1 else f"khoảng {minutes} phút"
    return f"Trước ông/bà: {ahead} người\nThời gian chờ dự kiến: {wait}"


def ticket_document(config: OfficeConfig, ticket: dict[str, Any], *, reprint: bool = False,
                    tz: ZoneInfo | None = None) -> PrintDocument:
    office = _office(config)
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
    if ticket.get("dossier_code"):
        blocks.append(Text(f"Nhận kết quả hồ sơ:\n{ticket['dossier_code']}", size="normal", bold=True))
    if counters:
        blocks.append(Text("Mời đến quầy số " + counters_text(counters), size="normal"))
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
        Text(_office(config), size="normal", bold=True),
        Rule(),
        Text("GIẤY TỜ CẦN MANG THEO", size="large", bold=True),
        Text(procedure.get("name", ""), size="normal", bold=True, align="left"),
    ]
    for i, doc in enumerate(procedure.get("documents") or [], 1):
        blocks.append(Text(f"{i}. {_paper_line(doc)}", size="small", align="left"))
    if procedure.get("time_limit"):
        blocks.append(Text("Thời hạn: " + str(procedure["time_limit"]), size="small", align="left"))
    if procedure.get("fees"):
        blocks.append(Text("Lệ phí: " + str(procedure["fees"]), size="small", align="left"))
    blocks += [Feed(1), Cut()]
    return PrintDocument(title="Danh sách giấy tờ", blocks=blocks)


def _paper_line(doc: Any) -> str:
    """One paper of the checklist: its name, how many originals and copies, or "Xuất trình"
    for a paper only shown at the counter (none handed in), and its note."""
    if not isinstance(doc, dict):
        return str(doc)
    name, note = doc.get("name", ""), str(doc.get("note") or "").strip()
    counts = [f"{doc['original']} bản chính"] if doc.get("original") else []
    if doc.get("copy"):
        counts.append(f"{doc['copy']} bản sao")
    if not counts and not note.casefold().startswith("xuất trình"):
        counts.append("Xuất trình")
    extra = ", ".join(counts + ([note] if note else []))
    return f"{name} ({extra})" if extra else name
