"""The office files of the device-agent tests: the commune sample (open at any hour) with a
kiosk, a device agent and the devices that agent drives."""
from __future__ import annotations

from pathlib import Path

from helpers import DISPLAY_TOKEN, KIOSK_TOKEN, ROOT


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
