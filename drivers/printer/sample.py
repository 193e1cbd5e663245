"""A sample queue ticket, for test prints, the benchmark and the tests."""

from __future__ import annotations

from .document import BigText, Cut, Feed, PrintDocument, QRCode, Rule, Text


def sample_ticket(
    number: str = "1005",
    office: str = "UBND PHƯỜNG BẾN NGHÉ\nBỘ PHẬN MỘT CỬA",
    field: str = "Hộ tịch - Chứng thực",
    counters: str = "Quầy 1, 2",
    waiting: str = "Trước bạn: 3 người - Chờ khoảng 12 phút",
    issued: str = "23/11/2026 10:15",
    url: str = "http://127.0.0.1:5000/t/AbCdEf123456",
    footer: str = "Cảm ơn quý khách",
) -> PrintDocument:
    """The document of a typical 80 mm ticket (the core builds its own from real data)."""
    return PrintDocument(
        title=f"Vé {number}",
        blocks=[
            Text(office, size="normal", bold=True),
            Rule(),
            Text("SỐ THỨ TỰ", size="large", bold=True),
            BigText(number),
            Text(field, size="large", bold=True),
            Text(counters, size="normal"),
            Text(waiting, size="small"),
            Text(issued, size="small"),
            QRCode(url, module_size=6),
            Text(footer, size="normal"),
            Feed(1),
            Cut(),
        ],
    )
