"""A kiosk's link cut for minutes (issue 16): a real `motcua serve`, a real device agent
(`python -m agent`, virtual printer, simulated LED board) whose link goes through a TCP proxy
(tests/tcp_proxy.py), a TV and a counter console on Socket.IO. During the cut the kiosk keeps
issuing from the agent's numbers and another kiosk from the server; then the link returns and
everything is measured until the screens are right. The scenario is the one of
tests/test_faults_agent.py (`link_cut`), only longer.

    .venv/bin/python bench/faults/link_cut.py --minutes 5
    .venv/bin/python bench/faults/link_cut.py --minutes 5 --silent   # a pulled cable: nothing refused, nothing answers

Prints the figures (tickets issued offline, handed over, duplicates, lost, seconds until the
agent is linked, its devices ready, the TV and the console right, the agent's retry delays
seen during the cut) and exits 1 when a ticket was lost or doubled or the screens took more
than 3 s. Results: docs/performance.md ("Faults of agents and kiosk links").
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from helpers import ServerProcess  # noqa: E402
from test_faults_agent import RESYNC_S, AgentOffice, link_cut  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=5.0, help="length of the cut (default 5)")
    p.add_argument("--every", type=float, default=10.0, help="seconds between two offline tickets (default 10)")
    p.add_argument("--block", type=int, default=40, help="numbers the server keeps per field for the agent")
    p.add_argument("--silent", action="store_true", help="cut silently (a pulled cable) instead of closing the link")
    p.add_argument("--keep", action="store_true", help="keep the working directory (logs)")
    args = p.parse_args(argv)
    cut_s = args.minutes * 60
    per_field = int(cut_s / args.every / 2) + 2
    if per_field > args.block:
        p.error(f"--block {args.block} is too small for one ticket every {args.every} s during {cut_s:.0f} s")
    work = Path(tempfile.mkdtemp(prefix="motcua-link-cut-"))
    started = time.monotonic()
    office = AgentOffice(work, ServerProcess, block=args.block)
    try:
        office.start()
        say = lambda m: print(f"[{time.monotonic() - started:7.1f}s] {m}", flush=True)  # noqa: E731
        figures = link_cut(office, cut_s, offline_every=args.every, silent=args.silent, say=say,
                           settle_timeout=180)
    finally:
        office.close()
        if args.keep:
            print(f"logs in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    bad = (figures["lost"] or figures["duplicates"] or figures["handed_twice"]
           or figures["handed_over"] != figures["offline_issued"] or figures["resync_s"] is None
           or figures["resync_s"] > RESYNC_S or not figures["called_in_issue_order"])
    print("RESULT:", "FAIL" if bad else "OK")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
