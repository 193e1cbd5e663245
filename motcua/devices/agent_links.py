"""Device agents with several server processes (docs/agents.md, "Several server processes").

An agent keeps one Socket.IO link, to whichever process nginx sent it: the link's *holder*.
Work for the agent's devices may start on any process; the holder does it, from what every
process shares anyway, the database:

- **Print jobs** are `agent_jobs` rows: the holder's job sweep sends every pending row of its
  agents, whoever wrote it (RemoteAgents.sweep); the agent's journal and the job id keep a job
  from being printed twice, also when the agent comes back through another process.
- **LED boards and keypad displays** follow the office sequence (`office_state.seq`): when it
  moved past the last queue state this process showed (a change made through another process),
  the holder shows the current queue state on its agents' boards (`follow`).
- **Rating boxes** light for a visit finished through another process: the holder finds the
  visits ended since its last look (`visits`), leaving out those finished through itself
  (its bindings lit them already), and lights its agents' boxes of that counter.
- **The administrator's device actions** (test call of an LED board, unplug/replug of a twin)
  asked through a process without the link are `agent_requests` rows: the holder takes each
  (`taken_by`) at its next sweep and does it (`take_requests`); one not taken within
  REQUEST_TTL_S (no holder came) is dropped, never done late.
- **Device states**: the holder writes its agents' device states into `agent_links` with a
  heartbeat; the other processes show them in their own device lists (so a kiosk served by
  any process knows whether the printer is ready), and show the devices lost once the
  heartbeat stops (the holder died; the agent comes back through another one).

No single point of failure beyond PostgreSQL: there is no elected process; the holder is
whichever process the agent reached, and a process that dies loses only its own links.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from drivers.state import DeviceState

from ..store import tables as t

log = logging.getLogger(__name__)

SHARE_S = 1.0  # the holder's heartbeat and the others' reading of it
STALE_S = 5.0  # a heartbeat older than this: the holder is gone
BOARD_KINDS = ("led", "keypad", "rating_box")
REQUEST_TTL_S = 30.0  # an administrator's device action not taken by then is never done


class AgentLinks:
    """This process's side of the shared links (one per RemoteAgents)."""

    def __init__(self, remote: Any, set_status: Callable[..., None]):
        self.remote = remote
        self.raw_status = set_status  # the registry's status table (mirrored states go straight there)
        self.holder = f"{uuid.uuid4().hex[:12]}"
        self._lock = threading.Lock()
        self._reported: dict[str, dict[str, dict[str, Any]]] = {}  # agent -> name -> state, as reported here
        self._mirrored: dict[str, set[str]] = {}  # agent -> names shown from another process's heartbeat
        self._next_share = 0.0
        self.local_seq = -1  # the last queue state shown through this process's bus
        self._followed = -1  # the last office seq shown on our agents' boards by follow()
        self._force = False
        self._visits_since = datetime.now(timezone.utc)
        self._finished_here: deque[int] = deque(maxlen=500)  # visits ended through this process
        self._timers: dict[tuple[str, int], threading.Timer] = {}

    # States ------------------------------------------------------------------------------
    def set_status(self, name: str, kind: str, state: Any, detail: str = "", **extra: Any) -> None:
        """The registry's _set_status, noting the states of the agents linked here."""
        self.raw_status(name, kind, state, detail, **extra)
        agent = name if name in self.remote.agents else extra.get("agent")
        if agent and self.remote.is_connected(str(agent)):
            with self._lock:
                self._reported.setdefault(str(agent), {})[name] = {
                    "kind": kind, "state": str(state), "detail": detail,
                    "extra": {k: v for k, v in extra.items() if isinstance(v, (str, int, float, bool, type(None)))}}

    def linked(self, agent: str) -> None:
        """The agent's link is here now: what others reported for it is not ours to keep. What
        it reported here is kept: an agent linking again before its old link's end was seen
        (the same process) may not report a state that has not changed."""
        with self._lock:
            self._mirrored.pop(agent, None)
        self._next_share = 0.0  # tell the others at the next sweep
        self._force = True

    def unlinked(self, agent: str) -> None:
        with self._lock:
            self._reported.pop(agent, None)
        try:
            with self.remote.ctx.store.write() as conn:
                conn.execute(delete(t.agent_links).where(t.agent_links.c.agent == agent,
                                                         t.agent_links.c.holder == self.holder))
        except Exception:  # noqa: BLE001 - the heartbeat goes stale and the others see it lost
            log.exception("agent %s: link row not removed", agent)

    def tick(self) -> None:
        """From the job sweep: the heartbeat of our links, the others' states, the boards."""
        now = time.monotonic()
        if now >= self._next_share:
            self._next_share = now + SHARE_S
            self._share()
        self.follow()
        self.take_requests()

    def _share(self) -> None:
        rem = self.remote
        mine = [a for a in list(rem.agents) if rem.is_connected(a)]
        at = datetime.now(timezone.utc)
        lk = t.agent_links.c
        for agent in mine:
            with self._lock:
                states = dict(self._reported.get(agent, {}))
            values = {"holder": self.holder, "seen_at": at, "states": states}
            with rem.ctx.store.write() as conn:
                done = conn.execute(update(t.agent_links).where(lk.agent == agent).values(**values)).rowcount
            if not done:
                try:
                    with rem.ctx.store.write() as conn:
                        conn.execute(t.agent_links.insert().values(agent=agent, **values))
                except IntegrityError:  # another process wrote it meanwhile: the next round updates it
                    pass
        with rem.ctx.store.read() as conn:
            rows = {r.agent: r for r in conn.execute(select(t.agent_links))}
        for agent in list(rem.agents):
            if rem.is_connected(agent):
                continue
            row = rows.get(agent)
            fresh = (row is not None and row.holder != self.holder
                     and (at - row.seen_at).total_seconds() < STALE_S)
            if fresh:
                self._mirror(agent, row.states or {})
            else:
                self._lost(agent)

    # The administrator's device actions ---------------------------------------------------------
    def held_elsewhere(self, agent: str) -> bool:
        """Another process holds the agent's link now (its heartbeat is fresh)."""
        with self.remote.ctx.store.read() as conn:
            row = conn.execute(select(t.agent_links).where(t.agent_links.c.agent == agent)).first()
        return (row is not None and row.holder != self.holder
                and (datetime.now(timezone.utc) - row.seen_at).total_seconds() < STALE_S)

    def ask_holder(self, agent: str, device: str, action: str) -> None:
        """Leave `action` on `device` for the process holding the agent's link."""
        now = datetime.now(timezone.utc)
        rq = t.agent_requests.c
        with self.remote.ctx.store.write() as conn:
            conn.execute(delete(t.agent_requests).where(rq.created_at < now - timedelta(hours=1)))  # done or dropped
            conn.execute(t.agent_requests.insert().values(agent=agent, device=device, action=action, created_at=now))

    def take_requests(self) -> None:
        """Do the actions asked through other processes for the agents linked here, each once."""
        rem = self.remote
        mine = [a for a in list(rem.agents) if rem.is_connected(a)]
        if not mine or rem.on_request is None:
            return
        rq = t.agent_requests.c
        now = datetime.now(timezone.utc)
        with rem.ctx.store.read() as conn:
            rows = list(conn.execute(select(rq.id, rq.device, rq.action, rq.created_at).where(
                rq.agent.in_(mine), rq.taken_by.is_(None)).order_by(rq.id)))
        for r in rows:
            with rem.ctx.store.write() as conn:  # taken by one process only
                taken = conn.execute(update(t.agent_requests).where(rq.id == r.id, rq.taken_by.is_(None))
                                     .values(taken_by=self.holder)).rowcount
            if not taken or (now - r.created_at).total_seconds() > REQUEST_TTL_S:
                continue
            try:
                rem.on_request(r.device, r.action)
            except Exception:  # noqa: BLE001 - one failed action must not stop the sweep
                log.exception("device %s: %s asked through another process failed", r.device, r.action)

    def _mirror(self, agent: str, states: dict[str, Any]) -> None:
        names = set()
        for name, st in states.items():
            if not isinstance(st, dict) or (name not in self.remote.agents and name.split("/")[0]
                                            not in self.remote.devices):
                continue  # a device this process does not have (its configuration is changing)
            names.add(name)
            self.raw_status(name, str(st.get("kind") or ""), str(st.get("state") or ""),
                            str(st.get("detail") or ""), **(st.get("extra") or {}))
        with self._lock:
            self._mirrored[agent] = names | self._mirrored.get(agent, set())

    def _lost(self, agent: str) -> None:
        with self._lock:
            names = self._mirrored.pop(agent, None)
        if names is None:
            return
        gone = f"Mất kết nối với máy trạm {agent}"
        self.raw_status(agent, "agent", DeviceState.LOST, "Mất kết nối với máy trạm")
        for dev in self.remote.owned_by(agent):
            self.raw_status(dev.name, dev.kind, DeviceState.LOST, gone, agent=agent)
        for name in sorted(n for n in names if "/" in n):
            bus = name.split("/")[0]
            dev = self.remote.devices.get(bus)
            if dev is not None:
                self.raw_status(name, dev.kind, DeviceState.LOST, gone, agent=agent, bus=bus)

    # Boards --------------------------------------------------------------------------------
    def on_queue_state(self, event: Any) -> None:
        """Bus subscriber (after the bindings): the queue state this process just showed."""
        seq = event.payload.get("seq") if isinstance(event.payload, dict) else None
        if isinstance(seq, int) and seq > self.local_seq:
            self.local_seq = seq

    def on_ticket_finished(self, event: Any) -> None:
        """Bus subscriber: a visit ended through this process (the bindings light its boxes)."""
        visit = event.payload.get("visit_id") if isinstance(event.payload, dict) else None
        if isinstance(visit, int):
            with self._lock:
                self._finished_here.append(visit)

    def stop(self) -> None:
        with self._lock:
            timers, self._timers = list(self._timers.values()), {}
        for timer in timers:
            timer.cancel()

    def follow(self) -> None:
        """Show on our agents' boards a queue changed through another process."""
        rem = self.remote
        if rem.on_back is None:
            return
        agents = [a for a in list(rem.agents) if rem.is_connected(a)
                  and any(d.kind in BOARD_KINDS for d in rem.owned_by(a))]
        if not agents:
            return
        with rem.ctx.store.read() as conn:
            seq = conn.execute(select(t.office_state.c.seq).where(t.office_state.c.id == 1)).scalar()
        if seq is None or not (self._force or (seq > self.local_seq and seq != self._followed)):
            return
        self._force = False
        before = self.local_seq
        for agent in agents:
            rem.on_back(agent)  # the current state, read now, shown (only what changed is sent)
        self._followed = seq
        self._prompt_boxes(agents)
        if self.local_seq != before:  # a state of ours was shown meanwhile: show the latest again
            self._force = True

    def _prompt_boxes(self, agents: list[str]) -> None:
        from ..ratings import rating_settings

        rem = self.remote
        boxes = [d for a in agents for d in rem.owned_by(a) if d.kind == "rating_box"]
        if not boxes:
            return
        v = t.visits.c
        with rem.ctx.store.read() as conn:
            rows = list(conn.execute(select(v.id, v.counter, v.ended_at).where(
                v.outcome == "done", v.ended_at > self._visits_since).order_by(v.ended_at)))
        if not rows:
            return
        self._visits_since = max(r.ended_at for r in rows)
        with self._lock:
            here = set(self._finished_here)
        now = datetime.now(timezone.utc)
        for r in rows:
            seconds = rating_settings(rem.ctx.config, r.counter).prompt_timeout_s
            if r.id in here or (now - r.ended_at).total_seconds() >= seconds:
                continue  # lit by our own bindings, or its time to be rated is over
            for dev in boxes:
                amap = {int(a): int(c) for a, c in dev.counters.items()} or ({1: dev.counter} if dev.counter else {})
                for address in (a for a, c in amap.items() if c == r.counter):
                    rem.call(dev, "prompt", [address, True])
                    timer = threading.Timer(seconds, rem.call, args=(dev, "prompt", [address, False]))
                    timer.daemon = True
                    with self._lock:
                        old = self._timers.pop((dev.name, address), None)
                        self._timers[(dev.name, address)] = timer
                    if old is not None:
                        old.cancel()
                    timer.start()
