"""The device agents' Socket.IO namespace (`agentproto.NAMESPACE`, docs/agents.md).

Thin, like every route: it checks who connects (an agent's device token only), hands each
message to the device layer's `RemoteAgents` (motcua/devices/remote.py) and answers.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError as SioRefused

import agentproto as proto

log = logging.getLogger(__name__)


def install_agent_socket(socketio: Any, services: Any) -> None:
    ns = proto.NAMESPACE
    agents_by_sid: dict[str, str] = {}
    lock = threading.Lock()

    def remote() -> Any:
        reg = services.devices
        return getattr(reg, "remote", None) if reg is not None else None

    def send(sid: str, event: str, body: dict[str, Any], callback: Any = None) -> None:
        socketio.emit(event, body, to=sid, namespace=ns, callback=callback)

    def agent_of(sid: str) -> str | None:
        with lock:
            return agents_by_sid.get(sid)

    @socketio.on("connect", namespace=ns)
    def on_connect(auth: Any = None):
        token = auth.get("token") if isinstance(auth, dict) else None
        p = services.auth.principal_for_token(str(token)) if token else None
        rem = remote()
        if p is None or p.role != "agent":
            raise SioRefused({"error": "bad_token", "message": "Token của máy trạm không hợp lệ."})
        if rem is None or p.name not in rem.agents:
            raise SioRefused({"error": "no_devices", "message": "Máy chủ không chạy thiết bị."})
        if isinstance(auth, dict) and auth.get("proto") not in (None, proto.PROTO_VERSION):
            raise SioRefused({"error": "bad_version", "message": "Phiên bản máy trạm không hợp với máy chủ."})
        with lock:
            agents_by_sid[request.sid] = p.name
        rem.attach_sender(send)
        rem.connected(p.name, request.sid)  # the agent then asks its configuration (HELLO)

    @socketio.on("disconnect", namespace=ns)
    def on_disconnect(*_args):
        with lock:
            agent = agents_by_sid.pop(request.sid, None)
        rem = remote()
        if agent and rem is not None:
            rem.disconnected(agent, request.sid)

    def handler(event: str, fn_name: str, answer: bool = False):
        def on_message(data: Any = None):
            agent, rem = agent_of(request.sid), remote()
            if agent is None or rem is None:
                return {"ok": False, "error": "unknown_agent"}
            result = getattr(rem, fn_name)(agent, data if isinstance(data, dict) else {})
            return result if answer else {"ok": True}
        socketio.on_event(event, on_message, namespace=ns)

    handler(proto.STATE, "on_state")
    handler(proto.JOB, "job_progress")
    handler(proto.INPUT, "on_input")
    handler(proto.HANDOVER, "hand_over", answer=True)

    @socketio.on(proto.JOBS_KNOWN, namespace=ns)
    def on_known(data: Any = None):
        agent, rem = agent_of(request.sid), remote()
        if agent is None or rem is None:
            return {"ok": False}
        rem.on_known(agent, data if isinstance(data, dict) else {})
        rem.send_blocks(agent)
        return {"ok": True}

    @socketio.on(proto.HELLO, namespace=ns)
    def on_hello(_data: Any = None):
        agent, rem = agent_of(request.sid), remote()
        if agent is None or rem is None:
            return {"ok": False}
        return {"ok": True, **rem.config(agent)}

    @socketio.on(proto.REFILL, namespace=ns)
    def on_refill(_data: Any = None):
        agent, rem = agent_of(request.sid), remote()
        if agent is None or rem is None:
            return {"ok": False}
        return {"ok": True, **rem.grant_blocks(agent)}
