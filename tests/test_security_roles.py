"""Who may do what: the role table of every HTTP route and every Socket.IO event.

Every route of the app must be listed in ROUTES (a new route without a line here fails
`test_every_route_is_in_the_table`), with the roles that may use it. A role that may is
never answered 401/403 (it may still get 400/404/409/422 for the made-up parameters used
here); a role that may not always is. docs/security.md has the same table in words.

Roles: anonymous (a phone on the guest Wi-Fi, anything on the LAN), the kiosk device, the
display (TV) device, the rating tablet of counter 1, staff of counter 1 (quay1), staff of
counter 2 (quay2), the administrator.
"""
from __future__ import annotations

import re
import threading
import time

import pytest

from helpers import DISPLAY_TOKEN, KIOSK_TOKEN
from test_ratings import PASSWORD, RATING_TOKEN_1, write_rating_config

ROLES = ("anon", "kiosk", "display", "rating", "staff1", "staff2", "admin")
ANYONE = frozenset(ROLES)
SIGNED = ANYONE - {"anon"}
STAFF = frozenset({"staff1", "staff2", "admin"})
COUNTER1 = frozenset({"staff1", "admin"})  # acting on counter 1, or on a ticket of a field counter 1 serves
ADMIN = frozenset({"admin"})

# endpoint -> the roles that may call it (bearer tokens; pages signed in by cookie are below).
ROUTES: dict[str, frozenset[str]] = {
    # Pages and files anyone may load (a page asks for what it shows through the API).
    "index": ANYONE, "healthz": ANYONE, "font": ANYONE, "static": ANYONE,
    "kiosk.kiosk_page": ANYONE, "kiosk.static": ANYONE, "kiosk.ticket_page": ANYONE, "kiosk.ticket_qr": ANYONE,
    "display.display_page": ANYONE, "display.display_logo": ANYONE, "display.static": ANYONE,
    "counter.counter_home": ANYONE, "counter.static": ANYONE, "counter.rate": ANYONE,
    "counter.login": ANYONE, "counter.logout": ANYONE,
    "voice.voice_clip": ANYONE, "voice.voice_manifest": ANYONE,
    # Public reads.
    "api.office": ANYONE, "api.list_services": ANYONE, "api.queue": ANYONE, "api.list_counters": ANYONE,
    "api.get_ticket": ANYONE, "api.ticket_by_token": ANYONE, "api.announcement_preview": ANYONE,
    "api.announcements_missed": ANYONE, "api.procedures": ANYONE, "api.procedure": ANYONE,
    "api.procedure_fields": ANYONE, "api.dossier_public": ANYONE, "api.dossier_verify": ANYONE,
    "api.dossiers_ready": ANYONE, "api.dossiers_apologies": ANYONE, "api.lookup_scan": ANYONE,
    "api.list_notices": ANYONE, "api.rating_options": ANYONE, "api.voice_status": ANYONE,
    "api.token": ANYONE,
    # Messages (docs/messages.md): the opt-in is by the ticket's own token (kiosk or phone page, throttled);
    # screens never opt in; the outbox is the administrator's.
    "api.message_options": ANYONE, "api.message_opt_in": ANYONE - {"display", "rating"}, "api.messages_list": ADMIN,
    # Taking a number: the kiosk, staff, and the public API (displays and rating devices never).
    "api.issue_ticket": ANYONE - {"display", "rating"},
    # Any signed-in device or person.
    "api.me": SIGNED,
    # Devices: the kiosk follows its printer; staff and the administrator see them all.
    "api.devices": STAFF | {"kiosk"}, "api.kiosk_status": STAFF | {"kiosk"},
    "api.print_job": STAFF | {"kiosk"}, "api.print_procedure_checklist": STAFF | {"kiosk"},
    "api.simulate": ADMIN, "api.simulated": ADMIN,
    # A counter's own staff (and the administrator); its rating tablet may read its view.
    "api.counter_view": COUNTER1 | {"rating"},
    **{f"api.{a}": COUNTER1 for a in ("call_specific", "call_next", "finish", "hold", "no_show", "pause", "recall",
                                      "resume", "skip", "start", "transfer", "unpause")},
    # Tickets at counter 1 or waiting in a field it serves (the ticket used here: HOTICH, counters 1 and 4).
    "api.cancel": COUNTER1, "api.reactivate": COUNTER1,
    # A lost paper may be reprinted by any staff member (it changes nothing in the queue).
    "api.reprint": STAFF,
    # Staff work.
    "api.dossiers_list": STAFF, "api.dossier_status": STAFF, "api.dossier_apology": STAFF,
    "api.dossiers_import": STAFF, "api.overview": STAFF, "api.get_ratings": STAFF,
    "api.report_summary": STAFF, "api.report_summary_xlsx": STAFF,
    "api.alerts_list": STAFF,
    "api.report_summary_csv": STAFF,  # staff: their own counters only (tests/test_reports_scope.py)
    "admin_reports.chart_js": ANYONE, "admin_reports.static": ANYONE,
    # Ratings come from the citizen's side (never from staff for their own visits).
    "api.create_rating": frozenset({"kiosk", "rating", "admin"}),
    "api.get_pending": frozenset({"rating", "admin"}),
    # The administrator alone.
    "api.add_notice": ADMIN, "api.delete_notice": ADMIN, "api.change_notice": ADMIN, "api.list_all_notices": ADMIN, "api.voice_regenerate": ADMIN,
    # Appointments (docs/booking.md): the booking page's reads and writes are public (throttled);
    # check-in is the kiosk's (or staff's); the day's list is staff's; screens never book.
    "kiosk.booking_page": ANYONE, "kiosk.booking_manage": ANYONE, "kiosk.booking_qr": ANYONE,
    "kiosk.booking_day_page": ANYONE,
    "api.appointment_options": ANYONE, "api.appointment_days": ANYONE, "api.appointment_slots": ANYONE,
    "api.appointment_get": ANYONE,
    "api.appointment_create": ANYONE - {"display", "rating", "kiosk"},
    "api.appointment_cancel": ANYONE - {"display", "rating"}, "api.appointment_move": ANYONE - {"display", "rating"},
    "api.appointment_join": ANYONE - {"display", "rating"},
    "api.appointment_checkin": STAFF | {"kiosk"}, "api.appointment_day": STAFF,
    # The administrator's screens (anonymous: the sign-in page, 401; others: 403) and their API.
    "admin.static": ANYONE, "admin.login": ANYONE, "admin.logout": ANYONE,
    **{f"admin.{p}": ADMIN for p in ("admin_page", "office_page", "fields_page", "counters_page", "staff_page",
                                     "devices_page", "notices_page", "imports_page", "voice_page", "audit_page")},
    **{f"api.admin_{a}": ADMIN for a in (
        "config", "office", "hours", "settings", "fields", "field_add", "field_update", "field_delete", "counters",
        "counter_add", "counter_update", "counter_delete", "staff", "staff_add", "staff_update", "staff_password",
        "staff_active", "devices", "device_update", "device_test", "config_export", "config_import", "audit",
        "audit_csv", "procedures_import", "device_add", "device_delete")},
}
# Pages behind the staff sign-in (cookie): everyone without it is sent to the sign-in page.
SIGNED_PAGES = {"counter.console", "counter.overview", "admin_reports.reports_page"}
# Endpoints added by features still to come may join the table with their roles; a rule
# matching none of these fails.
OPTIONAL_PREFIXES = ("api.admin_", "admin.", "api.appointment", "api.report_summary_csv")


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    from config import load_config
    from motcua.app import Settings, create_app

    base = tmp_path_factory.mktemp("roles")
    cfg = load_config(write_rating_config(base / "cfg"))
    cfg = cfg.model_copy(update={"fields": [f.model_copy(update={"daily_cap": None}) for f in cfg.fields]})
    app = create_app(Settings(config=cfg, data_dir=base / "data", testing=True, start_devices=False,
                              background_jobs=False))
    client = app.test_client()

    def token(user: str) -> str:
        r = client.post("/api/v1/auth/token", json={"username": user, "password": PASSWORD})
        assert r.status_code == 200, r.get_data(as_text=True)
        return r.get_json()["token"]

    tokens = {"anon": None, "kiosk": KIOSK_TOKEN, "display": DISPLAY_TOKEN, "rating": RATING_TOKEN_1,
              "staff1": token("quay1"), "staff2": token("quay2"), "admin": token("admin")}
    yield app, tokens
    app.extensions["motcua"].close()


