"""Devices on another PC, driven by a device agent (docs/agents.md, protocol: `agentproto`).

The registry treats them as local devices: the same status table (DeviceState words), the
same print jobs (`print_jobs` rows, `print:job` events), the same simulate calls for twins,
the same bindings (a remote keypad's key press calls the engine; queue states reach remote
LED boards). What differs is the link: everything goes over the agent's Socket.IO
connection, which may drop.

Print jobs to an agent's printer: the document is kept in `agent_jobs` until the agent has
it. Sent at once when the agent is connected; while it is away the job waits, is sent when it
returns (after the agent said which jobs its journal already holds, so none is printed
twice), or is reported failed once it has waited the printer's `job_timeout`. A job the agent
has taken is the agent's: its printer reports done or failed.

Nothing here knows Flask: `agent_routes.py` hands messages in and gives `send` to reach an
agent.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import select, update

import agentproto as proto
from config.schema import DeviceConfig
from drivers.printer import BigText, Cut, Feed, PrintDocument, QRCode, Rule, Text
from drivers.state import DeviceState

from ..errors import MotcuaError
from ..events import QUEUE_STATE, TICKET_FINISHED
from ..store import tables as t
from .agent_links import AgentLinks
from .offline import OfflineBlocks

log = logging.getLogger(__name__)

SWEEP_S = 0.5
SIM_WAIT_S = 5.0  # an agent's answer about its simulated twin
DELIVERED_GRACE_S = 60.0  # a job the agent took, agent gone: failed this long after its timeout
Send = Callable[[str, str, dict[str, Any], Callable[..., None] | None], None]


def document_to_wire(doc: PrintDocument) -> list[dict[str, Any]]:
    """A print document as the protocol's JSON blocks (agentproto.check_blocks)."""
    out: list[dict[str, Any]] = []
    for b in doc.blocks:
        if isinstance(b, Text):
            out.append({"t": "text", "text": b.text, "size": b.size, "bold": b.bold, "align": b.align})
        elif isinstance(b, BigText):
            out.append({"t": "big", "text": b.text})
        elif isinstance(b, QRCode):
            out.append({"t": "qr", "data": b.data, "module_size": b.module_size, "align": b.align})
        elif isinstance(b, Rule):
            out.append({"t": "rule"})
        elif isinstance(b, Feed):
            out.append({"t": "feed", "lines": b.lines})
        elif isinstance(b, Cut):
            out.append({"t": "cut"})
        else:  # pictures are not sent to agents (the ticket has none)
            log.warning("block %s not sent to an agent", type(b).__name__)
    return out


@dataclass
class _JobInfo:
    state: str
    error: str | None = None


class RemotePrinter:
    """The ticket printer of an agent, as PrintJobs sees a printer: submit(), job()."""

    virtual_printer = None

    def __init__(self, agents: "RemoteAgents", dev: DeviceConfig):
        self.agents, self.dev, self.name = agents, dev, dev.name

    def submit(self, doc: PrintDocument, job_id: str | None = None) -> str:
        assert job_id
        self.agents.submit_job(self.dev, job_id, doc)
        return job_id

    def job(self, job_id: str) -> _JobInfo | None:
        return self.agents.job_info(job_id)


class RemoteBus:
    """An LED board, keypad bus or rating box bus on an agent: what the bindings call on it."""

    def __init__(self, agents: "RemoteAgents", dev: DeviceConfig):
        self.agents, self.dev, self.name = agents, dev, dev.name

    def show(self, address: int, *what: Any) -> None:
        self.agents.call(self.dev, "show", [address, *what])

    def prompt(self, address: int, on: bool) -> None:
        self.agents.call(self.dev, "prompt", [address, bool(on)])


