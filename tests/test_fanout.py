"""One frame per emit, written straight to every screen (motcua/fanout.py).

The outbox is exercised under gevent (as `motcua serve` runs it) in a child process: a screen
that reads slowly, a broadcaster writing at once whenever it may and handing frames to the
Engine.IO writer otherwise, exactly as `FastEmit.emit` does. A screen must get every frame,
whole and in order. Through a real server: WebSocket screens, a long-polling client and a
screen signed in with a ticket all get the same call.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import requests
import socketio

from helpers import DISPLAY_TOKEN, KIOSK_TOKEN, Listener, wait_for
from test_websocket_frames import RawScreen

ROOT = Path(__file__).resolve().parents[1]

SLOW_SCREEN = textwrap.dedent(r"""
    from gevent import monkey; monkey.patch_all()
    import json, random, socket, struct, sys
    import gevent
    from gevent.queue import Queue
    from motcua.fanout import Outbox, ws_frame

    random.seed(7)
    server, screen = socket.socketpair()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    screen.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    box = Outbox(server, gevent.spawn)
    assert box.raw is not None, "no OS socket under the gevent socket"
    N = 3000
    queued = Queue()  # the Engine.IO queue of this screen
    counts = {"direct": 0, "queued": 0, "waited": 0}

    def engineio_writer():  # takes a packet and writes it, no yield in between (engineio/socket.py)
        while True:
            m = queued.get()
            if m is None:
                return
            box.write(ws_frame(m))

    def broadcaster():
        for i in range(N):
            m = json.dumps({"i": i, "pad": "x" * random.choice((0, 10, 10, 200, 200, 3000, 20000))})
            if box.direct and queued.qsize() == 0:
                counts["direct"] += 1
                box.write(ws_frame(m))
                if box.pending:
                    counts["waited"] += 1
            else:
                counts["queued"] += 1
                queued.put(m)
            gevent.sleep(random.choice((0, 0, 0, 0.001)))  # calls come and go
        queued.put(None)

    got = []

    def reader():
        buf = b""
        def take(n):
            nonlocal buf
            while len(buf) < n:
                chunk = screen.recv(random.choice((7, 100, 1500, 4096)))
                assert chunk, "closed early"
                buf += chunk
                if random.random() < 0.02:
                    gevent.sleep(0.003)  # a slow screen
            out, buf = buf[:n], buf[n:]
            return out
        while len(got) < N:
            b1, b2 = take(2)
            assert b1 == 0x81 and b2 & 0x80 == 0, (b1, b2)
            n = b2 & 0x7F
            if n == 126:
                n = struct.unpack("!H", take(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", take(8))[0]
            got.append(json.loads(take(n))["i"])

    jobs = [gevent.spawn(engineio_writer), gevent.spawn(broadcaster), gevent.spawn(reader)]
    gevent.joinall(jobs, timeout=120, raise_error=True)
    assert all(j.successful() for j in jobs), [j.exception for j in jobs]
    assert got == list(range(N)), "frames out of order or lost"
    # The screen goes away: writing fails, nothing hangs.
    screen.close()
    failed = False
    for _ in range(10000):
        try:
            box.write(ws_frame("x" * 1000))
        except OSError:
            failed = True
            break
        gevent.sleep(0)
    gevent.sleep(0.2)
    assert failed or box.broken, "writing to a closed screen never failed"
    print(json.dumps(counts))
""")


def test_a_slow_screen_gets_every_frame_whole_and_in_order():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", SLOW_SCREEN], capture_output=True, text=True, timeout=300,
                       env=env, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    counts = json.loads(r.stdout.strip().splitlines()[-1])
    # Both ways were taken: written at once, and handed to the writer while frames waited.
    assert counts["direct"] > 100 and counts["queued"] > 100 and counts["waited"] > 10, counts


def test_websocket_and_long_polling_screens_and_phone_pages_all_get_the_call(server):
    staff = server.token("quay1")
    h = {"Authorization": f"Bearer {KIOSK_TOKEN}"}
    mine = requests.post(server.url + "/api/v1/tickets", json={"service": "HOTICH"}, headers=h, timeout=30).json()
    screens = [RawScreen(server.url) for _ in range(3)]
    polling = socketio.Client(reconnection=False)
    got_polling: list[dict] = []
    polling.on("ticket:called", got_polling.append)
    phone = Listener(server.url)  # a second kind of client: python-socketio over WebSocket
    try:
        for s in screens:
            assert s.frame()[1].startswith(b"0{")
            s.send("40" + json.dumps({"token": DISPLAY_TOKEN}))
        polling.connect(server.url, transports=["polling"], auth={"ticket": mine["token"]}, wait_timeout=30)
        phone.wait_for("queue:snapshot", timeout=30)
        called = []
        for _ in range(3):  # three calls in a row, each to every screen, in order
            assert requests.post(server.url + "/api/v1/tickets", json={"service": "HOTICH"}, headers=h,
                                 timeout=30).status_code == 201
            if called:  # the visit before is finished (a second press within 2 s is a double press)
                assert requests.post(server.url + "/api/v1/counters/1/finish", timeout=30,
                                     headers={"Authorization": f"Bearer {staff}"}).status_code == 200
            r = requests.post(server.url + "/api/v1/counters/1/call-next", timeout=30,
                              headers={"Authorization": f"Bearer {staff}"})
            assert r.status_code == 200, r.text
            called.append(r.json()["ticket"]["number"])
        assert called[0] == mine["number"]
        for s in screens:
            seen = []
            while len(seen) < 3:
                b1, payload = s.frame()
                if payload.startswith(b'42["ticket:called",'):
                    seen.append(json.loads(payload[2:])[1]["number"])
            assert seen == called
        wait_for(lambda: len(got_polling) >= 3, 30, "the long-polling client's calls")
        assert [c["number"] for c in got_polling] == called
        for number in called:
            phone.wait_for("ticket:called", lambda d, n=number: d["number"] == n, timeout=30)
    finally:
        for s in screens:
            s.close()
        polling.disconnect()
        phone.close()
