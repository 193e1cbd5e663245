"""The display through a server restart: a discreet "mất kết nối" mark while the server is
away, then the right state within 3 s of its return, without a reload, and the call it
missed meanwhile is still announced, once."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from test_display_helpers import (  # noqa: F401 (fixtures)
    call_next, issue, log_entries, open_display, server_process_class, start_display_server, voice_lib, wait_log,
)


def test_after_a_server_restart_the_screen_catches_up_without_a_reload(request, tmp_path, voice_lib,
                                                                         context_factory):
    first = start_display_server(request.config, tmp_path / "data", voice_lib)
    second = None
    try:
        page = open_display(context_factory, first, "/display?chime=0")
        staff = first.token("quay1")  # signed with the data directory's key: still valid after the restart
        issue(first, "HOTICH")
        issue(first, "HOTICH")
        assert call_next(first, 1, staff)["number"] == "1001"
        expect(page.get_by_test_id("latest-number")).to_have_text("1001", timeout=10_000)
        page.evaluate("window.__samePage = true")

        first.stop()
        conn = page.locator("#conn")
        assert "lost" not in (conn.get_attribute("class") or "")  # not at once: only after 5 s
        expect(conn).to_have_class(re.compile(r"\blost\b"), timeout=15_000)
        expect(conn).to_contain_text("Mất kết nối")

        second = server_process_class(request.config)(first.data_dir, port=first.port).start()
        # Called at once, likely before the screen is back: the screen learns it from the
        # snapshot (state) and from the missed-calls catch-up (announcement).
        assert call_next(second, 1, staff)["number"] == "1002"
        expect(page.locator('#counters tr[data-counter="1"] td.num')).to_have_text("1002", timeout=10_000)
        expect(page.get_by_test_id("latest-number")).to_have_text("1002", timeout=10_000)
        expect(page.locator("#waiting li[data-service='HOTICH'] .w-count")).to_have_text("0")
        expect(conn).not_to_have_class(re.compile(r"\blost\b"))
        assert page.evaluate("window.__samePage") is True

        log = wait_log(page, 2, timeout_ms=20_000)
        assert [e["number"] for e in log] == ["1001", "1002"]  # each once
        assert log[1]["text"].endswith("một nghìn không trăm linh hai đến quầy số một")
        assert page.js_errors == []
    finally:
        first.stop()
        if second is not None:
            second.stop()
