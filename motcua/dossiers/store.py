"""Dossiers (hồ sơ) in the database: lookup (with the live source when one is configured),
second-factor check, staff changes, the ticket check, and, through its mixins, the views
and lists (`views.py`) and imports (`imports.py`). No Flask here.

One `DossierStore` per app, built in `create_app` and kept as `services.dossiers`; the API
(motcua/api/dossier_routes.py), the queue routes and the devices call its methods.

Conventions (docs/lookup.md):

* Codes are stored normalised (`motcua.dossiers.codes.parse_dossier_code`).
* A date without a time (ngày hẹn trả, ngày hẹn mới, dates from an import) is stored as the
  start of that day in the office's time zone, as an aware UTC instant; moments the system
  sees itself (a status change, a demo dossier's reception) keep their time.
* "Late" follows `motcua.dossiers.timeliness.classify` (calendar days, local time).
* Every change that the public panels show publishes ``dossier:updated``
  ``{"code", "status", "ready"}`` to the audience "public" after the commit.

Refusals are `DossierError(code, message, status, **extra)` (Vietnamese message), a
`motcua.errors.MotcuaError`; the web layer turns them into JSON errors.
"""
from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from ..store import tables as t
from .checks import code_or_404, normal_code
from .codes import extract_code, parse_dossier_code
from .errors import DossierError
from .imports import IN_CHUNK, MAX_APOLOGY, MAX_APPLICANT, MAX_FIELD, MAX_PROCEDURE, DossierImports
from .limits import LOCAL, VERIFY_LIMIT, ClientLimits, LookupClient
from .live import UNAVAILABLE, LiveSource
from .masking import id_last4_matches
from .pickup import install_pickup_returns
from .status import FINISHED_STATUSES, DossierStatus, parse_status, status_info
from .views import LIVE, LIVE_NOT_FOUND, LIVE_UNAVAILABLE, DossierViews, default_apology, iso_day

log = logging.getLogger(__name__)

__all__ = ["DossierStore", "Emit"]

#: At most this many per-dossier `dossier:updated` events after one import; more changes
#: are announced as one event with ``code`` null and ``count``.
MAX_EVENTS_PER_IMPORT = 50

#: ``emit(name, payload, audience)``: the app's `motcua.events.EventBus.emit`.
Emit = Callable[[str, dict[str, Any], str], None]


