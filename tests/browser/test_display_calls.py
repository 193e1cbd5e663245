"""The waiting-room display in Debian's chromium: calls show at once and are spoken in order,
each once, never over each other; a recall is spoken again.

The two tests share one server and use different counters (4, then 1..3)."""
from __future__ import annotations

import threading

import requests
from playwright.sync_api import expect

from test_display_helpers import (  # noqa: F401 (fixtures)
    bearer, call_next, display_server, issue, log_entries, open_display, voice_lib, wait_log,
)

SENTENCE = "Xin mời công dân có số thứ tự {} đến quầy số {}"


def test_a_call_shows_within_a_second_and_is_spoken(display_server, context_factory):
    server = display_server
    page = open_display(context_factory, server)
    expect(page.locator("#counters tbody tr")).to_have_count(4)
    staff = server.token("quay4")
    ticket = issue(server, "TRAKQ")
    assert ticket["number"] == "9001"
    preview = requests.get(server.url + "/api/v1/announcements/preview", params={"number": "9001", "counter": 4},
                           timeout=10).json()

    call_next(server, 4, staff)
    expect(page.get_by_test_id("latest-number")).to_have_text("9001", timeout=10_000)
    expect(page.locator('#counters tr[data-counter="4"] td.num')).to_have_text("9001", timeout=10_000)
    expect(page.locator("#latest-counter")).to_have_text("Mời đến quầy số 4")
    expect(page.locator("#recent-calls li").first).to_have_attribute("data-number", "9001")

    [entry] = wait_log(page, 1, timeout_ms=20_000)
    assert (entry["number"], entry["counter"], entry["recall"]) == ("9001", "4", "0")
    assert entry["text"] == SENTENCE.format("chín nghìn không trăm linh một", "bốn") == preview["text"]
    # The chime, then the clips the server names for this call, fetched, decoded and played to
    # the end (the browser has an audio output).
    assert entry["clips"].split() == ["chime", *preview["clips"]]
    assert entry["audio"] == "played", entry
    assert "missing" not in entry
    expect(page.locator("#audio-notice")).to_be_hidden()
    assert page.js_errors == []


def test_three_calls_together_are_spoken_in_order_each_once_and_a_recall_again(display_server, context_factory):
    server = display_server
    page = open_display(context_factory, server, "/display?chime=0")  # the chime is tested above
    # Record the order in which this page's socket receives the calls.
    page.evaluate("""() => { window.__arrivals = [];
        MotcuaDisplay.rt.socket.on('ticket:called', c => window.__arrivals.push(c.number + '@' + c.counter)); }""")
    plan = [(1, "HOTICH", "quay1"), (2, "DATDAI", "quay2"), (3, "LDTBXH", "quay3")]
    tokens = {c: server.token(u) for c, _, u in plan}
    numbers = {c: issue(server, svc)["number"] for c, svc, _ in plan}
    assert numbers == {1: "1001", 2: "2001", 3: "4001"}

    barrier = threading.Barrier(len(plan))
    results: dict[int, int] = {}

    def fire(counter: int) -> None:
        barrier.wait()
        r = requests.post(f"{server.url}/api/v1/counters/{counter}/call-next", headers=bearer(tokens[counter]),
                          timeout=10)
        results[counter] = r.status_code

    threads = [threading.Thread(target=fire, args=(c,)) for c, _, _ in plan]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {1: 200, 2: 200, 3: 200}

    log = wait_log(page, 3, timeout_ms=45_000)
    arrivals = page.evaluate("window.__arrivals")
    spoken = [f"{e['number']}@{e['counter']}" for e in log]
    assert sorted(spoken) == ["1001@1", "2001@2", "4001@3"]  # each call once
    assert spoken == arrivals  # in the order they reached the screen
    words = {"1001": ("một nghìn không trăm linh một", "một"), "2001": ("hai nghìn không trăm linh một", "hai"),
             "4001": ("bốn nghìn không trăm linh một", "ba")}
    for e in log:
        assert e["text"] == SENTENCE.format(*words[e["number"]])
        assert e["audio"] == "played", e
    # Never over each other: each starts after the previous one ended.
    for before, after in zip(log, log[1:]):
        assert int(after["started"]) >= int(before["ended"]), (before, after)

    # A recall is announced again, as a new entry.
    r = requests.post(f"{server.url}/api/v1/counters/2/recall", headers=bearer(tokens[2]), timeout=10)
    assert r.status_code == 200, r.text
    expect(page.locator("#latest-recall")).to_be_visible(timeout=10_000)
    log = wait_log(page, 4, timeout_ms=20_000)
    assert len(log) == 4
    assert (log[3]["number"], log[3]["counter"], log[3]["recall"]) == ("2001", "2", "1")
    assert log[3]["text"] == SENTENCE.format(*words["2001"]) and log[3]["audio"] == "played"
    assert len(log_entries(page)) == 4
    assert page.js_errors == []


def test_a_call_is_spoken_from_its_event_without_asking_the_server(display_server, context_factory):
    """ticket:called carries the sentence and its clips: the display speaks them without a
    request to /api/v1/announcements/preview (the endpoint stays, for older events)."""
    server = display_server
    page = open_display(context_factory, server, "/display?chime=0")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/v1/announcements/preview" in r.url else None)
    page.evaluate("""() => { window.__events = [];
        MotcuaDisplay.rt.socket.on('ticket:called', c => window.__events.push(c)); }""")
    issue(server, "DATDAI")
    number = call_next(server, 2, server.token("quay2"))["number"]

    [entry] = [e for e in wait_log(page, 1, timeout_ms=20_000) if e["number"] == number]
    [event] = page.evaluate("window.__events")
    preview = requests.get(server.url + "/api/v1/announcements/preview", params={"number": number, "counter": 2},
                           timeout=10).json()
    assert event["announcement"] == {"text": preview["text"], "clips": preview["clips"]}
    assert entry["text"] == preview["text"] and entry["clips"].split() == preview["clips"]
    assert entry["audio"] == "played", entry
    assert asked == []
    assert page.js_errors == []