def _rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule


def test_every_route_is_in_the_table(office):
    app, _ = office
    missing = sorted({r.endpoint for _, r in _rules(app)} - set(ROUTES) - SIGNED_PAGES)
    missing = [e for e in missing if not e.startswith(OPTIONAL_PREFIXES)]
    assert missing == [], "classify these routes in ROUTES (who may call them)"


def _path(rule, ticket: dict) -> str:
    subs = {"n": "1", "ticket_id": str(ticket["id"]), "token": ticket["token"], "name": "may-in-ve",
            "code": "000.17.22.H56-250101-0001", "job_id": "khong-co", "notice_id": "1", "filename": "khong-co.js"}
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", lambda m: subs.get(m.group(1), "khong-co"), rule.rule)


@pytest.mark.parametrize("role", ROLES)
def test_the_role_table_holds_for_every_route(office, role):
    app, tokens = office
    svc = app.extensions["motcua"]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens[role]}"} if tokens[role] else {}
    wrong: list[str] = []
    for method, rule in _rules(app):
        if rule.endpoint in SIGNED_PAGES:
            r = client.open(_path(rule, svc.engine.issue("HOTICH")), method=method, headers=headers)
            if r.status_code != 302 or "/counter" not in r.headers.get("Location", ""):
                wrong.append(f"{method} {rule.rule}: {r.status_code}, not sent to the sign-in page")
            continue
        allowed = ROUTES.get(rule.endpoint)
        if allowed is None:
            continue  # a route still to be classified (test_every_route_is_in_the_table says so)
        ticket = svc.engine.issue("HOTICH")  # a fresh ticket each time: no route sees another's change
        r = client.open(_path(rule, ticket), method=method, headers=headers,
                        json={} if method != "GET" else None)
        refused = r.status_code in (401, 403)
        if role in allowed and refused:
            wrong.append(f"{method} {rule.rule}: {r.status_code}, but {role} may")
        elif role not in allowed and not refused:
            wrong.append(f"{method} {rule.rule}: {r.status_code}, but {role} may not")
        if r.status_code >= 500:
            wrong.append(f"{method} {rule.rule}: {r.status_code}")
        if refused and r.is_json:
            body = r.get_json()
            if not body.get("message") or not body.get("error"):
                wrong.append(f"{method} {rule.rule}: a refusal without a code and a Vietnamese message")
    assert wrong == []


