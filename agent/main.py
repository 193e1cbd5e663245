"""`python -m agent --server URL --token T` (or `motcua agent ...`): run this PC's devices for
a motcua server (docs/agents.md)."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path


def _default_data() -> str:
    base = os.environ.get("LOCALAPPDATA") if sys.platform == "win32" else None
    return str(Path(base) / "motcua-agent") if base else "./motcua-agent"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="motcua agent", description="Máy trạm thiết bị của motcua: chạy máy in, "
                                "máy quét, bàn phím, bảng LED của máy này / motcua device agent")
    p.add_argument("--server", required=True, help="địa chỉ máy chủ, ví dụ http://192.168.1.10:5000")
    p.add_argument("--token", default=os.environ.get("MOTCUA_AGENT_TOKEN", ""),
                   help="token của máy trạm (hoặc biến MOTCUA_AGENT_TOKEN)")
    p.add_argument("--data", default=_default_data(), help="thư mục lưu trạng thái của máy trạm")
    p.add_argument("--device", action="append", default=[], metavar="TÊN=URL",
                   help="địa chỉ riêng của một thiết bị trên máy này, ví dụ may-in-ve=win32://EPSON")
    p.add_argument("--local-port", type=int, default=0, help="cổng trang lấy số dự phòng (mặc định theo máy chủ, 8765)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("engineio", "socketio", "urllib3", "websocket"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if len(args.token) < 16:
        print("Cần token của máy trạm (ít nhất 16 ký tự): --token hoặc MOTCUA_AGENT_TOKEN / agent token required",
              file=sys.stderr)
        return 2
    overrides = {}
    for item in args.device:
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            print(f"--device cần dạng TÊN=URL, không phải {item!r}", file=sys.stderr)
            return 2
        overrides[name] = url
    from .link import Agent

    agent = Agent(args.server, args.token, Path(args.data), overrides=overrides, local_port=args.local_port or None)
    agent.hw.set_link(agent.linked.is_set)  # input while the link is down: keys dropped, ratings kept
    done = threading.Event()

    def _stop(_sig: int, _frame: object) -> None:
        done.set()
        agent.stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    runner = threading.Thread(target=agent.run, name="agent", daemon=True)
    runner.start()
    while not done.wait(0.5) and runner.is_alive():
        pass
    print("Đang dừng máy trạm... / stopping", file=sys.stderr, flush=True)
    agent.stop()
    return 0
