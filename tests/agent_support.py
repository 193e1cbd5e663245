"""What the device-agent tests share: their office files (the commune sample, open at any
hour, with a kiosk, a device agent and the devices that agent drives) and the agent process."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from helpers import DISPLAY_TOKEN, KIOSK_TOKEN, ROOT, wait_for


def device(name: str, kind: str, agent: str | None = None, **fields: object) -> str:
    """One `[[devices]]` entry; `fields` are TOML values already written (url='"sim://"')."""
    lines = ["", "[[devices]]", f'name = "{name}"', f'kind = "{kind}"']
    if agent:
        lines.append(f'agent = "{agent}"')
    lines += [f"{k} = {v}" for k, v in fields.items()]
    return "\n".join(lines) + "\n"


def printer_and_board(agent: str, printer_dir: Path, job_timeout: float) -> str:
    """The agent's ticket printer (virtual) and an LED board for counters 1 and 2 (simulated)."""
    return (device("may-in-ve", "printer", agent, url=f'"virtual://?dir={printer_dir}"',
                   options=f"{{ job_timeout = {job_timeout} }}")
            + device("bang-led-quay", "led", agent, url='"sim://"', counters='{ "1" = 1, "2" = 2 }'))


def agent_office_file(tmp: Path, *, agent: str, token: str, local_port: int, block: int, devices: str,
                 display: bool = False) -> Path:
    """`tmp/office.toml`: the sample's office with a kiosk, (a TV,) the agent and its devices."""
    src = (ROOT / "config" / "samples" / "commune.toml").read_text(encoding="utf-8")
    head = src[: src.index("[[devices]]")].replace("always_open = false", "always_open = true")
    body = device("kiosk-1", "kiosk", token=f'"{KIOSK_TOKEN}"')
    if display:
        body += device("tv-sanh-cho", "display", token=f'"{DISPLAY_TOKEN}"')
    body += device(agent, "agent", token=f'"{token}"',
                   options=f"{{ offline_block = {block}, local_port = {local_port} }}")
    path = tmp / "office.toml"
    path.write_text(head + body + devices, encoding="utf-8")
    return path


RETRY_LINE = re.compile(rb"server not reachable .*retrying in ([0-9.]+) s")


class AgentProcess:
    """`python -m agent` in a child process of its own session (stopped by its process group)."""

    def __init__(self, server_url: str, token: str, data_dir: Path, local_port: int, log_path: Path | None = None):
        self.server_url, self.token, self.data_dir, self.local_port = server_url, token, data_dir, local_port
        self.log_path = log_path or data_dir.parent / "agent.log"
        self.proc: subprocess.Popen | None = None
        self.running_at: float | None = None  # time.monotonic() when its local page first answered

    @property
    def local(self) -> str:
        return f"http://127.0.0.1:{self.local_port}"

    def start(self) -> "AgentProcess":
        """Start it and wait until its local page answers (it is running)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "agent", "--server", self.server_url, "--token", self.token,
                 "--data", str(self.data_dir), "--local-port", str(self.local_port)],
                stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT), start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        wait_for(lambda: self.status() != {}, 60, "the agent's local page answers")
        self.running_at = time.monotonic()
        return self

    def status(self) -> dict:
        """Its local page's /status; {} while it does not answer."""
        try:
            return requests.get(self.local + "/status", timeout=2).json()
        except (requests.RequestException, ValueError):
            return {}

    def linked(self) -> bool | None:
        return self.status().get("linked")

    def retries(self) -> list[float]:
        """The delays the agent announced after each failed try to reach the server (its log)."""
        try:
            return [float(m.group(1)) for m in RETRY_LINE.finditer(self.log_path.read_bytes())]
        except OSError:
            return []

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()
