"""motcua_runtime.yield_to_others under gevent (the server's runtime): a long background loop
that calls it between steps lets a greenlet whose socket became readable run at the next step
(`gevent.sleep(0)` in its place polled sockets only every few dozen steps: why phone-page rounds
delayed calls, docs/performance.md).
Each case runs in a fresh process, since gevent must patch the standard library first."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("gevent")

SCRIPT = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()
    import socket, sys, time
    import gevent
    from motcua_runtime import gevent_active, yield_to_others
    assert gevent_active()
    how = sys.argv[1]
    step = yield_to_others if how == "yield_to_others" else (lambda: gevent.sleep(0))
    a, b = socket.socketpair()
    seen = []

    def waiter():  # a request waiting for its database answer
        a.recv(1)
        seen.append(len(done))

    done = []

    def loop():  # a background round: 400 steps of about 0.5 ms of CPU each
        for i in range(400):
            t = time.perf_counter()
            while time.perf_counter() - t < 0.0005:
                pass
            done.append(i)
            step()

    w = gevent.spawn(waiter)
    gevent.sleep(0.01)
    r = gevent.spawn(loop)
    gevent.sleep(0)  # the loop starts
    b.send(b"x")  # the answer arrives while the loop runs
    gevent.joinall([w, r], timeout=30)
    print(seen[0] if seen else -1)
""")


def _steps_before_the_answer(how: str) -> int:
    out = subprocess.run([sys.executable, "-c", SCRIPT, how], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip())


def test_a_waiting_request_is_answered_during_a_long_round():
    # With gevent.sleep(0) as the step it came after 49 steps (about 25 ms) each time it was
    # tried: a request makes a dozen such waits, so a call waited 100 ms for a round.
    assert _steps_before_the_answer("yield_to_others") <= 3