# Socket.IO -----------------------------------------------------------------------------------
# Server -> client: which roles receive each event, with the audience the code gives it.
RECEIVERS: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "ticket:called": (("public",), ANYONE),
    "queue:changed": (("public",), ANYONE),
    "ticket:finished": (("public",), ANYONE),
    "ticket:transferred": (("public",), ANYONE),
    "ticket:issued": (("staff", "displays"), frozenset({"display", "staff1", "staff2", "admin"})),
    "device:status": (("staff", "kiosks"), frozenset({"kiosk", "staff1", "staff2", "admin"})),
    "alert:changed": (("staff", "admins"), frozenset({"staff1", "staff2", "admin"})),
    "print:job": (("kiosks", "staff"), frozenset({"kiosk", "staff1", "staff2", "admin"})),
    "kiosk:scan": (("kiosks",), frozenset({"kiosk", "admin"})),
    "rating:prompt": (("rating:1",), frozenset({"rating"})),
    "rating:closed": (("rating:1", "counter:1"), frozenset({"rating", "staff1"})),
}


def _socket_clients(app, tokens):
    svc = app.extensions["motcua"]
    clients = {}
    for role in ROLES:
        auth = {"token": tokens[role]} if tokens[role] else None
        clients[role] = svc.socketio.test_client(app, auth=auth)
        assert clients[role].is_connected(), role
    return clients


def _received(client, name: str, marker: str) -> bool:
    return any(m["name"] == name and m["args"] and m["args"][0].get("marker") == marker
               for m in client.get_received())


@pytest.mark.parametrize("name", sorted(RECEIVERS))
def test_each_event_reaches_exactly_its_audience(office, name):
    app, tokens = office
    svc = app.extensions["motcua"]
    clients = _socket_clients(app, tokens)
    try:
        audience, who = RECEIVERS[name]
        marker = f"m-{name}-{time.monotonic_ns()}"
        if name == "queue:changed":  # sent as the coalesced state: check it through the broadcaster
            svc.engine.issue("HOTICH")
            deadline = time.monotonic() + 10
            got = {r: False for r in ROLES}
            while time.monotonic() < deadline and not all(got.values()):
                for r, c in clients.items():
                    got[r] = got[r] or any(m["name"] == "queue:changed" for m in c.get_received())
                time.sleep(0.05)
            assert {r for r, v in got.items() if v} == set(who)
            return
        svc.bus.emit(name, {"marker": marker}, audience)
        got = {r for r, c in clients.items() if _received(c, name, marker)}
        assert got == set(who)
    finally:
        for c in clients.values():
            c.disconnect()


def test_client_events_by_role(office):
    """Client -> server: a bad token is refused at connect; anonymous may resync and echo;
    only a counter's staff (or the administrator) may watch that counter's room."""
    app, tokens = office
    svc = app.extensions["motcua"]
    bad = svc.socketio.test_client(app, auth={"token": "khong-phai-token"})
    assert not bad.is_connected()
    clients = _socket_clients(app, tokens)
    try:
        for role, c in clients.items():
            c.get_received()
            c.emit("queue:resync")
            assert any(m["name"] == "queue:snapshot" for m in c.get_received()), role
            assert c.emit("ping:echo", {"n": 1}, callback=True) == {"n": 1}
            ack = c.emit("counter:watch", {"counter": 1}, callback=True)
            assert ack["ok"] is (role in ("staff1", "admin")), (role, ack)
            if not ack["ok"]:
                assert ack["error"] == "forbidden" and "quầy 1" in ack["message"]
    finally:
        for c in clients.values():
            c.disconnect()


def test_the_table_catches_a_route_open_to_too_many(office, monkeypatch):
    """The check can fail: pretend report figures were for administrators only."""
    monkeypatch.setitem(ROUTES, "api.report_summary", ADMIN)
    with pytest.raises(AssertionError):
        test_the_role_table_holds_for_every_route(office, "staff1")
