"""What the kiosk printer puts on paper, read as a citizen reads it, and print jobs that cannot
be printed: the pickup ticket names its dossier, counters read "1 hoặc 4", the office has its
full name, the checklist keeps "Xuất trình", and a ticket that could not be printed is not
printed later when the paper comes back."""
from __future__ import annotations

import time
from typing import Any, Callable

import pytest

from config import DeviceConfig
from drivers.printer import BigText, Text
from motcua.catalogue import Catalogue
from motcua.devices import DeviceContext, DeviceRegistry
from motcua.devices import documents
from motcua.devices.documents import checklist_document, ticket_document
from motcua.events import EventBus
from motcua.queue import QueueEngine
from motcua.store import Store
from helpers import wait_for  # noqa: E402

DOSSIER = "000.17.22.H56-251103-0901"


def lines(doc) -> list[str]:
    return [b.text for b in doc.blocks if isinstance(b, (Text, BigText))]


def test_counters_read_as_a_sentence():
    said = documents.counters_text
    assert said([4]) == "4"
    assert said([1, 4]) == "1 hoặc 4"
    assert said([1, 2, 4]) == "1, 2 hoặc 4"
    assert said([]) == ""


def test_the_pickup_ticket_names_its_dossier_the_office_and_its_counters(office_config):
    ticket = {"number": "9003", "service_name": "Trả kết quả", "counters": [4], "ahead": 0, "estimated_wait_s": 0,
              "issued_at": "2026-11-23T09:00:00+07:00", "dossier_code": DOSSIER, "url": "http://motcua.test/t/x"}
    text = "\n".join(lines(ticket_document(office_config, ticket)))
    assert DOSSIER in text
    assert "Nhận kết quả hồ sơ" in text
    assert office_config.office.name in text  # the full name
    assert "TTPVHCC" not in text
    assert "Mời đến quầy số 4" in text

    both = {**ticket, "number": "1010", "service_name": "Hộ tịch - Chứng thực", "counters": [1, 4],
            "dossier_code": None}
    text = "\n".join(lines(ticket_document(office_config, both)))
    assert "Mời đến quầy số 1 hoặc 4" in text and "1, 4" not in text
    assert "Nhận kết quả hồ sơ" not in text  # no dossier line on a plain ticket


def test_the_checklist_keeps_what_is_only_shown(office_config):
    proc = Catalogue.load_sample().get("HT.001").to_dict()
    text = lines(checklist_document(office_config, proc))
    assert office_config.office.name in text and all("TTPVHCC" not in t for t in text)
    marriage = next(t for t in text if "Giấy chứng nhận kết hôn" in t)
    assert "Xuất trình" in marriage
    identity = next(t for t in text if t.startswith("7. Giấy tờ tùy thân"))
    assert "Xuất trình" in identity and "định danh điện tử" in identity  # the note, whole
    form = next(t for t in text if "Tờ khai đăng ký khai sinh" in t)
    assert "1 bản chính" in form
    proxy = next(t for t in text if "Văn bản ủy quyền" in t)
    assert "Không phải chứng thực" in proxy  # notes of other papers are kept too


# A ticket that could not be printed ----------------------------------------------------------


@pytest.fixture
def printing_office(office_config, tmp_path):
    printer = DeviceConfig(name="may-in", kind="printer", url=f"virtual://?dir={tmp_path / 'printer'}",
                           options={"job_timeout": 1.5})
    cfg = office_config.model_copy(update={"devices": [printer]})
    store = Store(f"sqlite:///{tmp_path / 'motcua.sqlite3'}")
    store.upgrade()
    bus = EventBus()
    heard: list[tuple[str, dict]] = []
    bus.subscribe(lambda e: heard.append((e.name, dict(e.payload))), label="test-heard")
    engine = QueueEngine(store, cfg, bus=bus)
    engine.sync_config()
    registry = DeviceRegistry(DeviceContext(config=cfg, store=store, engine=engine, bus=bus, dossiers=None,
                                            data_dir=tmp_path))
    registry.start()
    wait_for(lambda: (registry.status_of("may-in") or {}).get("state") == "ready", 10, "printer ready")
    yield registry, engine, heard, tmp_path / "printer", store
    registry.stop()
    store.dispose()


def test_a_ticket_that_waited_out_a_paper_fault_is_failed_and_never_printed_later(printing_office):
    registry, engine, heard, folder, store = printing_office
    registry.simulate("may-in", fault="paper_out")
    wait_for(lambda: registry.status_of("may-in")["state"] == "error", 5, "paper out reported")
    plan = registry.plan_print()
    assert plan["printer_ok"] is False
    ticket = engine.issue("HOTICH", source="kiosk", print_job=plan["job_id"], url="http://motcua.test/t/{token}")
    failed = wait_for(lambda: [p for n, p in heard if n == "print:job" and p["state"] == "failed"], 10,
                      "print:job failed")[0]
    assert failed["ticket_id"] == ticket["id"] and "giấy" in failed["message"]
    assert registry.job_state(plan["job_id"])["state"] == "failed"
    from sqlalchemy import select

    from motcua.store import tables as t

    with store.read() as conn:
        assert conn.execute(select(t.print_jobs.c.state).where(t.print_jobs.c.id == plan["job_id"])).scalar() == "failed"
    # The paper comes back: the abandoned ticket does not come out for the next citizen.
    registry.simulate("may-in", fault=None)
    wait_for(lambda: registry.status_of("may-in")["state"] == "ready", 5, "paper back")
    time.sleep(2.0)  # two status polls and a send would have happened by now
    assert list(folder.glob("*.bin")) == []


def test_the_printed_pickup_ticket_carries_its_dossier_code(printing_office):
    """The whole way: the engine's ticket:issued event -> the device layer's document -> paper."""
    registry, engine, heard, folder, _store = printing_office
    printer = registry.jobs.printer
    sent = []
    submit = printer.submit

    def keep(doc, job_id=None):
        sent.append(doc)
        return submit(doc, job_id=job_id)

    printer.submit = keep
    plan = registry.plan_print()
    engine.issue("TRAKQ", source="kiosk", dossier_code=DOSSIER, print_job=plan["job_id"],
                 url="http://motcua.test/t/{token}")
    wait_for(lambda: [p for n, p in heard if n == "print:job" and p["state"] == "done"], 10, "printed")
    (doc,) = sent
    text = "\n".join(lines(doc))
    assert f"Nhận kết quả hồ sơ:\n{DOSSIER}" in text and "Mời đến quầy số 4" in text
    assert len(list(folder.glob("*.bin"))) == 1
