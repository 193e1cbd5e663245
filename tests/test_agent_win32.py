"""The agent's printing to a printer installed in Windows (agent/win32.py), run here on Debian.

No Windows machine is at hand, so a child process puts a stand-in for pywin32's `win32print`
and `pywintypes` in place (the calls python-escpos's `Win32Raw` makes, with pywin32's
signatures and its error type) and runs the agent's real printer path: the driver's
`TicketPrinter` with the agent's `Win32Transport` and python-escpos's own `Win32Raw`. What
the stand-in spooler receives is what Windows would print: one RAW document per ticket,
whole, ending with the cut; a printer name Windows does not have, or pywin32 missing, is
reported in Vietnamese and the job fails instead of waiting.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from helpers import ROOT

FAKE_AND_PRINT = textwrap.dedent(r"""
    import json, sys, threading, types

    spooled = []  # (printer, document name, datatype, bytes) per document the spooler printed
    calls = []

    class error(Exception):  # pywintypes.error: (winerror, funcname, strerror)
        pass

    pywintypes = types.ModuleType("pywintypes")
    pywintypes.error = error
    w = types.ModuleType("win32print")
    w.PRINTER_ENUM_NAME = 8
    INSTALLED = ["Microsoft Print to PDF", "EPSON TM-T82III Receipt"]
    DEFAULT = "EPSON TM-T82III Receipt"
    handles = {}

    def EnumPrinters(flags, name, level):
        assert flags == w.PRINTER_ENUM_NAME and level == 4
        return tuple({"pPrinterName": p, "pServerName": None, "Attributes": 0} for p in INSTALLED)

    def GetDefaultPrinter():
        return DEFAULT

    def OpenPrinter(name, defaults=None):
        if name not in INSTALLED:
            raise error(1801, "OpenPrinter", "The printer name is invalid.")
        h = object()
        handles[id(h)] = {"printer": name, "doc": None, "page": False, "data": b""}
        calls.append("OpenPrinter")
        return h

    def StartDocPrinter(h, level, info):
        assert level == 1 and len(info) == 3
        st = handles[id(h)]
        assert st["doc"] is None, "a document inside a document"
        st["doc"] = info
        calls.append("StartDocPrinter")
        return 1

    def StartPagePrinter(h):
        handles[id(h)]["page"] = True

    def WritePrinter(h, data):
        st = handles[id(h)]
        assert st["doc"] is not None and st["page"], "written outside a page"
        assert isinstance(data, bytes)
        st["data"] += data
        return len(data)

    def EndPagePrinter(h):
        handles[id(h)]["page"] = False

    def EndDocPrinter(h):
        st = handles[id(h)]
        name, _file, datatype = st["doc"]
        spooled.append((st["printer"], name, datatype, st["data"]))
        st["doc"], st["data"] = None, b""
        calls.append("EndDocPrinter")

    def ClosePrinter(h):
        handles.pop(id(h))
        calls.append("ClosePrinter")

    for f in (EnumPrinters, GetDefaultPrinter, OpenPrinter, StartDocPrinter, StartPagePrinter, WritePrinter,
              EndPagePrinter, EndDocPrinter, ClosePrinter):
        setattr(w, f.__name__, f)
    if sys.argv[1] != "no-pywin32":
        sys.modules["win32print"], sys.modules["pywintypes"] = w, pywintypes

    from agent.win32 import Win32Transport
    from drivers.printer import BigText, Cut, PrintDocument, Text, TicketPrinter, get_profile

    done = {}
    states = []
    ended = threading.Event()

    def on_job(job_id, state, error):
        if state in ("done", "failed"):
            done[job_id] = (state, error)
            if len(done) == 2:
                ended.set()

    url = sys.argv[2]
    printer = TicketPrinter(url, get_profile("80mm"), name="may-in-ve", on_job=on_job, job_timeout=20,
                            on_state=lambda n, s, d: states.append((str(s), d, printer.status().cause)),
                            transport=Win32Transport(url))
    printer.start()
    for k in (1, 2):
        doc = PrintDocument(blocks=[Text("Hộ tịch - Chứng thực"), BigText(f"100{k}"), Cut()], title=f"ticket {k}")
        printer.submit(doc, job_id=f"job-{k}")
    ended.wait(60)
    printer.stop()
    print(json.dumps({"done": done, "states": states, "calls": calls,
                      "spooled": [[p, n, t, d.hex()] for p, n, t, d in spooled]}))
""")


def _run(mode: str, url: str) -> dict:
    r = subprocess.run([sys.executable, "-c", FAKE_AND_PRINT, mode, url], capture_output=True, text=True,
                       timeout=180, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_each_ticket_is_one_raw_document_on_the_named_windows_printer():
    out = _run("pywin32", "win32://EPSON%20TM-T82III%20Receipt")
    assert out["done"] == {"job-1": ["done", None], "job-2": ["done", None]}, out
    assert len(out["spooled"]) == 2, out["calls"]
    for printer, name, datatype, data in out["spooled"]:
        raw = bytes.fromhex(data)
        assert printer == "EPSON TM-T82III Receipt" and name == "motcua" and datatype == "RAW"
        assert raw.startswith(b"\x1b@"), raw[:8]  # ESC @: the printer is reset first
        assert b"\x1dV" in raw[-16:], raw[-16:]  # GS V: cut, at the end of the same document
    # Every document the agent opened was closed (the spooler prints it only then).
    assert out["calls"].count("OpenPrinter") == out["calls"].count("ClosePrinter") >= 2


def test_the_default_windows_printer_is_used_when_none_is_named():
    out = _run("pywin32", "win32://")
    assert [s[0] for s in out["spooled"]] == ["EPSON TM-T82III Receipt"] * 2, out


def test_a_printer_windows_does_not_have_fails_the_job_with_its_name_in_vietnamese():
    out = _run("pywin32", "win32://Xprinter%20XP-80")
    assert not out["spooled"]
    assert {s for s, _e in out["done"].values()} == {"failed"}, out
    # The cause reaches the administrators (`cause`); citizens at the kiosk read only the state.
    assert any(state == "error" and detail == "Máy in mất kết nối" and cause == "Windows không có máy in tên 'Xprinter XP-80'"
               for state, detail, cause in out["states"]), out


def test_without_pywin32_the_agent_says_what_to_install():
    out = _run("no-pywin32", "win32://EPSON%20TM-T82III%20Receipt")
    assert not out["spooled"] and {s for s, _e in out["done"].values()} == {"failed"}, out
    assert any(state == "error" and "pip install pywin32" in cause for state, _detail, cause in out["states"]), out
