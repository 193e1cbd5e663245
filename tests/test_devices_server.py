"""The demo office's simulated devices, driven through the real drivers and protocols:
keypads call and finish, LED boards show the number, rating boxes rate the visit, the camera
reads a receipt barcode."""
from __future__ import annotations

import time

import requests
import socketio

from helpers import KIOSK_TOKEN, wait_for




def _devices(server, h):
    return {d["name"]: d for d in requests.get(server.url + "/api/v1/devices", headers=h).json()}


def test_keypad_led_and_rating_box(server):
    h = {"Authorization": f"Bearer {server.token('admin')}"}
    wait_for(lambda: all(_devices(server, h).get(n, {}).get("state") == "ready"
                      for n in ("ban-phim-quay", "bang-led-quay", "hop-danh-gia")), 10, "serial devices ready")
    tk = requests.post(server.url + "/api/v1/tickets", json={"service": "HOTICH"},
                       headers={"Authorization": f"Bearer {KIOSK_TOKEN}"}).json()
    r = requests.post(server.url + "/api/v1/devices/ban-phim-quay/simulate",
                      json={"action": "press", "address": 1, "key": "call_next"}, headers=h)
    assert r.status_code == 200
    called = wait_for(lambda: (t := requests.get(f"{server.url}/api/v1/tickets/{tk['id']}").json())["status"] == "called" and t,
                   5, "keypad call")
    assert called["counter"] == 1

    def sim(name):
        return requests.get(f"{server.url}/api/v1/devices/{name}/simulated", headers=h).json()

    wait_for(lambda: tk["number"] in str(sim("ban-phim-quay")["displays"]["1"]), 5, "keypad display shows the number")
    wait_for(lambda: sim("bang-led-quay")["values"]["1"] == int(tk["number"]), 5, "LED board register holds the number")

    requests.post(server.url + "/api/v1/devices/ban-phim-quay/simulate",
                  json={"action": "press", "address": 1, "key": "finish"}, headers=h)
    wait_for(lambda: requests.get(f"{server.url}/api/v1/tickets/{tk['id']}").json()["status"] == "done", 5, "finish")
    wait_for(lambda: sim("hop-danh-gia")["open"]["1"] is True, 5, "rating box lights up")
    requests.post(server.url + "/api/v1/devices/hop-danh-gia/simulate",
                  json={"action": "press", "address": 1, "level": "very_satisfied"}, headers=h)
    staff = {"Authorization": f"Bearer {server.token('quay1')}"}
    def ratings():
        body = requests.get(server.url + "/api/v1/ratings", params={"counter": 1}, headers=staff).json()
        return body["ratings"] if isinstance(body, dict) else body

    items = wait_for(ratings, 5, "rating stored")
    assert len(items) == 1 and items[0]["level"] == "very_satisfied" and items[0]["ticket_id"] == tk["id"]


def test_keypad_pause_key_pauses_and_reopens_the_counter(server):
    h = {"Authorization": f"Bearer {server.token('admin')}"}
    wait_for(lambda: _devices(server, h).get("ban-phim-quay", {}).get("state") == "ready", 10, "keypads ready")

    def counter2():
        q = requests.get(server.url + "/api/v1/queue").json()
        return next(c for c in q["counters"] if c["number"] == 2)

    assert counter2()["paused"] is False
    press = {"action": "press", "address": 2, "key": "pause"}
    assert requests.post(server.url + "/api/v1/devices/ban-phim-quay/simulate", json=press, headers=h).status_code == 200
    paused = wait_for(lambda: (c := counter2())["paused"] and c, 5, "counter 2 paused from its keypad")
    assert paused["pause_reason"] == "Tạm dừng từ bàn phím quầy"
    requests.post(server.url + "/api/v1/devices/ban-phim-quay/simulate", json=press, headers=h)
    wait_for(lambda: counter2()["paused"] is False, 5, "counter 2 open again")


