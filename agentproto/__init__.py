"""The wire protocol between the motcua server and its device agents (docs/agents.md).

A neutral package: the server (`motcua/devices/remote.py`, `motcua/api/agent_routes.py`) and
the agent program (`agent/`) both import it; it imports nothing of ours. Everything here is
plain data: names of Socket.IO events, the shapes of their JSON bodies, and the conversion of
a print document to and from JSON (as plain dicts: the drivers' document classes are turned
into these dicts by each side).

Transport: Socket.IO namespace `NAMESPACE`; the agent connects with
`auth={"token": <the agent's device token>, "proto": PROTO_VERSION, "agent_version": ...}`.
"""
from __future__ import annotations

from typing import Any

PROTO_VERSION = 1
NAMESPACE = "/agent"

# Agent -> server, first thing once connected; the answer (acknowledgement) is CONFIG's body.
HELLO = "agent:hello"            # {"agent_version"} -> {"proto", "agent", "office", "tz_offset_s", "devices", "fields", ...}

# Server -> agent --------------------------------------------------------------------------
CONFIG = "agent:config"          # {"proto", "agent", "office", "tz_offset_s", "devices": [DEVICE], "fields": [FIELD]}
PRINT_SUBMIT = "print:submit"    # {"job_id", "kind", "title", "blocks": [BLOCK], "timeout_s"} -> ack {"ok", "state"}
SIMULATE = "device:simulate"     # {"device", "fault": "offline" | "paper_out" | ... | None} -> ack {"ok"}
#                                  or {"device", "action": "press", "address", "key" | "level"} / {"device",
#                                  "action": "scan", "code"}: a person at a simulated twin -> ack {"ok", "error"?}
SIM_STATE = "device:sim-state"   # {"device"} -> ack {"ok", "state": {"url", "displays"?, "values"?, "texts"?, "open"?}}
CALL = "device:call"           # {"device", "method": "show" | "prompt", "args": [...]}: LED boards, keypad displays, rating boxes
BLOCKS = "offline:blocks"        # {"business_date", "blocks": [BLOCK_GRANT]}: numbers kept for offline issuing

# Agent -> server --------------------------------------------------------------------------
STATE = "device:state"           # {"device", "kind", "state", "detail", "unit"?: address on its bus, "queued"?}
#                                  "cause"?: why it is down, as its driver said (for administrators)
#                                   "run"?, "seq"?: the agent's run id and its growing report number;
#                                   a report older than one already handled (same run) is ignored
JOB = "print:state"              # {"job_id", "state": queued|printing|done|failed, "error"}
JOBS_KNOWN = "print:known"       # {"jobs": {job_id: state}}: what the agent's journal holds (on connect)
INPUT = "device:input"           # {"device", "action": "key"|"rating"|"scan", "address"?, "key"?, "level"?, "code"?,
#                                   "age_s"?: a rating kept while the link was down, pressed that many seconds ago}
REFILL = "offline:refill"        # {}: a block runs low, ask for more -> ack BLOCKS body
HANDOVER = "offline:handover"    # {"tickets": [OFFLINE_TICKET]} -> ack {"ok", "results": [{"uid", "ticket_id", "number"}]}

# Shapes ----------------------------------------------------------------------------------
# DEVICE: {"name", "kind": printer|camera|keypad|led|rating_box|scanner, "url", "counter", "counters", "options"}
# FIELD: {"code", "name", "name_en", "kiosk": bool}
# BLOCK_GRANT: {"field", "business_date": "YYYY-MM-DD", "first": n, "last": n, "numbers": {str(n): "1012"}}
#   the n-th tickets of the day first..last of that field, reserved for this agent only
# OFFLINE_TICKET: {"uid", "field", "n", "number", "business_date", "issued_at": ISO-8601 UTC, "priority"}

# Input while the link is down: key presses and codes read are dropped (never replayed later);
# ratings are kept, at most this many for at most this long, and sent with their "age_s".
KEEP_RATINGS = 50
KEEP_RATING_S = 600.0

JOB_STATES = ("queued", "printing", "done", "failed")
FINAL_JOB_STATES = ("done", "failed")
OFFLINE_MARK = "Cấp khi mất kết nối"
OFFLINE_MARK_EN = "Issued while offline"

# Print documents as JSON: each block {"t": text|big|qr|rule|feed|cut, ...}.
BLOCK_KINDS = ("text", "big", "qr", "rule", "feed", "cut")
_TEXT_SIZES = ("small", "normal", "large", "xlarge")
_ALIGNS = ("left", "center", "right")
MAX_BLOCKS = 200
MAX_TEXT = 2000


class ProtocolError(ValueError):
    """A message that does not have the shape of this protocol."""


def check_blocks(blocks: Any) -> list[dict[str, Any]]:
    """The print document's blocks, checked (types, sizes); raises ProtocolError."""
    if not isinstance(blocks, list) or not 0 < len(blocks) <= MAX_BLOCKS:
        raise ProtocolError("blocks must be a non-empty list")
    out: list[dict[str, Any]] = []
    for b in blocks:
        if not isinstance(b, dict) or b.get("t") not in BLOCK_KINDS:
            raise ProtocolError(f"bad block: {b!r:.80}")
        kind = b["t"]
        if kind in ("text", "big", "qr"):
            text = b.get("data" if kind == "qr" else "text")
            if not isinstance(text, str) or not text or len(text) > MAX_TEXT:
                raise ProtocolError(f"bad {kind} block")
        if kind == "text" and (b.get("size", "normal") not in _TEXT_SIZES or b.get("align", "center") not in _ALIGNS):
            raise ProtocolError("bad text block")
        if kind == "feed" and not (isinstance(b.get("lines", 1), int) and 0 <= b.get("lines", 1) <= 255):
            raise ProtocolError("bad feed block")
        out.append(b)
    return out


def job_message(body: Any) -> dict[str, Any]:
    """A PRINT_SUBMIT body, checked."""
    if not isinstance(body, dict) or not isinstance(body.get("job_id"), str) or not 0 < len(body["job_id"]) <= 40:
        raise ProtocolError("job_id missing")
    timeout = body.get("timeout_s", 30)
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ProtocolError("bad timeout_s")
    return {"job_id": body["job_id"], "kind": str(body.get("kind") or "ticket")[:16],
            "title": str(body.get("title") or "")[:80], "blocks": check_blocks(body.get("blocks")),
            "timeout_s": float(timeout)}
