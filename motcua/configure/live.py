"""The running office configuration: one holder, changed without a restart, kept on disk.

`LiveConfig.change(edit, ...)` takes the running `OfficeConfig`, lets `edit` change a plain
copy of it, checks the result with the office file's schema (the Vietnamese errors of
`motcua check-config`), refuses a change that would strand citizens (a field removed with
people waiting, a counter removed while it serves someone), then, in this order: writes the
office file of the data folder (`DATA/office.toml`, atomically: a temporary file renamed over
it), hands the new configuration to every holder through its `reconfigure(new)` (settings,
engine and its read models, calendar and announcer, auth and device tokens, dossier store,
device layer: devices added, removed or changed are started and stopped in the background),
writes it into the database (`engine.sync_config()`), records the audit row, and publishes `config:changed` so
the open kiosks, consoles and TVs fetch what they show again.

At start, `create_app` runs the office of `DATA/office.toml` when it exists (the running office
is kept across a restart); `motcua serve --config` only seeds a data folder without one."""
from __future__ import annotations

import copy
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from config.loader import ConfigError, load_config, load_config_data
from config.schema import OfficeConfig

from ..errors import MotcuaError
from ..events import CONFIG_CHANGED, QUEUE_CHANGED, Event
from ..queue.reconfig import reconfigure as reconfigure_engine
from ..store import tables as t
from . import shared
from .audit import AuditLog
from .toml_out import dump_config

log = logging.getLogger(__name__)

SAVED_NAME = "office.toml"
OPEN_STATUSES = ("waiting", "called", "serving", "on_hold")
IN_SERVICE = ("called", "serving", "on_hold")


class ConfigRefused(MotcuaError):
    """A configuration change that is not applied: invalid (422), or it would strand
    citizens (409). `problems` lists each (key, message) for an invalid one."""

    default_status = 409


def saved_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / SAVED_NAME


def load_saved(data_dir: str | Path) -> OfficeConfig | None:
    """The office kept in the data folder by the administrator's screens, if any."""
    p = saved_path(data_dir)
    if not p.is_file():
        return None
    return resolve_data(load_config(p), data_dir)


def resolve_data(cfg: OfficeConfig, data_dir: str | Path) -> OfficeConfig:
    """Device URLs with `{data}` point into this data folder (as `motcua serve` does)."""
    folder = str(Path(data_dir).resolve())
    devices = [d.model_copy(update={"url": d.url.replace("{data}", folder)}) for d in cfg.devices]
    return cfg.model_copy(update={"devices": devices})