def test_keypad_unplug_is_reported_and_recovers(server):
    h = {"Authorization": f"Bearer {server.token('admin')}"}
    wait_for(lambda: _devices(server, h).get("ban-phim-quay", {}).get("state") == "ready", 10, "keypads ready")
    requests.post(server.url + "/api/v1/devices/ban-phim-quay/simulate", json={"fault": "offline"}, headers=h)
    wait_for(lambda: _devices(server, h)["ban-phim-quay"]["state"] in ("lost", "error", "connecting"), 10, "loss reported")
    requests.post(server.url + "/api/v1/devices/ban-phim-quay/simulate", json={"fault": None}, headers=h)
    wait_for(lambda: _devices(server, h)["ban-phim-quay"]["state"] == "ready", 15, "reconnected")


def test_camera_barcode_reaches_the_kiosks(server):
    from barcode_images import code128_image

    staff = {"Authorization": f"Bearer {server.token('quay1')}"}
    listing = requests.get(server.url + "/api/v1/dossiers", params={"per_page": 1}, headers=staff).json()
    code = listing["items"][0]["code"] if "items" in listing else listing["dossiers"][0]["code"]
    got = []
    kiosk = socketio.Client(reconnection=False)
    kiosk.on("kiosk:scan", lambda data: got.append(data))
    kiosk.connect(server.url, auth={"token": KIOSK_TOKEN}, transports=["websocket"], wait_timeout=10)
    try:
        img = code128_image(code)
        tmp = server.data_dir / "camera" / ".incoming.png"
        img.save(tmp)
        tmp.rename(server.data_dir / "camera" / "receipt.png")
        scan = wait_for(lambda: got and got[0], 5, "kiosk:scan")
        assert scan["code"] == code
        assert scan["dossier"] is not None and scan["dossier"]["code"] == code, scan
        assert "status_label" in scan["dossier"]
    finally:
        kiosk.disconnect()


def test_keypad_transfer_key_sends_the_citizen_to_the_configured_field(server):
    """Counter 1's keypad_transfer is TRAKQ (Trả kết quả) in the demo office: the transfer
    key queues the citizen there with the same number; counter 3 has none, so its key is
    refused and the citizen stays."""
    h = {"Authorization": f"Bearer {server.token('admin')}"}
    kiosk = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
    wait_for(lambda: _devices(server, h).get("ban-phim-quay", {}).get("state") == "ready", 10, "keypads ready")

    def ticket(tid):
        return requests.get(f"{server.url}/api/v1/tickets/{tid}").json()

    def press(address, key):
        r = requests.post(server.url + "/api/v1/devices/ban-phim-quay/simulate",
                          json={"action": "press", "address": address, "key": key}, headers=h)
        assert r.status_code == 200

    tk = requests.post(server.url + "/api/v1/tickets", json={"service": "HOTICH"}, headers=kiosk).json()
    press(1, "call_next")
    wait_for(lambda: ticket(tk["id"])["status"] == "called", 5, "called at counter 1")
    press(1, "transfer")
    moved = wait_for(lambda: (t := ticket(tk["id"]))["status"] == "waiting" and t, 5, "transferred")
    assert moved["service"] == "TRAKQ" and moved["number"] == tk["number"] and moved["counter"] is None
    assert moved["issued_service"] == "HOTICH"
    # Counter 4 serves Trả kết quả first: it calls the transferred citizen.
    press(4, "call_next")
    again = wait_for(lambda: (t := ticket(tk["id"]))["status"] == "called" and t, 5, "called at counter 4")
    assert again["counter"] == 4

    other = requests.post(server.url + "/api/v1/tickets", json={"service": "LDTBXH"}, headers=kiosk).json()
    press(3, "call_next")
    wait_for(lambda: ticket(other["id"])["status"] == "called", 5, "called at counter 3")
    press(3, "transfer")
    wait_for(lambda: "keypad_transfer" in server.log(), 5, "the refusal logged")
    still = ticket(other["id"])
    assert still["status"] == "called" and still["counter"] == 3 and still["service"] == "LDTBXH"