class DossierStore(DossierViews, DossierImports):
    """The dossiers of one office over explicit dependencies. Holds no per-request state:
    one instance serves the whole app (thread-safe as the Store and the LiveSource are)."""

    def __init__(self, store: Any, calendar: Any, clock: Callable[[], datetime], *,
                 throttle: Any = None, emit: Emit | None = None, office_name: str = "",
                 column_mapping: Mapping[str, str] | None = None,
                 settings_extra: Mapping[str, Any] | None = None,
                 config: Any = None, live: LiveSource | None = None):
        self.store = store  # motcua.store.Store
        self.calendar = calendar  # motcua.clock.BusinessCalendar
        self.clock = clock
        self.throttle = throttle  # motcua.auth.Throttle (verify); None: no attempt counting
        # Lookups and second-factor answers counted per client (limits.py); None: not counted.
        self.limits = ClientLimits(throttle, calendar.local) if throttle is not None else None
        self.emit = emit  # publishes dossier:updated; None: nobody is told
        self.office_name = office_name
        self.column_mapping = dict(column_mapping) if column_mapping else None
        self.settings_extra = settings_extra
        self.config = config  # config.schema.OfficeConfig (fields, for the ticket check)
        self.live = live  # the live source, when [dossiers.live_source] is set
        self.pickup_returns: Any = None  # pickup.PickupReturns, installed by create_app

    def reconfigure(self, new: Any) -> None:
        """A changed office (configure/live.py): its name, fields and import column mapping."""
        self.config = new
        self.office_name = new.office.short_name or new.office.name
        self.column_mapping = dict(new.dossiers.column_mapping) or None

    @classmethod
    def for_app(cls, services: Any) -> "DossierStore":
        """The app's store, built once in `create_app` (``services.dossiers``), with the
        app's live source when the office file configures one."""
        config = services.config
        live_cfg = config.dossiers.live_source
        return cls(
            services.store, services.engine.calendar, services.engine.clock,
            throttle=services.auth.throttle,
            emit=services.bus.emit,
            office_name=config.office.short_name or config.office.name,
            column_mapping=config.dossiers.column_mapping or None,
            settings_extra=services.settings.extra,
            config=config,
            live=LiveSource(live_cfg) if live_cfg is not None else None,
        )

    def install_pickup_returns(self, bus: Any) -> Callable[[], None]:
        """Pickup tickets finished done return their dossier (`pickup.py`): subscribes to
        `ticket:finished` on the app's bus; returns the unsubscribe."""
        return install_pickup_returns(self, bus)

    # Time helpers -------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.calendar.business_date(self.clock())

    def day_start(self, day: date) -> datetime:
        return self.calendar.day_bounds_utc(day)[0]

    def local_day(self, at: datetime | None) -> date | None:
        return None if at is None else self.calendar.business_date(at)

    # Reading ------------------------------------------------------------------------------
    def get(self, code: str) -> Row | None:
        """The dossier row for *code* (any spelling) in the local table, or None (also for
        a malformed code). Never asks the live source."""
        try:
            normal = parse_dossier_code(code).text
        except ValueError:
            return None
        return self._local(normal)

    def _local(self, normal: str) -> Row | None:
        with self.store.read() as conn:
            return conn.execute(select(t.dossiers).where(t.dossiers.c.code == normal)).first()

    def _find(self, normal: str) -> tuple[Row | None, str | None]:
        """The row for a normalised code and what the live source said (None without one).
        The live source is asked first: what it answers is saved locally (`sync_live`) and
        the local row returned; when it is unavailable, the local row as it is."""
        if self.live is None:
            return self._local(normal), None
        answer = self.live.fetch(normal)
        if answer is UNAVAILABLE:
            outcome = LIVE_UNAVAILABLE
        elif answer is None:
            outcome = LIVE_NOT_FOUND
        else:
            row = self.sync_live(normal, answer)
            if row is not None:
                return row, LIVE
            outcome = LIVE_UNAVAILABLE
        return self._local(normal), outcome

    def _require(self, code: object) -> tuple[Row, str | None]:
        normal = code_or_404(code)
        row, live = self._find(normal)
        if row is None:
            raise DossierError("unknown_dossier",
                               f"Không tìm thấy hồ sơ có mã {normal}. Mời ông/bà kiểm tra lại mã hồ sơ "
                               "trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả.", 404)
        return row, live

    def _require_for(self, code: object, client: LookupClient | None) -> tuple[Row, str | None]:
        """`_require`, counted against the client's lookups (limits.py: 429 once they are used
        up, unknown codes weigh more); `client` None (devices, tools): not counted."""
        if client is None or self.limits is None:
            return self._require(code)
        self.limits.check_lookup(client)
        try:
            found = self._require(code)
        except DossierError as exc:
            if exc.code == "unknown_dossier":
                self.limits.lookup_done(client, found=False)
            raise
        self.limits.lookup_done(client, found=True)
        return found

    def require(self, code: str) -> Row:
        """The row, or DossierError 404 (malformed codes say what is wrong with them).
        With a live source configured, it is asked first."""
        return self._require(code)[0]

    def public(self, code: str, *, client: LookupClient | None = None) -> dict[str, Any]:
        """The public view of *code* (GET /api/v1/dossiers/<code>), the live source asked
        first; DossierError 404 for an unknown or malformed code, 429 when *client* has used
        up its lookups (`_require_for`)."""
        row, live = self._require_for(code, client)
        return self.public_view(row, live)

    def public_or_none(self, code: str) -> dict[str, Any] | None:
        """The public view of *code*, or None when there is no such dossier."""
        try:
            normal = parse_dossier_code(code).text
        except ValueError:
            return None
        row, live = self._find(normal)
        return self.public_view(row, live) if row is not None else None

    def public_by_code(self, text: str) -> dict[str, Any] | None:
        """What a scanner or camera read (a code or a lookup URL) to the public view, or
        None (not a dossier code, or no such dossier)."""
        code = extract_code(text) if isinstance(text, str) else None
        return self.public_or_none(code) if code else None

    # Live source --------------------------------------------------------------------------
    def sync_live(self, code: str, answer: Mapping[str, Any]) -> Row | None:
        """Save what the live source said about *code* (normalised) in the local table: a
        new dossier, or the changed columns of an existing one, with a dossier_events row
        (action ``live_sync``) only when something changed. Returns the row, or None when
        the answer lacks what a new dossier needs (procedure, received_at, due_at)."""
        now = self.now()
        status = answer.get("status")
        if not isinstance(status, int):
            return None
        for _attempt in range(2):
            try:
                with self.store.write() as conn:
                    old = _row_for_update(conn, code)
                    values = self._live_values(old, answer, now)
                    if values is None:
                        return None
                    if old is None:
                        conn.execute(t.dossiers.insert().values(
                            code=code, source="live", apology="", lookup_secret="", applicant_id="", phone="",
                            **values))
                        conn.execute(t.dossier_events.insert().values(
                            code=code, at=now, action="live_sync", status=status, staff_id=None,
                            detail={"created": True}))
                    else:
                        changes = self._changes(old, values)
                        if not changes:
                            return old
                        conn.execute(t.dossiers.update().where(t.dossiers.c.code == code).values(**values))
                        conn.execute(t.dossier_events.insert().values(
                            code=code, at=now, action="live_sync", status=status, staff_id=None,
                            detail={"changes": changes}))
                    row = conn.execute(select(t.dossiers).where(t.dossiers.c.code == code)).first()
            except IntegrityError:  # another request created it at the same moment: redo as update
                continue
            self._announce([row])
            return row
        return None

    def _live_values(self, old: Row | None, answer: Mapping[str, Any], now: datetime) -> dict[str, Any] | None:
        """Column values from a live answer; fields it does not give keep the stored ones."""
        values: dict[str, Any] = {"status": answer["status"], "updated_at": now}
        limits = {"procedure": MAX_PROCEDURE, "field": MAX_FIELD, "applicant": MAX_APPLICANT}
        for name, limit in limits.items():
            text = answer.get(name)
            if isinstance(text, str) and text:
                values[name] = text[:limit]
            elif old is None:
                values[name] = ""
        for name in ("received_at", "due_at", "new_due_at", "finished_at", "returned_at"):
            day = answer.get(name)
            if isinstance(day, date):
                values[name] = self._same_day_or(getattr(old, name) if old is not None else None, day)
        if old is None and (not values["procedure"] or "received_at" not in values or "due_at" not in values):
            return None
        status = values["status"]
        received = values.get("received_at", old.received_at if old is not None else now)
        was_finished = old is not None and old.status in FINISHED_STATUSES
        # Finish and return moments the answer does not give follow the status (as for staff).
        if status not in FINISHED_STATUSES:
            values["finished_at"] = None
        elif "finished_at" not in values:
            kept = old.finished_at if was_finished and old is not None else None
            values["finished_at"] = kept or max(now, received)
        if status != int(DossierStatus.RETURNED):
            values["returned_at"] = None
        elif "returned_at" not in values:
            kept = old.returned_at if old is not None else None
            values["returned_at"] = kept or max(now, values["finished_at"])
        if old is None:
            values.setdefault("new_due_at", None)
        return values

    # Second factor ------------------------------------------------------------------------
    def verify(self, code: str, secret: str | None = None, *, id_last4: str | None = None,
               client: LookupClient | None = None) -> dict[str, Any]:
        """The verified view when *secret* is the dossier's lookup secret (mã tra cứu) or the
        last 4 characters of the applicant's ID number (either argument). Wrong answers are
        counted per *client* and dossier, per client and per dossier (limits.py): a client
        that gave too many gets 429, even for a right answer, while another client with the
        right answer still gets in. *client* None: one shared trusted client (tools)."""
        row, live = self._require_for(code, client)
        who = client or LOCAL
        if self.limits is not None:
            self.limits.check_verify(who, row.code)
        answers = [a for a in (secret, id_last4) if isinstance(a, str) and a.strip()]
        if not answers:
            raise DossierError("invalid", "Mời ông/bà nhập mã tra cứu in trên Giấy tiếp nhận hồ sơ "
                               "hoặc 4 số cuối của số căn cước công dân.", 422)
        if any(_answer_matches(row, a) for a in answers):
            if self.limits is not None:
                self.limits.verify_passed(who, row.code)
            return self.verified_view(row, live)
        left, wait = VERIFY_LIMIT, 0.0
        if self.limits is not None:
            left, wait = self.limits.verify_failed(who, row.code)
        if not row.lookup_secret and not row.applicant_id:
            message = ("Hồ sơ này chưa có mã tra cứu. Mời ông/bà hỏi cán bộ tại quầy "
                       "để xem đầy đủ thông tin.")
        else:
            message = ("Mã tra cứu (hoặc 4 số cuối căn cước công dân) không đúng. "
                       + (f"Ông/bà còn {left} lần thử." if left or self.limits is None else
                          f"Ông/bà đã hết lượt thử, vui lòng thử lại {self.limits.when(wait)}."))
        raise DossierError("wrong_secret", message, 403, tries_left=left)

    # Tickets ------------------------------------------------------------------------------
    def ready_dossier_for_ticket(self, code: object, field_code: object) -> str:
        """For a "Lấy số nhận kết quả" ticket: the normalised code of a dossier whose result
        is ready (status 9), for a field that returns results (local data only);
        DossierError 422 (bad code or field), 404 (unknown dossier) or 409 (not ready)
        otherwise."""
        field = self.config.field(field_code) if isinstance(field_code, str) and self.config is not None else None
        if field is None or not field.returns_results:
            raise DossierError("not_result_field", "Chỉ lấy số nhận kết quả hồ sơ ở lĩnh vực Trả kết quả.", 422)
        normal = normal_code(code)
        row = self._local(normal)
        if row is None:
            raise DossierError("unknown_dossier", f"Không tìm thấy hồ sơ có mã {normal}. Mời ông/bà kiểm tra "
                               "lại mã trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả.", 404)
        if row.status != int(DossierStatus.DONE):
            label = status_info(row.status).label_vi
            if row.status == int(DossierStatus.RETURNED):
                when = self.local_day(row.returned_at)
                message = f"Kết quả hồ sơ {normal} đã được trả" + (f" ngày {when:%d/%m/%Y}." if when else ".")
            elif row.status in FINISHED_STATUSES:
                message = f"Hồ sơ {normal} không có kết quả để nhận (trạng thái: {label})."
            else:
                due = self.local_day(row.new_due_at) or self.local_day(row.due_at)
                message = (f"Hồ sơ {normal} chưa có kết quả (trạng thái: {label}). "
                           f"Ngày hẹn trả: {due:%d/%m/%Y}.")
            raise DossierError("dossier_not_ready", message, 409, dossier_status=row.status, status_label=label)
        return normal

    # Staff changes ------------------------------------------------------------------------
    def set_status(self, code: str, status: object, *, staff_id: int | None = None, note: str = "") -> dict[str, Any]:
        """Change a dossier's status (e.g. 9 result ready, 10 returned), recording the finish
        and return moments and a dossier_events row. Returns the staff view."""
        try:
            new_status = parse_status(status)
        except ValueError as exc:
            raise DossierError("invalid_status", str(exc), 422) from None
        normal = code_or_404(code)
        note = (note or "").strip()[:300]
        now = self.now()
        with self.store.write() as conn:
            row = _row_for_update(conn, normal)
            if row is None:
                raise DossierError("unknown_dossier", f"Không tìm thấy hồ sơ có mã {normal}.", 404)
            if row.status == new_status:
                return self.staff_view(row)
            values = self._status_values(row, new_status, now)
            conn.execute(t.dossiers.update().where(t.dossiers.c.code == normal).values(**values))
            conn.execute(t.dossier_events.insert().values(
                code=normal, at=now, action="status", status=new_status, staff_id=staff_id,
                detail={"from": row.status, "to": new_status, **({"note": note} if note else {})}))
            row = conn.execute(select(t.dossiers).where(t.dossiers.c.code == normal)).first()
        self._announce([row])
        return self.staff_view(row)

    def _status_values(self, row: Row, new_status: int, now: datetime) -> dict[str, Any]:
        values: dict[str, Any] = {"status": new_status, "updated_at": now}
        if new_status in FINISHED_STATUSES:
            if row.status not in FINISHED_STATUSES or row.finished_at is None:
                values["finished_at"] = now
        else:
            values["finished_at"] = None
        if new_status == int(DossierStatus.RETURNED):
            if row.returned_at is None:
                values["returned_at"] = now
        else:
            values["returned_at"] = None
        return values

    def return_for_ticket(self, code: str, *, ticket_id: int, number: str, counter: int | None) -> bool:
        """The visit of a pickup ticket taken for *code* ended done: a dossier whose result
        is ready (9) becomes returned (10), with a dossier_events row naming the ticket.
        Any other status is left alone (returned already, reopened, unknown code): False."""
        try:
            normal = parse_dossier_code(code).text
        except ValueError:
            return False
        now = self.now()
        with self.store.write() as conn:
            row = _row_for_update(conn, normal)
            if row is None or row.status != int(DossierStatus.DONE):
                return False
            returned = int(DossierStatus.RETURNED)
            conn.execute(t.dossiers.update().where(t.dossiers.c.code == normal)
                         .values(**self._status_values(row, returned, now)))
            conn.execute(t.dossier_events.insert().values(
                code=normal, at=now, action="status", status=returned, staff_id=None,
                detail={"from": row.status, "to": returned, "ticket": ticket_id, "number": number,
                        "counter": counter}))
            row = conn.execute(select(t.dossiers).where(t.dossiers.c.code == normal)).first()
        self._announce([row])
        return True

    def record_apology(self, code: str, new_due: date, text: str = "", *, staff_id: int | None = None) -> dict[str, Any]:
        """Record an apology letter: a new promised date and its text (a standard sentence
        when *text* is empty). The first promised date stays the one that counts for
        lateness (QĐ 766)."""
        normal = code_or_404(code)
        text = " ".join((text or "").split())
        if len(text) > MAX_APOLOGY:
            raise DossierError("invalid", f"Nội dung xin lỗi dài {len(text)} ký tự (tối đa {MAX_APOLOGY}).", 422)
        if not isinstance(new_due, date):
            raise DossierError("invalid", "Ngày hẹn mới phải có dạng dd/mm/yyyy.", 422)
        if new_due < self.today():
            raise DossierError("invalid", f"Ngày hẹn mới {new_due:%d/%m/%Y} đã qua; hãy chọn một ngày từ hôm nay "
                               "trở đi.", 422)
        now = self.now()
        with self.store.write() as conn:
            row = _row_for_update(conn, normal)
            if row is None:
                raise DossierError("unknown_dossier", f"Không tìm thấy hồ sơ có mã {normal}.", 404)
            if row.status in FINISHED_STATUSES:
                raise DossierError("dossier_finished", f"Hồ sơ {normal} đã kết thúc xử lý "
                                   f"({status_info(row.status).label_vi}), không cần hẹn lại.", 409)
            due_day = self.local_day(row.due_at)
            if new_due <= due_day:
                raise DossierError("invalid", f"Ngày hẹn mới phải sau ngày hẹn trả {due_day:%d/%m/%Y}.", 422)
            text = text or default_apology(self.office_name, new_due)
            conn.execute(t.dossiers.update().where(t.dossiers.c.code == normal).values(
                new_due_at=self.day_start(new_due), apology=text, updated_at=now))
            conn.execute(t.dossier_events.insert().values(
                code=normal, at=now, action="apology", status=row.status, staff_id=staff_id,
                detail={"new_due_at": new_due.isoformat(), "text": text,
                        "previous_new_due_at": iso_day(self.local_day(row.new_due_at))}))
            row = conn.execute(select(t.dossiers).where(t.dossiers.c.code == normal)).first()
        self._announce([row])
        return self.staff_view(row)

    # Events -------------------------------------------------------------------------------
    def _announce(self, rows: Iterable[Row]) -> None:
        if self.emit is None:
            return
        for row in rows:
            if row is None:
                continue
            self._emit({"code": row.code, "status": row.status,
                        "ready": row.status == int(DossierStatus.DONE)})

    def _announce_codes(self, codes: Sequence[str]) -> None:
        if self.emit is None:
            return
        if len(codes) > MAX_EVENTS_PER_IMPORT:
            self._emit({"code": None, "status": None, "ready": None, "count": len(codes)})
            return
        rows: list[Row] = []
        with self.store.read() as conn:
            for i in range(0, len(codes), IN_CHUNK):
                rows.extend(conn.execute(select(t.dossiers.c.code, t.dossiers.c.status)
                                         .where(t.dossiers.c.code.in_(codes[i:i + IN_CHUNK]))).all())
        self._announce(rows)

    def _emit(self, payload: dict[str, Any]) -> None:
        try:
            assert self.emit is not None
            self.emit("dossier:updated", payload, "public")
        except Exception:  # noqa: BLE001 - a failing publisher never undoes a committed change
            log.exception("could not publish dossier:updated")


# ------------------------------------------------------------------------------ helpers

def _row_for_update(conn: Connection, code: str) -> Row | None:
    q = select(t.dossiers).where(t.dossiers.c.code == code)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    return conn.execute(q).first()


def _answer_matches(row: Row, answer: str) -> bool:
    given = answer.strip()
    secret = row.lookup_secret or ""
    ok = False
    if secret:
        ok = hmac.compare_digest(secret.upper().encode(), given.upper().encode("utf-8", "replace"))
    if row.applicant_id and id_last4_matches(row.applicant_id, given):
        ok = True
    return ok