def validate(raw: dict[str, Any], source: str = "cấu hình") -> OfficeConfig:
    """The office of `raw`, or ConfigRefused (422) with the check-config messages."""
    try:
        return load_config_data(raw, source)
    except ConfigError as exc:
        raise ConfigRefused("invalid_config", "Cấu hình không hợp lệ: " + "; ".join(
            f"{k or '(toàn tệp)'}: {m}" for k, m in exc.problems[:5]) + ".", 422,
            problems=[{"key": k, "message": m} for k, m in exc.problems[:50]]) from None


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".office-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class LiveConfig:
    def __init__(self, services: Any):
        self.svc = services
        self._lock = threading.RLock()
        self.audit = AuditLog(services.store, services.settings.clock, ZoneInfo(services.config.office.timezone))
        self.erased_on: Any = None  # the business day the retention job last ran (retention.py)
        self.version = 0  # the version of the stored office this process runs (shared.py)
        self._watching = False
        self._adopt_at_start()

    @property
    def current(self) -> OfficeConfig:
        return self.svc.settings.config

    @property
    def path(self) -> Path:
        return saved_path(self.svc.settings.data_dir)

    # Changes ---------------------------------------------------------------------------------
    def change(self, edit: Callable[[dict[str, Any]], Any], *, who: Any, action: str, target: str, summary: str,
               before: Any = None, after: Any = None, move_waiting_to: str | None = None) -> OfficeConfig:
        """Apply `edit` (it changes a plain copy of the running office in place)."""
        with self._lock:
            raw = copy.deepcopy(self.current.model_dump(mode="python"))
            edit(raw)
            new = validate(raw)
            return self.apply(new, who=who, action=action, target=target, summary=summary, before=before,
                              after=after, move_waiting_to=move_waiting_to)

    def apply(self, new: OfficeConfig, *, who: Any, action: str, target: str, summary: str, before: Any = None,
              after: Any = None, move_waiting_to: str | None = None) -> OfficeConfig:
        with self._lock:
            old = self.current
            moved = self._check_stranding(old, new, move_waiting_to)
            write_atomic(self.path, dump_config(new, data_dir=Path(self.svc.settings.data_dir).resolve()))
            self._install(new)
            self.svc.engine.sync_config()
            self.version = shared.publish(self.svc.store, self._shared_text(new), self.svc.settings.clock())
            if moved:
                self._move_waiting(moved)
            self.audit.record(who=getattr(who, "name", str(who)), user_id=getattr(who, "user_id", None),
                              action=action, target=target, summary=summary, before=before, after=after)
        self.svc.bus.emit(CONFIG_CHANGED, {"what": action, "target": target}, ("public",))
        return new

    def export_text(self) -> str:
        """The running office as an office file for another data folder or machine: every
        account with its password hash (also those made with `motcua user add`), no signing
        secret, device folders as `{data}`."""
        from .staff import accounts, password_hash

        cfg = self.current
        counters = {c.number for c in cfg.counters}
        staff = []
        for a in accounts(self.svc.auth, cfg):
            staff.append({"username": a["username"], "full_name": a["full_name"], "role": a["role"],
                          "counters": [n for n in a["counters"] if n in counters],
                          "password_hash": password_hash(self.svc.store, a["username"])})
        full = validate({**cfg.model_dump(mode="python"), "staff": staff}, "xuất cấu hình")
        return dump_config(full, include_secret=False, data_dir=Path(self.svc.settings.data_dir).resolve())

    # Other server processes (shared.py) ---------------------------------------------------------
    def _shared_text(self, cfg: OfficeConfig) -> str:
        return dump_config(cfg, include_secret=False, data_dir=Path(self.svc.settings.data_dir).resolve())

    def _from_shared(self, text: str) -> OfficeConfig:
        new = resolve_data(validate(shared.parse(text), "cấu hình dùng chung"), self.svc.settings.data_dir)
        secret = self.current.auth.secret_key  # each process keeps its own (never stored in the database)
        return new.model_copy(update={"auth": new.auth.model_copy(update={"secret_key": secret})})

    def _adopt_at_start(self) -> None:
        """A process whose office is kept in DATA/office.toml takes the newer office another
        process stored while this one was stopped (an office started from --config does not)."""
        try:
            version, text = shared.read(self.svc.store)
        except Exception:  # noqa: BLE001 - an older database: nothing shared yet
            log.exception("cannot read the shared office configuration")
            return
        self.version = version
        if version and text and self.path.is_file() and text != self._shared_text(self.current):
            try:
                new = self._from_shared(text)
            except ConfigRefused:
                log.error("the office stored in the database is not valid; keeping %s", self.path)
                return
            log.info("taking the office changed by another server process (version %d)", version)
            write_atomic(self.path, dump_config(new, data_dir=Path(self.svc.settings.data_dir).resolve()))
            self._install(new)
            self.svc.engine.sync_config()

    def refresh(self) -> bool:
        """Take the office another process changed, if any (one small read when none did)."""
        if shared.read_version(self.svc.store) <= self.version:
            return False
        with self._lock:
            version, text = shared.read(self.svc.store)
            if version <= self.version or not text:
                return False
            try:
                new = self._from_shared(text)
            except ConfigRefused:
                log.error("the office stored in the database (version %d) is not valid; not applied", version)
                self.version = version
                return False
            write_atomic(self.path, dump_config(new, data_dir=Path(self.svc.settings.data_dir).resolve()))
            self._install(new)
            self.version = version
        log.info("applied the office changed by another server process (version %d)", version)
        self.svc.bus.emit(CONFIG_CHANGED, {"what": "config.shared", "target": ""}, ("public",))
        return True

    def start_watch(self, interval_s: float = 1.0) -> None:
        """Check every `interval_s` for a change made by another process (a daemon thread)."""
        if self._watching:
            return
        self._watching = True
        stop = self.svc.stopping

        def loop() -> None:
            while not stop.wait(interval_s):
                try:
                    self.refresh()
                except Exception:  # noqa: BLE001 - keep watching (database away for a moment)
                    log.warning("checking the shared office configuration failed", exc_info=True)

        threading.Thread(target=loop, name="motcua-config-watch", daemon=True).start()

    # Stranded citizens -----------------------------------------------------------------------
    def _open_tickets(self) -> list[Any]:
        tk = t.tickets.c
        day = self.svc.engine.calendar.business_date(self.svc.settings.clock())
        with self.svc.store.read() as conn:
            return conn.execute(select(tk.field, tk.status, tk.counter, tk.target_counter, func.count())
                                .where(tk.business_date == day, tk.status.in_(OPEN_STATUSES))
                                .group_by(tk.field, tk.status, tk.counter, tk.target_counter)).all()

    def _check_stranding(self, old: OfficeConfig, new: OfficeConfig, move_to: str | None) -> dict[str, str]:
        """Refuses (409) a change that leaves citizens with nowhere to go; returns the waiting
        queues to move ({old field: new field}) when the administrator chose where."""
        rows = self._open_tickets()
        if not rows:
            return {}
        new_codes = {f.code for f in new.fields}
        new_counters = {c.number for c in new.counters}
        waiting: dict[str, int] = {}
        for field, status, counter, target, n in rows:
            if status in IN_SERVICE and counter is not None and counter not in new_counters:
                raise ConfigRefused("counter_in_service", f"Quầy {counter} đang phục vụ công dân. Hãy kết thúc "
                                    "hoặc chuyển số đang phục vụ ở quầy này rồi mới xoá quầy.", 409, counter=counter)
            if status == "waiting" and target is not None and target not in new_counters:
                raise ConfigRefused("counter_has_waiting", f"Có {n} số đang chờ riêng quầy {target}. Hãy gọi "
                                    "hoặc chuyển các số này rồi mới xoá quầy.", 409, counter=target)
            if status in IN_SERVICE and field not in new_codes:
                raise ConfigRefused("field_in_service", f"Lĩnh vực {_name(old, field)} còn công dân đang được "
                                    "phục vụ. Hãy kết thúc hoặc chuyển số đó rồi mới xoá lĩnh vực.", 409, field=field)
            if status == "waiting":
                waiting[field] = waiting.get(field, 0) + n
        moves: dict[str, str] = {}
        for field, n in waiting.items():
            if field not in new_codes:
                if move_to and move_to in new_codes and new.counters_for_field(move_to):
                    moves[field] = move_to
                    continue
                raise ConfigRefused(
                    "field_has_waiting", f"Lĩnh vực {_name(old, field)} còn {n} người đang chờ. Hãy chọn lĩnh vực "
                    "để chuyển những người đang chờ sang, hoặc đợi phục vụ hết rồi mới xoá.", 409,
                    field=field, waiting=n, move_to=[f.code for f in new.fields if new.counters_for_field(f.code)])
            elif not new.counters_for_field(field):
                raise ConfigRefused(
                    "field_unserved", f"Lĩnh vực {_name(old, field)} còn {n} người đang chờ nhưng sau thay đổi này "
                    "không còn quầy nào phục vụ. Hãy giữ ít nhất một quầy phục vụ lĩnh vực này.", 409,
                    field=field, waiting=n)
        return moves

    def _move_waiting(self, moves: dict[str, str]) -> None:
        """Waiting tickets of removed fields join the chosen field's queue (same numbers, same
        queue time): one queue transaction, so every screen gets the new state."""
        tk = t.tickets.c
        bus, seq = self.svc.bus, None
        now = self.svc.settings.clock()
        try:
            with self.svc.store.write() as conn:
                for src, dst in moves.items():
                    conn.execute(update(t.tickets).where(tk.field == src, tk.status == "waiting")
                                 .values(field=dst, updated_at=now))
                seq = conn.execute(update(t.office_state).where(t.office_state.c.id == 1)
                                   .values(seq=t.office_state.c.seq + 1).returning(t.office_state.c.seq)).scalar_one()
                bus.reserve(seq)
        except BaseException:
            if seq is not None:
                bus.abandon(seq)
            raise
        bus.publish([Event(QUEUE_CHANGED, {"seq": seq})], seq=seq)

    # Every holder gets the new office --------------------------------------------------------
    def _install(self, new: OfficeConfig) -> None:
        """Each holder takes the new office through its own `reconfigure` (the device layer
        starts, stops and restarts the devices that changed on its own thread)."""
        svc = self.svc
        svc.settings.config = new
        reconfigure_engine(svc.engine, new)  # its calendar is shared with the dossier store
        svc.auth.reconfigure(new)
        self.audit.tz = ZoneInfo(new.office.timezone)
        if svc.dossiers is not None:
            svc.dossiers.reconfigure(new)
        if svc.devices is not None:
            svc.devices.reconfigure(new)


def _name(cfg: OfficeConfig, code: str) -> str:
    f = cfg.field(code)
    return f"“{f.name}”" if f else code
