"""Issue 3's acceptance: tap a field on /kiosk in Debian's chromium and see the number, then
decode the printed job from DATA/printer/ with our own ESC/POS parser (not the renderer),
rebuild the paper and show that the number and the Vietnamese field name are legible and
that the QR code opens the ticket's /t/ page."""
from __future__ import annotations

import re
import time

import pytesseract
from playwright.sync_api import expect
from pyzbar.pyzbar import decode as zbar_decode

from escpos_decode import decode as escpos_decode


def test_tapped_ticket_prints_legibly(server, context_factory):
    page = context_factory().new_page()
    page.goto(server.url + "/kiosk")
    page.get_by_test_id("service-LDTBXH").click()
    page.get_by_test_id("priority-none").click()
    number = page.get_by_test_id("ticket-number")
    expect(number).to_have_text(re.compile(r"^4\d{3}$"))
    shown = number.inner_text()
    qr_src = page.get_by_test_id("ticket-qr").get_attribute("src")
    token = re.search(r"/t/([^/]+)/qr\.svg", qr_src).group(1)

    jobs_dir = server.data_dir / "printer"
    deadline = time.monotonic() + 10
    jobs = []
    while time.monotonic() < deadline and not jobs:
        jobs = sorted(jobs_dir.glob("*.bin"))
        time.sleep(0.05)
    assert len(jobs) == 1, "one tap, one print job"
    paper = escpos_decode(jobs[0].read_bytes())
    assert paper.cut

    qr_texts = [d.data.decode() for d in zbar_decode(paper.paper.convert("L"))]
    assert any(t.endswith(f"/t/{token}") for t in qr_texts), qr_texts
    digits = pytesseract.image_to_string(paper.paper, config="--psm 11 -c tessedit_char_whitelist=0123456789")
    assert shown in digits.split(), digits
    text = " ".join(pytesseract.image_to_string(paper.paper, lang="vie").split())
    assert "Lao động - Thương binh và Xã" in text, text[:300]
    assert "SỐ THỨ TỰ" in text