class RemoteAgents:
    """The office's device agents: who is connected, their devices, jobs, blocks."""

    def __init__(self, ctx: Any, set_status: Callable[..., None], on_job: Callable[[str, str, str | None], None],
                 on_input: Callable[[DeviceConfig, dict[str, Any]], None]):
        self.ctx = ctx
        self.links = AgentLinks(self, set_status)  # with several server processes (agent_links.py)
        self._set_status = self.links.set_status
        self._shown_calls: dict[tuple[str, str], list[Any]] = {}  # (device, address) -> the last show sent
        self._unsubscribe: list[Callable[[], None]] = []
        self._on_job = on_job  # PrintJobs.on_job: the print_jobs row and `print:job`
        self._on_input = on_input
        self.agents: dict[str, DeviceConfig] = {}
        self.devices: dict[str, DeviceConfig] = {}
        self._sids: dict[str, str] = {}
        self._send: Send | None = None
        self._lock = threading.Lock()
        self._jobs: dict[str, _JobInfo] = {}
        self._in_flight: dict[str, float] = {}  # job id -> when it was sent, until the agent acks
        self._units: dict[str, set[str]] = {}  # bus device -> the "<bus>/<address>" names reported
        self._state_lock = threading.Lock()
        self._state_seen: dict[tuple[str, str], tuple[str, int]] = {}  # (agent, device/unit) -> (run, seq)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.blocks = OfflineBlocks(ctx)
        self.on_back: Callable[[str], None] | None = None  # the agent's devices run again: show the state
        # An administrator's device action asked through another process (agent_links.py): do it here.
        self.on_request: Callable[[str, str], None] | None = None

    # Set-up ---------------------------------------------------------------------------------
    def add_agent(self, dev: DeviceConfig) -> None:
        self.agents[dev.name] = dev
        self._set_status(dev.name, "agent", DeviceState.LOST, "Máy trạm chưa kết nối")

    def add_device(self, dev: DeviceConfig) -> None:
        self.devices[dev.name] = dev
        self._set_status(dev.name, dev.kind, DeviceState.LOST, f"Máy trạm {dev.agent} chưa kết nối", agent=dev.agent)

    def forget(self, name: str) -> None:
        """An agent or an agent's device removed or changed by a configuration change."""
        self.agents.pop(name, None)
        self.devices.pop(name, None)
        with self._lock:
            self._units.pop(name, None)

    def attach_sender(self, send: Send) -> None:
        self._send = send

    def start(self) -> None:
        if self.agents and self._thread is None:
            self._thread = threading.Thread(target=self._sweep_loop, name="motcua-agent-jobs", daemon=True)
            bus = self.ctx.bus
            self._unsubscribe = [
                bus.subscribe(self.links.on_queue_state, names=[QUEUE_STATE], label="devices-agents-following"),
                bus.subscribe(self.links.on_ticket_finished, names=[TICKET_FINISHED], label="devices-agents-visits")]
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self.links.stop()

    def owned_by(self, agent: str) -> list[DeviceConfig]:
        return [d for d in self.devices.values() if d.agent == agent]

    def is_connected(self, agent: str) -> bool:
        with self._lock:
            return agent in self._sids

    # The link ----------------------------------------------------------------------------------
    def connected(self, agent: str, sid: str) -> None:
        """An agent came (back); it asks its configuration next (HELLO -> config())."""
        with self._lock:
            self._sids[agent] = sid
            self._forget_shown(agent)
        self.links.linked(agent)  # the other processes see it linked here
        self._set_status(agent, "agent", DeviceState.READY, "Máy trạm đã kết nối")

    def config(self, agent: str) -> dict[str, Any]:
        """What the agent runs: the CONFIG body (agentproto)."""
        cfg = self.ctx.config
        devices = [{"name": d.name, "kind": d.kind, "url": d.url, "counter": d.counter, "counters": d.counters,
                    "options": d.options.model_dump(exclude_none=True)} for d in self.owned_by(agent)]
        fields = [{"code": f.code, "name": f.name, "name_en": getattr(f, "name_en", "") or "", "kiosk": f.kiosk}
                  for f in cfg.fields]
        tz = self.ctx.engine.calendar.tz
        offset = datetime.now(tz).utcoffset() or timedelta(0)
        return {"proto": proto.PROTO_VERSION, "agent": agent, "office": cfg.office.name or cfg.office.short_name,
                "tz_offset_s": int(offset.total_seconds()), "devices": devices, "fields": fields,
                "local_port": self.agents[agent].options.local_port,
                "offline_block": self.agents[agent].options.offline_block}

    def disconnected(self, agent: str, sid: str) -> None:
        with self._lock:
            if self._sids.get(agent) != sid:
                return  # an older connection of an agent that is already back
            self._sids.pop(agent, None)
            self._forget_shown(agent)
        self.links.unlinked(agent)
        with self._state_lock:  # after any report still being handled, never before it
            self._show_lost(agent)

    def _show_lost(self, agent: str) -> None:
        self._set_status(agent, "agent", DeviceState.LOST, "Mất kết nối với máy trạm")
        for dev in self.owned_by(agent):
            self._set_status(dev.name, dev.kind, DeviceState.LOST, f"Mất kết nối với máy trạm {agent}", agent=agent)
            with self._lock:
                units = sorted(self._units.get(dev.name, ()))
            for unit in units:
                self._set_status(unit, dev.kind, DeviceState.LOST, f"Mất kết nối với máy trạm {agent}", agent=agent,
                                 bus=dev.name)

    def _emit(self, agent: str, event: str, body: dict[str, Any], callback: Callable[..., None] | None = None) -> bool:
        with self._lock:
            sid = self._sids.get(agent)
        if sid is None or self._send is None:
            return False
        try:
            self._send(sid, event, body, callback)
            return True
        except Exception:  # noqa: BLE001 - the link dropped: the agent gets it when it returns
            log.exception("sending %s to agent %s failed", event, agent)
            return False

    # Messages from an agent ------------------------------------------------------------------
    def on_state(self, agent: str, body: dict[str, Any]) -> None:
        dev = self.devices.get(str(body.get("device") or ""))
        state = str(body.get("state") or "")
        if dev is None or dev.agent != agent or state not in {s.value for s in DeviceState}:
            return
        unit = str(body.get("unit") or "")
        with self._state_lock:  # one report at a time per office, the newest kept (agentproto STATE)
            if self.is_connected(agent) and self._newer(agent, f"{dev.name}/{unit}", body):
                self._apply_state(agent, dev, state, unit, body)

    def _newer(self, agent: str, key: str, body: dict[str, Any]) -> bool:
        run, seq = body.get("run"), body.get("seq")
        if not isinstance(run, str) or not isinstance(seq, int) or isinstance(seq, bool):
            return True  # an agent that does not number its reports: in arrival order
        last = self._state_seen.get((agent, key))
        if last is not None and last[0] == run and last[1] >= seq:
            return False  # handled after a newer one (the server's threads): already out of date
        self._state_seen[(agent, key)] = (run, seq)
        return True

    def _apply_state(self, agent: str, dev: DeviceConfig, state: str, unit: str, body: dict[str, Any]) -> None:
        extra: dict[str, Any] = {"queued": int(body["queued"])} if isinstance(body.get("queued"), int) else {}
        if body.get("cause"):  # why the device is down, for administrators (not the kiosk's citizens)
            extra["cause"] = str(body["cause"])[:300]
        detail = str(body.get("detail") or "")[:300]
        if unit.isdigit():  # a unit on a bus: "<bus>/<address>" with its counter, as a local bus shows it
            amap = {int(a): int(c) for a, c in dev.counters.items()} or ({1: dev.counter} if dev.counter else {})
            name = f"{dev.name}/{int(unit)}"
            with self._lock:
                self._units.setdefault(dev.name, set()).add(name)
            self._set_status(name, dev.kind, state, detail, bus=dev.name, counter=amap.get(int(unit)), agent=agent)
            return
        self._set_status(dev.name, dev.kind, state, detail, agent=agent, **extra)

    def on_input(self, agent: str, body: dict[str, Any]) -> None:
        """A key press, rating or code read on an agent's device: as from a local one (the
        registry's bindings). A rating the agent kept while the link was down comes with its
        age: it rates the visit the box was lit for, never a later one."""
        dev = self.devices.get(str(body.get("device") or ""))
        if dev is None or dev.agent != agent:
            return
        age = body.get("age_s")
        if body.get("action") == "rating" and dev.kind == "rating_box" and isinstance(age, (int, float)) \
                and not isinstance(age, bool):
            self._kept_rating(dev, body, float(age))
            return
        self._on_input(dev, body)

    def _kept_rating(self, dev: DeviceConfig, body: dict[str, Any], age: float) -> None:
        from ..errors import MotcuaError
        from ..ratings import PROMPT_GRACE_S, rating_settings, record_rating_for_ticket

        amap = {int(a): int(c) for a, c in dev.counters.items()} or ({1: dev.counter} if dev.counter else {})
        try:
            counter = amap.get(int(body["address"]))
            level = str(body["level"])[:20]
        except (KeyError, TypeError, ValueError):
            counter = None
        if counter is None or not 0 <= age <= proto.KEEP_RATING_S:
            log.warning("bad kept rating from agent device %s: %r", dev.name, body)
            return
        pressed = self.ctx.engine.clock() - timedelta(seconds=age)
        v = t.visits.c
        with self.ctx.store.read() as conn:  # the visit that ended last before the press (the box lit for it)
            visit = conn.execute(select(v.ticket_id, v.ended_at).where(
                v.counter == counter, v.outcome == "done", v.ended_at <= pressed + timedelta(seconds=2))
                .order_by(v.ended_at.desc(), v.id.desc()).limit(1)).first()
        lit_for = rating_settings(self.ctx.config, counter).prompt_timeout_s + PROMPT_GRACE_S
        if visit is None or (pressed - visit.ended_at).total_seconds() > lit_for:
            log.info("%s: rating pressed %.0f s ago at counter %s matches no visit", dev.name, age, counter)
            return
        try:
            record_rating_for_ticket(self.ctx, visit.ticket_id, level, f"rating_box:{dev.name}", only_counter=counter)
        except MotcuaError as exc:
            log.info("%s: kept rating at counter %s refused: %s", dev.name, counter, exc.message)

    def on_known(self, agent: str, body: dict[str, Any]) -> None:
        """The agent's journal (on connect): settle what it finished, then send what it lacks."""
        known = body.get("jobs") if isinstance(body, dict) else None
        known = known if isinstance(known, dict) else {}
        with self._lock:
            self._forget_shown(agent)  # its boards started again: blank
        for job_id, state in known.items():
            if state in proto.FINAL_JOB_STATES:
                self.job_progress(agent, {"job_id": job_id, "state": state,
                                          "error": None if state == "done" else "Máy trạm không in được vé này"})
        for row in self._open_jobs(agent):
            if row.job_id not in known:
                self._deliver(agent, row)
        if self.on_back is not None:
            try:
                self.on_back(agent)
            except Exception:  # noqa: BLE001 - the boards catch up at the next change
                log.exception("showing the queue on agent %s failed", agent)

    def job_progress(self, agent: str, body: dict[str, Any]) -> None:
        job_id, state = str(body.get("job_id") or ""), body.get("state")
        if state not in proto.JOB_STATES:
            return
        with self.ctx.store.read() as conn:
            row = conn.execute(select(t.agent_jobs).where(t.agent_jobs.c.job_id == job_id)).first()
        if row is None or row.agent != agent or row.finished:
            return
        self._progress(job_id, str(state), body.get("error"))

    def _progress(self, job_id: str, state: str, error: Any) -> None:
        err = str(error)[:300] if error else None
        if state in proto.FINAL_JOB_STATES:
            with self.ctx.store.write() as conn:
                done = conn.execute(update(t.agent_jobs).where(t.agent_jobs.c.job_id == job_id,
                                                                t.agent_jobs.c.finished.is_(False))
                                    .values(finished=True)).rowcount
            if not done:
                return  # reported already: never twice
        with self._lock:
            self._jobs[job_id] = _JobInfo(state, err)
        self._on_job(job_id, state, err)

    # Print jobs ----------------------------------------------------------------------------
    def submit_job(self, dev: DeviceConfig, job_id: str, doc: PrintDocument) -> None:
        now = datetime.now(timezone.utc)
        timeout = float(dev.options.job_timeout)
        with self.ctx.store.write() as conn:
            conn.execute(t.agent_jobs.insert().values(
                job_id=job_id, agent=dev.agent, device=dev.name, timeout_s=timeout, created_at=now,
                document={"title": doc.title, "blocks": document_to_wire(doc)}, finished=False))
        with self._lock:
            self._jobs[job_id] = _JobInfo("queued")
        row = self._job_row(job_id)
        if row is not None:
            self._deliver(str(dev.agent), row)

    def _job_row(self, job_id: str) -> Any:
        with self.ctx.store.read() as conn:
            return conn.execute(select(t.agent_jobs).where(t.agent_jobs.c.job_id == job_id)).first()

    def _open_jobs(self, agent: str) -> list[Any]:
        with self.ctx.store.read() as conn:
            return list(conn.execute(select(t.agent_jobs).where(
                t.agent_jobs.c.agent == agent, t.agent_jobs.c.finished.is_(False)).order_by(t.agent_jobs.c.created_at)))

    def _deliver(self, agent: str, row: Any) -> None:
        left = row.timeout_s - (datetime.now(timezone.utc) - row.created_at).total_seconds()
        if left < 1.0 and row.delivered_at is None:
            return  # the sweeper reports it failed
        body = {"job_id": row.job_id, "kind": "ticket", "title": row.document.get("title", ""),
                "blocks": row.document.get("blocks", []), "timeout_s": max(1.0, left)}

        def acked(answer: Any = None) -> None:
            with self._lock:
                self._in_flight.pop(row.job_id, None)
            if isinstance(answer, dict) and answer.get("ok"):
                with self.ctx.store.write() as conn:
                    conn.execute(update(t.agent_jobs).where(t.agent_jobs.c.job_id == row.job_id)
                                 .values(delivered_at=datetime.now(timezone.utc)))
                state = answer.get("state")
                if state in proto.JOB_STATES and state != "queued":
                    self.job_progress(agent, {"job_id": row.job_id, "state": state, "error": answer.get("error")})

        with self._lock:
            self._in_flight[row.job_id] = time.monotonic()
        if not self._emit(agent, proto.PRINT_SUBMIT, body, acked):
            with self._lock:
                self._in_flight.pop(row.job_id, None)

    def job_info(self, job_id: str) -> _JobInfo | None:
        """The job's state: its print_jobs row first (the process holding the agent's link may
        be another one, and it writes the row), else what this process knows."""
        with self.ctx.store.read() as conn:
            row = conn.execute(select(t.print_jobs.c.state, t.print_jobs.c.error)
                               .where(t.print_jobs.c.id == job_id)).first()
        if row is not None:
            return _JobInfo(row.state, row.error or None)
        with self._lock:
            return self._jobs.get(job_id)

    def _sweep_loop(self) -> None:
        while not self._stop.wait(SWEEP_S):
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - keep sweeping (the database may be back soon)
                log.exception("agent job sweep failed")

    def sweep(self) -> None:
        """Jobs past their time: failed and reported (a job never waits forever). Jobs for an
        agent linked to this process, written by any process, not sent yet: sent. Then the
        links shared with the other processes (agent_links.py)."""
        now = datetime.now(timezone.utc)
        with self.ctx.store.read() as conn:
            rows = list(conn.execute(select(t.agent_jobs).where(t.agent_jobs.c.finished.is_(False))))
        for row in rows:
            waited = (now - row.created_at).total_seconds()
            with self._lock:
                sent = self._in_flight.get(row.job_id)
            if sent is not None and time.monotonic() - sent < 5.0:
                continue  # the agent is answering
            limit = row.timeout_s + (DELIVERED_GRACE_S if row.delivered_at is not None else 0.0)
            if waited >= limit:
                secs = f"{row.timeout_s:g}".replace(".", ",")
                self._progress(row.job_id, "failed", f"Không in được vé sau {secs} giây chờ: "
                               f"mất kết nối với máy trạm {row.agent}")
            elif row.delivered_at is None and self.is_connected(row.agent):
                self._deliver(row.agent, row)  # e.g. a ticket issued through another process
        if self.ctx is not None:
            self.links.tick()

    # Twins, boards, keypads --------------------------------------------------------------
    def simulate(self, name: str, fault: str | None) -> None:
        dev = self.devices[name]
        if not self._emit(str(dev.agent), proto.SIMULATE, {"device": name, "fault": fault}):
            raise ValueError(f"máy trạm {dev.agent} chưa kết nối")

    def sim_action(self, name: str, action: str, kw: dict[str, Any]) -> None:
        """Press a key or a button, or scan a code, on a simulated twin of an agent's PC."""
        self._ask_agent(name, proto.SIMULATE, {"device": name, "action": action, **kw})

    def sim_state(self, name: str) -> dict[str, Any]:
        """What a simulated twin of an agent's PC shows (asked of the agent, answered at once)."""
        answer = self._ask_agent(name, proto.SIM_STATE, {"device": name})
        state = answer.get("state")
        return {**(state if isinstance(state, dict) else {}), "agent": self.devices[name].agent}

    def _ask_agent(self, name: str, event: str, body: dict[str, Any]) -> dict[str, Any]:
        """Send to the device's agent and wait (at most SIM_WAIT_S) for its answer; a refusal
        or no answer is a MotcuaError in Vietnamese, never a wait without end."""
        agent = str(self.devices[name].agent)
        got: dict[str, Any] = {}
        done = threading.Event()

        def answered(*args: Any) -> None:
            got.update(args[0] if args and isinstance(args[0], dict) else {})
            done.set()

        if not self._emit(agent, event, body, answered):
            elsewhere = self.ctx is not None and self.links.held_elsewhere(agent)
            where = "đang kết nối với một tiến trình máy chủ khác" if elsewhere else "chưa kết nối với máy chủ"
            raise MotcuaError("agent_offline", f"Máy trạm {agent} {where}.", 409)
        if not done.wait(SIM_WAIT_S):
            raise MotcuaError("agent_no_answer", f"Máy trạm {agent} không trả lời.", 504)
        if not got.get("ok"):
            raise ValueError(got.get("error") or "thiết bị mô phỏng không làm được thao tác này")
        return got

    def call(self, dev: DeviceConfig, method: str, args: list[Any]) -> None:
        key = (dev.name, str(args[0]) if args else "")
        with self._lock:
            if method == "show" and self._shown_calls.get(key) == args:
                return  # shown already over this link (a whole state shown again sends only changes)
        if self._emit(str(dev.agent), proto.CALL, {"device": dev.name, "method": method, "args": args}) \
                and method == "show":
            with self._lock:
                self._shown_calls[key] = list(args)

    def _forget_shown(self, agent: str) -> None:
        """(under the lock) The agent's boards show nothing we know of: send everything again."""
        names = {d.name for d in self.owned_by(agent)}
        for key in [k for k in self._shown_calls if k[0] in names]:
            del self._shown_calls[key]

    # Offline issuing --------------------------------------------------------------------------
    def grant_blocks(self, agent: str) -> dict[str, Any]:
        """The agent's blocks of numbers for today, topped up (the BLOCKS message)."""
        return self.blocks.top_up(agent, self.agents[agent].options.offline_block)

    def send_blocks(self, agent: str) -> None:
        if self.agents[agent].options.offline_block > 0:
            self._emit(agent, proto.BLOCKS, self.grant_blocks(agent))

    def hand_over(self, agent: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.blocks.hand_over(agent, body)
