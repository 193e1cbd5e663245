"""The agent: the Socket.IO link to the server and what each message does (agentproto).

One worker thread (`_loop`) does the talking: it connects (again and again while the server
is away), asks the configuration (HELLO, answered with the CONFIG body), starts the devices,
sends their states and the print jobs its journal knows (JOBS_KNOWN); the server then sends
the jobs the agent lacks and the numbers kept for offline issuing (BLOCKS). The same thread
hands over the tickets issued offline and asks for more numbers when a field runs low.
Messages from the server (print jobs, twins, boards) are answered by the handlers below.
"""
from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path
from typing import Any

import socketio

import agentproto as proto

from .hardware import Hardware, document_from_wire
from .journal import Journal
from .offline import OfflineDesk

log = logging.getLogger(__name__)
AGENT_VERSION = "1"
OFFLINE_JOB = "off-"  # job ids of tickets printed offline (not the server's jobs)


class Agent:
    def __init__(self, server: str, token: str, data_dir: Path, *, overrides: dict[str, str] | None = None,
                 local_port: int | None = None, retry_max_s: float = 1.0):
        self.server, self.token = server.rstrip("/"), token
        self.journal = Journal(data_dir)
        self.desk = OfflineDesk(self.journal)
        self.hw = Hardware(self._device_state, self._device_input, self._job_state, overrides)
        self.local_port = local_port
        self.retry_max_s = retry_max_s
        self.linked = threading.Event()  # the server has our configuration and journal
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self._states: dict[str, dict[str, Any]] = {}
        # Each state report carries this run's id and a growing number: the server handles
        # messages on several threads and keeps only the newest report of each device.
        self._run = uuid.uuid4().hex[:12]
        self._state_seq = 0
        self._lock = threading.Lock()
        # Reconnecting is the worker loop's (_loop): it also connects when the server is down at start.
        self.sio = socketio.Client(reconnection=False, logger=False, engineio_logger=False)
        self._register()
        self.web: Any = None

    # Running -----------------------------------------------------------------------------------
    def run(self) -> None:
        """Start everything and keep the link up until stop()."""
        if self.journal.state.get("devices"):  # the server may be down: start what we ran last time
            self.hw.start(self.journal.state["devices"])
        port = self.local_port or int(self.journal.state.get("local_port") or 8765)
        from .localweb import LocalWeb

        self.web = LocalWeb(self, port)
        try:
            self.web.start()
        except OSError as exc:  # the port is taken: the devices work on, the kiosk has no fallback page
            log.error("local kiosk page not started on port %d: %s", port, exc)
        self._loop()

    def stop(self) -> None:
        self.stopping.set()
        self._wake.set()
        try:
            self.sio.disconnect()
        except Exception:  # noqa: BLE001
            pass
        if self.web is not None:
            self.web.stop()
        self.hw.stop()

    def _loop(self) -> None:
        delay = 0.5
        while not self.stopping.is_set():
            if not self.sio.connected:
                try:
                    self.sio.connect(self.server, auth={"token": self.token, "proto": proto.PROTO_VERSION,
                                                        "agent_version": AGENT_VERSION},
                                     namespaces=[proto.NAMESPACE], wait_timeout=10)
                    delay = 0.5
                except Exception as exc:  # noqa: BLE001 - the server is away: keep trying
                    log.info("server not reachable (%s); retrying in %.1f s", exc, delay)
                    self.stopping.wait(delay)
                    delay = min(self.retry_max_s, delay * 2)
                    continue
            if not self.linked.is_set():
                try:  # connected: ask what to run (HELLO), start it, say what we have
                    answer = self.sio.call(proto.HELLO, {"agent_version": AGENT_VERSION}, namespace=proto.NAMESPACE,
                                           timeout=15)
                    if isinstance(answer, dict) and answer.get("ok"):
                        self._configure(answer)
                except Exception as exc:  # noqa: BLE001 - the link dropped meanwhile: next round
                    log.info("configuration not received: %s", exc)
            if self.linked.is_set():
                try:
                    self._hand_over()
                    if self.desk.low(int(self.journal.state.get("offline_block") or 0)):
                        answer = self.sio.call(proto.REFILL, {}, namespace=proto.NAMESPACE, timeout=15)
                        if isinstance(answer, dict) and answer.get("ok"):
                            self.desk.set_blocks(answer)
                except Exception as exc:  # noqa: BLE001 - the link dropped meanwhile: next round
                    log.info("hand-over or refill not done: %s", exc)
            if self.linked.is_set() or not self.sio.connected:
                self._wake.wait(2.0)
                self._wake.clear()
            else:
                self.stopping.wait(0.5)

    def _hand_over(self) -> None:
        pending = self.desk.pending()
        if not pending:
            return
        answer = self.sio.call(proto.HANDOVER, {"tickets": pending}, namespace=proto.NAMESPACE, timeout=30)
        if not isinstance(answer, dict) or not answer.get("ok"):
            return
        done = {r["uid"] for r in answer.get("results", []) if isinstance(r, dict) and r.get("ok")}
        refused = [r for r in answer.get("results", []) if isinstance(r, dict) and not r.get("ok")]
        for r in refused:
            log.error("offline ticket %s refused by the server: %s", r.get("uid"), r.get("error"))
        self.desk.handed_over(done | {r.get("uid") for r in refused})
        log.info("handed over %d offline ticket(s)", len(done))

    # Messages -----------------------------------------------------------------------------------
    def _register(self) -> None:
        ns, sio = proto.NAMESPACE, self.sio

        @sio.on(proto.CONFIG, namespace=ns)
        def on_config(body: Any) -> None:  # the server may also push a new configuration
            if isinstance(body, dict):
                self._configure(body)

        @sio.on("disconnect", namespace=ns)
        def on_disconnect(*_a: Any) -> None:
            self.linked.clear()

        @sio.on(proto.PRINT_SUBMIT, namespace=ns)
        def on_print(body: Any) -> dict[str, Any]:
            try:
                job = proto.job_message(body)
            except proto.ProtocolError as exc:
                return {"ok": False, "error": str(exc)}
            known = self.journal.job_state(job["job_id"])
            if known is not None:  # sent again: answered from the journal, never printed twice
                return {"ok": True, "state": known}
            if self.hw.printer is None:
                return {"ok": False, "error": "no_printer"}
            self.journal.set_job(job["job_id"], "queued")
            self.hw.print(job["job_id"], document_from_wire(job["title"], job["blocks"]))
            return {"ok": True, "state": "queued"}

        @sio.on(proto.SIMULATE, namespace=ns)
        def on_simulate(body: Any) -> dict[str, Any]:
            if not isinstance(body, dict):
                return {"ok": False}
            if body.get("action") is not None:  # a person at the twin: a key, a button, a code
                kw = {k: body[k] for k in ("address", "key", "level", "code") if body.get(k) is not None}
                error = self.hw.simulate_action(str(body.get("device")), str(body["action"]), kw)
                return {"ok": error is None, "error": error}
            return {"ok": self.hw.simulate(str(body.get("device")), body.get("fault"))}

        @sio.on(proto.SIM_STATE, namespace=ns)
        def on_sim_state(body: Any) -> dict[str, Any]:
            state = self.hw.simulated_state(str(body.get("device"))) if isinstance(body, dict) else None
            return {"ok": state is not None, "state": state,
                    "error": None if state is not None else "không phải thiết bị mô phỏng"}

        @sio.on(proto.CALL, namespace=ns)
        def on_call(body: Any) -> None:
            if isinstance(body, dict) and isinstance(body.get("args"), list):
                try:
                    self.hw.call(str(body.get("device")), str(body.get("method")), body["args"])
                except Exception:  # noqa: BLE001
                    log.exception("device call failed: %r", body)

        @sio.on(proto.BLOCKS, namespace=ns)
        def on_blocks(body: Any) -> None:
            if isinstance(body, dict):
                self.desk.set_blocks(body)

    def _configure(self, body: dict[str, Any]) -> None:
        """Run the configuration the server gave, then tell it our devices and jobs."""
        ns = proto.NAMESPACE
        self.journal.set_state({k: v for k, v in body.items() if k != "ok"})
        self.hw.start(list(body.get("devices") or []))
        port = int(body.get("local_port") or 0)
        if not self.local_port and port and self.web is not None and self.web.port != port:
            self.web.move(port)  # the office file names another port for this PC's page
        with self._lock:
            states = list(self._states.values())
        for st in states:
            self.sio.emit(proto.STATE, st, namespace=ns)
        self.sio.emit(proto.JOBS_KNOWN, {"jobs": dict(self.journal.jobs)}, namespace=ns)
        sent = max((int(st.get("seq") or 0) for st in states), default=0)
        self.linked.set()
        with self._lock:  # a state that changed while we were linking was not sent by _send: now
            later = [st for st in self._states.values() if int(st.get("seq") or 0) > sent]
        for st in later:
            self.sio.emit(proto.STATE, st, namespace=ns)

    # From the devices (their own threads) ----------------------------------------------------
    def _send(self, event: str, body: dict[str, Any]) -> None:
        if self.linked.is_set():
            try:
                self.sio.emit(event, body, namespace=proto.NAMESPACE)
            except Exception:  # noqa: BLE001 - sent again on the next connection
                log.debug("%s not sent", event, exc_info=True)

    def _device_state(self, device: str, kind: str, state: str, detail: str, unit: str = "", cause: str = "") -> None:
        body = {"device": device, "kind": kind, "state": state, "detail": detail, **({"unit": unit} if unit else {}),
                **({"cause": cause} if cause else {})}
        with self._lock:
            self._state_seq += 1
            body.update(run=self._run, seq=self._state_seq)
            self._states[f"{device}/{unit}" if unit else device] = body
        self._send(proto.STATE, body)

    def _device_input(self, body: dict[str, Any]) -> None:
        self._send(proto.INPUT, body)

    def _job_state(self, job_id: str, state: str, error: str | None) -> None:
        if job_id.startswith(OFFLINE_JOB):
            return
        self.journal.set_job(job_id, state)
        self._send(proto.JOB, {"job_id": job_id, "state": state, "error": error})

    # The local page ------------------------------------------------------------------------------
    def issue_offline(self, field: str, priority: str | None = None) -> dict[str, Any]:
        ticket = self.desk.issue(field, priority)
        printed = self.hw.print(OFFLINE_JOB + ticket["uid"][:20], self.desk.document(ticket))
        self._wake.set()  # linked: handed over at once
        return {**ticket, "printed": printed}
