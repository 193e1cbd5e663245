"""Generating the clip library never lowers the serving process's CPU priority (issue #13).

The clips are made in a child process at nice +10 (it and its espeak-ng processes only).
Before, the generator lowered "its thread" with setpriority(native thread id): under gevent
that thread is the main OS thread, so the whole server ran at nice 10 from start-up on."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from motcua.speech.library import GENERATION_NICE, READY, VoiceLibrary

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None or not Path("/proc/self/task").is_dir(),
                                reason="needs espeak-ng and Linux /proc")

ROOT = Path(__file__).resolve().parents[2]


def _nice(stat_path: Path) -> int | None:
    """The nice field of a /proc/<pid>[/task/<tid>]/stat file (None: gone meanwhile)."""
    try:
        fields = stat_path.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[16])  # field 19 of proc(5); the split starts at field 3


def thread_nices(pid: str = "self") -> dict[str, int]:
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        n = _nice(task / "stat")
        if n is not None:
            out[task.name] = n
    return out


def child_pids(pid: str = "self") -> set[str]:
    out: set[str] = set()
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:  # the process ended meanwhile
        return out
    for task in tasks:
        try:
            out.update((task / "children").read_text().split())
        except OSError:
            pass
    return out


def generator_pids() -> set[str]:
    """Our children that make clips (the worker and its espeak-ng runs), not the other
    children a test session may have meanwhile (servers, a browser)."""
    out: set[str] = set()
    todo = list(child_pids())
    while todo:
        pid = todo.pop()
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"motcua.speech.worker" in cmd or b"espeak" in cmd:
            out.add(pid)
            todo.extend(child_pids(pid))
    return out


def test_generation_runs_in_a_low_priority_child_and_the_server_keeps_its_priority(tmp_path):
    base = os.getpriority(os.PRIO_PROCESS, 0)
    lib = VoiceLibrary(tmp_path / "voice")
    seen_threads: dict[str, int] = {}
    seen_children: dict[str, int] = {}
    done = threading.Event()

    def watch() -> None:  # samples every thread of this process, and its children, meanwhile
        while not done.is_set():
            for tid, n in thread_nices().items():
                seen_threads[tid] = max(n, seen_threads.get(tid, n))
            for pid in generator_pids():
                n = _nice(Path(f"/proc/{pid}/stat"))
                if n is not None:
                    seen_children[pid] = n
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        assert lib.start()
        assert lib.wait(120)
    finally:
        done.set()
        watcher.join(5)
    assert lib.state == READY, lib.message
    assert lib.status().complete

    assert os.getpriority(os.PRIO_PROCESS, 0) == base
    assert set(thread_nices().values()) == {base}
    # No thread of ours ran at a lower priority, not even while the clips were being made ...
    assert set(seen_threads.values()) == {base}, seen_threads
    # ... while the generator (a child process) did.
    assert seen_children, "the generator's child process was never seen"
    assert set(seen_children.values()) == {min(base + GENERATION_NICE, 19)}, seen_children


GEVENT_SERVER = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()  # as `motcua serve` / `motcua demo` do first thing
    import json, os, sys
    from pathlib import Path
    from motcua.speech.library import VoiceLibrary

    base = os.getpriority(os.PRIO_PROCESS, 0)
    lib = VoiceLibrary(Path(sys.argv[1]))
    assert lib.start()
    assert lib.wait(120)

    def nice(stat):
        return int(stat.read_text().rsplit(")", 1)[1].split()[16])

    print(json.dumps({"base": base, "after": os.getpriority(os.PRIO_PROCESS, 0), "state": lib.state,
                      "message": lib.message,
                      "tasks": [nice(t / "stat") for t in Path("/proc/self/task").iterdir()]}))
""")


def test_under_gevent_the_serving_process_keeps_its_priority(tmp_path):
    pytest.importorskip("gevent")
    proc = subprocess.run([sys.executable, "-c", GEVENT_SERVER, str(tmp_path / "voice")], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["state"] == READY, out["message"]
    assert out["after"] == out["base"]
    assert set(out["tasks"]) == {out["base"]}
