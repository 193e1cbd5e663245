"""Dossiers (hồ sơ) in the database: lookup, second-factor check, import, staff changes and
the lists the displays show. No Flask here: the API (motcua/api/dossier_routes.py), the
screens and the devices call these functions with the app's `Services`.

Conventions (docs/lookup.md):

* Codes are stored normalised (`motcua.dossiers.codes.parse_dossier_code`).
* A date without a time (ngày hẹn trả, ngày hẹn mới, dates from an import) is stored as the
  start of that day in the office's time zone, as an aware UTC instant; moments the system
  sees itself (a status change, a demo dossier's reception) keep their time.
* "Late" follows `motcua.dossiers.timeliness.classify` (calendar days, local time).
* Every change that the public panels show emits Socket.IO ``dossier:updated``
  ``{"code", "status", "ready"}`` to the audience "public" after the commit.

Errors are `DossierError(status, code, message)` (Vietnamese message); the API turns them
into JSON errors. `clean_codes` and `ready_dossier_for_ticket` raise the web layer's
`ApiError` directly, as the queue routes expect.
"""
from __future__ import annotations

import hmac
import logging
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field as dc_field
from datetime import date, datetime, time as dtime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from drivers.blocking import run_blocking

from .dossiers import (
    FINISHED_STATUSES,
    DossierRow,
    Timeliness,
    classify,
    extract_code,
    fold,
    id_last4_matches,
    mask_id,
    mask_name,
    mask_phone,
    next_step,
    parse_dossier_code,
    parse_import,
    parse_status,
    status_info,
)
from .dossiers.status import DossierStatus
from .dossiers.text import shown
from .store import tables as t

log = logging.getLogger(__name__)

__all__ = [
    "DossierError", "DossierStore", "ImportOutcome", "apology_list", "clean_codes", "get",
    "import_file", "import_rows", "list_dossiers", "public_view", "ready_dossier_for_ticket",
    "ready_list", "record_apology", "scan_lookup", "seed_demo_dossiers", "set_status", "staff_view",
    "verify",
]

#: Wrong second factors accepted per dossier code before 429, and the windows.
VERIFY_LIMIT = 5
VERIFY_WINDOW_S = 600
VERIFY_DAILY_LIMIT = 20
VERIFY_DAILY_WINDOW_S = 86_400
#: Longest values the table takes (tables.py); the importer allows longer procedure names.
MAX_PROCEDURE = t.dossiers.c.procedure.type.length or 300
MAX_FIELD = t.dossiers.c.field.type.length or 120
MAX_APPLICANT = t.dossiers.c.applicant.type.length or 200
MAX_APOLOGY = t.dossiers.c.apology.type.length or 500
#: At most this many per-dossier `dossier:updated` events after one import; more changes
#: are announced as one event with ``code`` null and ``count``.
MAX_EVENTS_PER_IMPORT = 50
PANEL_LIMIT = 50
MAX_PER_PAGE = 200
_IN_CHUNK = 500

_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class DossierError(Exception):
    """A refusal with an HTTP status, an error code and a Vietnamese message."""

    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


@dataclass
class ImportOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    codes: list[str] = dc_field(default_factory=list)  # created or updated

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


# ------------------------------------------------------------------------------ context

@dataclass(frozen=True)
class DossierStore:
    """The dossier functions over explicit dependencies (built from `Services`)."""

    store: Any  # motcua.store.Store
    calendar: Any  # motcua.clock.BusinessCalendar
    clock: Callable[[], datetime]
    throttle: Any = None  # motcua.auth.Throttle
    emit: Callable[[str, dict[str, Any], str], None] | None = None
    office_name: str = ""
    column_mapping: Mapping[str, str] | None = None
    live: Any = None  # motcua.dossiers_live.LiveSource, when [dossiers.live_source] is set
    #: What the live source said for the codes this instance looked up ("live",
    #: "unavailable", "not_found"), read by `public_view`. One instance per request.
    live_outcomes: dict[str, str] = dc_field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_services(cls, services: Any) -> "DossierStore":
        from .dossiers_live import live_source_for

        hub = getattr(services, "hub", None)
        settings = getattr(services, "settings", None)
        extra = getattr(settings, "extra", None) or {}
        mapping: Any = getattr(getattr(services.config, "dossiers", None), "column_mapping", None) or None
        if mapping is None and isinstance(extra, Mapping):
            mapping = extra.get("dossier_column_mapping")
        return cls(
            store=services.store, calendar=services.engine.calendar, clock=services.engine.clock,
            throttle=getattr(getattr(services, "auth", None), "throttle", None),
            emit=hub.emit if hub is not None else None,
            office_name=services.config.office.short_name or services.config.office.name,
            column_mapping=dict(mapping) if isinstance(mapping, Mapping) else None,
            live=live_source_for(services),
        )

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
        """The dossier row for *code* (any spelling), or None (also for a malformed code)."""
        try:
            normal = parse_dossier_code(code).text
        except ValueError:
            return None
        with self.store.read() as conn:
            return conn.execute(select(t.dossiers).where(t.dossiers.c.code == normal)).first()

    def lookup(self, code: str) -> Row | None:
        """Like `get`, but asks the live source first when one is configured: what it
        answers is saved locally (`sync_live`) and the local row returned; when it is
        unavailable, the local row as it is. `public_view` then tells which it was."""
        if self.live is None:
            return self.get(code)
        try:
            normal = parse_dossier_code(code).text
        except ValueError:
            return None
        return self._lookup_normal(normal)

    def _lookup_normal(self, normal: str) -> Row | None:
        if self.live is not None:
            from .dossiers_live import UNAVAILABLE

            answer = self.live.fetch(normal)
            if answer is UNAVAILABLE:
                self.live_outcomes[normal] = "unavailable"
            elif answer is None:
                self.live_outcomes[normal] = "not_found"
            else:
                row = self.sync_live(normal, answer)
                if row is not None:
                    self.live_outcomes[normal] = "live"
                    return row
                self.live_outcomes[normal] = "unavailable"
        with self.store.read() as conn:
            return conn.execute(select(t.dossiers).where(t.dossiers.c.code == normal)).first()

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

    def require(self, code: str) -> Row:
        """The row, or DossierError 404 (malformed codes say what is wrong with them).
        With a live source configured, it is asked first (see `lookup`)."""
        normal = _parse_or_404(code)
        row = self._lookup_normal(normal)
        if row is None:
            raise DossierError(404, "unknown_dossier",
                               f"Không tìm thấy hồ sơ có mã {normal}. Mời ông/bà kiểm tra lại mã hồ sơ "
                               "trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả.")
        return row

    # Views --------------------------------------------------------------------------------
    def public_view(self, row: Row) -> dict[str, Any]:
        """What anyone may see: the applicant's name masked ("Nguyễn V. A.")."""
        info = status_info(row.status)
        today = self.today()
        due_day = self.local_day(row.due_at)
        finished_day = self.local_day(row.finished_at) if row.status in FINISHED_STATUSES else None
        if row.status in FINISHED_STATUSES and finished_day is None:
            timeliness = None  # finished, date unknown: cannot be placed
        else:
            timeliness = classify(due_day, finished_day, today)
        late = timeliness in (Timeliness.LATE, Timeliness.OVERDUE)
        days_late = 0
        if timeliness is Timeliness.OVERDUE:
            days_late = (today - due_day).days
        elif timeliness is Timeliness.LATE and finished_day is not None:
            days_late = (finished_day - due_day).days
        new_due_day = self.local_day(row.new_due_at)
        apology = row.apology or None
        if apology is None and new_due_day is not None:
            apology = default_apology(self.office_name, new_due_day)
        step = next_step(row.status)
        if new_due_day is not None and row.status not in FINISHED_STATUSES:
            step = f"{step} Ngày hẹn trả mới: {new_due_day:%d/%m/%Y}."
        received_day = self.local_day(row.received_at)
        return {
            "code": row.code,
            "procedure": row.procedure,
            "field": row.field,
            "applicant": mask_name(row.applicant),
            "applicant_masked": True,
            "status": row.status,
            "status_label": info.label_vi,
            "status_label_en": info.label_en,
            "next_step": step,
            "received_at": received_day.isoformat(),
            "received_at_text": f"{received_day:%d/%m/%Y}",
            "due_at": due_day.isoformat(),
            "due_at_text": f"{due_day:%d/%m/%Y}",
            "finished_at": finished_day.isoformat() if finished_day else None,
            "ready": bool(info.ready),
            "finished": bool(info.finished),
            "late": late,
            "days_late": days_late,
            "timeliness": timeliness.value if timeliness else None,
            "timeliness_label": timeliness.label_vi if timeliness else None,
            "apology": apology,
            "new_due_at": new_due_day.isoformat() if new_due_day else None,
            "new_due_at_text": f"{new_due_day:%d/%m/%Y}" if new_due_day else None,
            "verified": False,
            **self._source_keys(row.code),
        }

    def _source_keys(self, code: str) -> dict[str, Any]:
        outcome = self.live_outcomes.get(code)
        if outcome == "live":
            return {"source": "live"}
        if outcome == "unavailable":
            return {"source": "local", "live_unavailable": True}
        return {"source": "local"}

    def verified_view(self, row: Row) -> dict[str, Any]:
        """The public view with the applicant's full name (after a right second factor)."""
        view = self.public_view(row)
        view.update(applicant=row.applicant, applicant_masked=False, verified=True,
                    phone=mask_phone(row.phone) or None)
        return view

    def staff_view(self, row: Row) -> dict[str, Any]:
        """Everything staff need, including the lookup secret printed on the receipt."""
        view = self.public_view(row)
        view.update(
            applicant=row.applicant, applicant_masked=False, applicant_short=mask_name(row.applicant),
            phone=row.phone or None, id_number=mask_id(row.applicant_id, show_last4=True) or None,
            lookup_secret=row.lookup_secret or None, returned_at=_iso_day(self.local_day(row.returned_at)),
            source=row.source, updated_at=row.updated_at.isoformat(timespec="seconds"),
        )
        return view

    def panel_item(self, row: Row) -> dict[str, Any]:
        view = self.public_view(row)
        keys = ("code", "procedure", "field", "applicant", "status", "status_label", "due_at", "due_at_text",
                "finished_at", "ready", "late", "days_late", "apology", "new_due_at", "new_due_at_text")
        return {k: view[k] for k in keys}

    # Second factor ------------------------------------------------------------------------
    def verify(self, code: str, secret: str | None = None, *, id_last4: str | None = None) -> dict[str, Any]:
        """The verified view when *secret* is the dossier's lookup secret (mã tra cứu) or the
        last 4 characters of the applicant's ID number (either argument). Wrong answers are
        counted per code: after `VERIFY_LIMIT` in `VERIFY_WINDOW_S` (or `VERIFY_DAILY_LIMIT`
        a day) the answer is 429, even for a right secret, until the window passes."""
        row = self.require(code)
        key = f"dossier-verify:{row.code}"
        if self.throttle is not None and (
            self.throttle.blocked(key, VERIFY_LIMIT, VERIFY_WINDOW_S)
            or self.throttle.blocked(key, VERIFY_DAILY_LIMIT, VERIFY_DAILY_WINDOW_S)
        ):
            raise DossierError(429, "too_many_attempts",
                               "Ông/bà đã nhập sai mã tra cứu quá nhiều lần. Vui lòng thử lại sau "
                               f"{VERIFY_WINDOW_S // 60} phút hoặc hỏi cán bộ tại quầy.")
        answers = [a for a in (secret, id_last4) if isinstance(a, str) and a.strip()]
        if not answers:
            raise DossierError(422, "invalid", "Mời ông/bà nhập mã tra cứu in trên Giấy tiếp nhận hồ sơ "
                               "hoặc 4 số cuối của số căn cước công dân.")
        if any(_answer_matches(row, a) for a in answers):
            if self.throttle is not None:
                self.throttle.clear(key)
            return self.verified_view(row)
        left = VERIFY_LIMIT
        if self.throttle is not None:
            self.throttle.fail(key)
            left = max(0, VERIFY_LIMIT - _failures(self.throttle, key, VERIFY_WINDOW_S))
        if not row.lookup_secret and not row.applicant_id:
            message = ("Hồ sơ này chưa có mã tra cứu. Mời ông/bà hỏi cán bộ tại quầy "
                       "để xem đầy đủ thông tin.")
        else:
            message = ("Mã tra cứu (hoặc 4 số cuối căn cước công dân) không đúng. "
                       + (f"Ông/bà còn {left} lần thử." if left else
                          f"Ông/bà đã hết lượt thử, vui lòng thử lại sau {VERIFY_WINDOW_S // 60} phút."))
        raise DossierError(403, "wrong_secret", message, tries_left=left)

    # Lists --------------------------------------------------------------------------------
    def list_page(self, *, statuses: Iterable[int] | None = None, q: str = "", late: bool | None = None,
                  page: int = 1, per_page: int = 50) -> dict[str, Any]:
        """Staff list, newest received first. *q* matches code, procedure or applicant with or
        without accents; *late* keeps only late (or only not late) dossiers.

        Accent-free matching: the database narrows the rows with a LIKE pattern in which
        every letter that may carry an accent is a one-character wildcard (`_like_skeleton`),
        then Python confirms each candidate with `fold`."""
        page = max(1, int(page))
        per_page = max(1, min(MAX_PER_PAGE, int(per_page)))
        wanted = sorted({int(s) for s in statuses}) if statuses else []
        needle = fold(q or "")[:200]
        code_needle = re.sub(r"\s+", "", needle)
        conds: list[Any] = [t.dossiers.c.status.in_(wanted)] if wanted else []
        order = (t.dossiers.c.received_at.desc(), t.dossiers.c.code.desc())
        if needle:
            conds.append(or_(
                t.dossiers.c.code.ilike(f"%{_like_escape(code_needle)}%", escape="\\"),
                t.dossiers.c.procedure.ilike(f"%{_like_skeleton(needle)}%", escape="\\"),
                t.dossiers.c.applicant.ilike(f"%{_like_skeleton(needle)}%", escape="\\"),
            ))
        if late:
            unfinished = t.dossiers.c.status.not_in(sorted(FINISHED_STATUSES))
            conds.append(or_(
                and_(unfinished, t.dossiers.c.due_at < self.day_start(self.today())),
                and_(~unfinished, t.dossiers.c.finished_at > t.dossiers.c.due_at),
            ))
        with self.store.read() as conn:
            if not needle and late is None:
                count_q = select(func.count()).select_from(t.dossiers)
                rows_q = select(t.dossiers).order_by(*order).limit(per_page).offset((page - 1) * per_page)
                if conds:
                    count_q, rows_q = count_q.where(*conds), rows_q.where(*conds)
                total = conn.execute(count_q).scalar_one()
                rows = conn.execute(rows_q).all()
            else:
                scan = select(t.dossiers.c.code, t.dossiers.c.procedure, t.dossiers.c.applicant,
                              t.dossiers.c.status, t.dossiers.c.due_at, t.dossiers.c.finished_at).order_by(*order)
                if conds:
                    scan = scan.where(*conds)
                matched: list[str] = []
                total = 0
                lo, hi = (page - 1) * per_page, page * per_page
                folded: dict[str, str] = {}  # procedure names repeat: fold each once
                for r in conn.execute(scan):
                    if needle and not (
                        (code_needle and code_needle in r.code.lower())
                        or needle in _cached_fold(folded, r.procedure) or needle in fold(r.applicant)
                    ):
                        continue
                    if late is not None and self._is_late(r) != late:
                        continue
                    if lo <= total < hi:
                        matched.append(r.code)
                    total += 1
                rows = []
                if matched:
                    found = {r.code: r for r in conn.execute(select(t.dossiers).where(t.dossiers.c.code.in_(matched)))}
                    rows = [found[c] for c in matched if c in found]
        pages = (total + per_page - 1) // per_page
        return {"items": [self.staff_view(r) for r in rows], "total": total, "page": page,
                "per_page": per_page, "pages": pages}

    def _is_late(self, row: Any) -> bool:
        due = self.local_day(row.due_at)
        finished = self.local_day(row.finished_at) if row.status in FINISHED_STATUSES else None
        if row.status in FINISHED_STATUSES and finished is None:
            return False
        return classify(due, finished, self.today()) in (Timeliness.LATE, Timeliness.OVERDUE)

    def ready_list(self, limit: int = PANEL_LIMIT) -> list[dict[str, Any]]:
        """Dossiers whose result waits at the Trả kết quả counter (status 9), newest first,
        names masked."""
        limit = max(1, min(MAX_PER_PAGE, int(limit)))
        with self.store.read() as conn:
            rows = conn.execute(
                select(t.dossiers).where(t.dossiers.c.status == int(DossierStatus.DONE))
                .order_by(func.coalesce(t.dossiers.c.finished_at, t.dossiers.c.updated_at).desc(),
                          t.dossiers.c.code.desc())
                .limit(limit)).all()
        return [self.panel_item(r) for r in rows]

    def apology_list(self, limit: int = PANEL_LIMIT) -> list[dict[str, Any]]:
        """Dossiers not finished that are late, or that have an apology (new date) recorded:
        those with an apology first, then the most overdue; names masked."""
        limit = max(1, min(MAX_PER_PAGE, int(limit)))
        today_start = self.day_start(self.today())
        has_apology = or_(t.dossiers.c.apology != "", t.dossiers.c.new_due_at.is_not(None))
        with self.store.read() as conn:
            rows = conn.execute(
                select(t.dossiers).where(
                    t.dossiers.c.status.not_in(sorted(FINISHED_STATUSES)),
                    or_(t.dossiers.c.due_at < today_start, has_apology),
                ).order_by(case((has_apology, 0), else_=1), t.dossiers.c.due_at.asc(), t.dossiers.c.code.asc())
                .limit(limit)).all()
        return [self.panel_item(r) for r in rows]

    # Staff changes ------------------------------------------------------------------------
    def set_status(self, code: str, status: object, *, staff_id: int | None = None, note: str = "") -> dict[str, Any]:
        """Change a dossier's status (e.g. 9 result ready, 10 returned), recording the finish
        and return moments and a dossier_events row. Returns the staff view."""
        try:
            new_status = parse_status(status)
        except ValueError as exc:
            raise DossierError(422, "invalid_status", str(exc)) from None
        normal = _parse_or_404(code)
        note = (note or "").strip()[:300]
        now = self.now()
        with self.store.write() as conn:
            row = _row_for_update(conn, normal)
            if row is None:
                raise DossierError(404, "unknown_dossier", f"Không tìm thấy hồ sơ có mã {normal}.")
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

    def record_apology(self, code: str, new_due: date, text: str = "", *, staff_id: int | None = None) -> dict[str, Any]:
        """Record an apology letter: a new promised date and its text (a standard sentence
        when *text* is empty). The first promised date stays the one that counts for
        lateness (QĐ 766)."""
        normal = _parse_or_404(code)
        text = " ".join((text or "").split())
        if len(text) > MAX_APOLOGY:
            raise DossierError(422, "invalid", f"Nội dung xin lỗi dài {len(text)} ký tự (tối đa {MAX_APOLOGY}).")
        if not isinstance(new_due, date):
            raise DossierError(422, "invalid", "Ngày hẹn mới phải có dạng dd/mm/yyyy.")
        if new_due < self.today():
            raise DossierError(422, "invalid", f"Ngày hẹn mới {new_due:%d/%m/%Y} đã qua; hãy chọn một ngày từ hôm nay trở đi.")
        now = self.now()
        with self.store.write() as conn:
            row = _row_for_update(conn, normal)
            if row is None:
                raise DossierError(404, "unknown_dossier", f"Không tìm thấy hồ sơ có mã {normal}.")
            if row.status in FINISHED_STATUSES:
                raise DossierError(409, "dossier_finished", f"Hồ sơ {normal} đã kết thúc xử lý "
                                   f"({status_info(row.status).label_vi}), không cần hẹn lại.")
            due_day = self.local_day(row.due_at)
            if new_due <= due_day:
                raise DossierError(422, "invalid", f"Ngày hẹn mới phải sau ngày hẹn trả {due_day:%d/%m/%Y}.")
            text = text or default_apology(self.office_name, new_due)
            conn.execute(t.dossiers.update().where(t.dossiers.c.code == normal).values(
                new_due_at=self.day_start(new_due), apology=text, updated_at=now))
            conn.execute(t.dossier_events.insert().values(
                code=normal, at=now, action="apology", status=row.status, staff_id=staff_id,
                detail={"new_due_at": new_due.isoformat(), "text": text,
                        "previous_new_due_at": _iso_day(self.local_day(row.new_due_at))}))
            row = conn.execute(select(t.dossiers).where(t.dossiers.c.code == normal)).first()
        self._announce([row])
        return self.staff_view(row)

    # Import -------------------------------------------------------------------------------
    def import_file(self, data: bytes, hint: str, *, staff_id: int | None = None,
                    mapping: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Check and import an uploaded list (CSV or XLSX). All rows or none:
        ``{"imported", "created", "updated", "unchanged", "errors", "warnings", ...}``."""
        # Parsing and checking a large workbook takes seconds of CPU: a native thread.
        result = run_blocking(parse_import, data, hint, mapping=dict(mapping or self.column_mapping or {}) or None)
        errors = list(result.errors)
        if not errors:
            errors = table_limit_errors(result.rows)
        body: dict[str, Any] = {"imported": 0, "created": 0, "updated": 0, "unchanged": 0,
                                "errors": errors, "warnings": result.warnings, "checked": result.checked,
                                "format": result.format}
        if errors or not result.rows:
            if not errors:
                body["errors"] = [{"row": 0, "message": "Tệp không có dòng dữ liệu nào."}]
            return body
        outcome = self.import_rows(result.rows, staff_id=staff_id)
        body.update(imported=outcome.imported, created=outcome.created, updated=outcome.updated,
                    unchanged=outcome.unchanged)
        return body

    def import_rows(self, rows: Sequence[DossierRow], *, staff_id: int | None = None,
                    source: str = "import") -> ImportOutcome:
        """Insert or update every row in one write transaction (all or none). An existing
        dossier is updated and a dossier_events row records what changed; a dossier
        that reaches a finished status without a finish date gets the import moment
        (the event notes ``finished_at_assumed``)."""
        problems = table_limit_errors(rows)
        if problems:
            raise DossierError(422, "invalid", problems[0]["message"], errors=problems)
        now = self.now()
        outcome = ImportOutcome()
        with self.store.write() as conn:
            existing: dict[str, Row] = {}
            codes = [r.code for r in rows]
            for i in range(0, len(codes), _IN_CHUNK):
                chunk = codes[i:i + _IN_CHUNK]
                for r in conn.execute(select(t.dossiers).where(t.dossiers.c.code.in_(chunk))):
                    existing[r.code] = r
            inserts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            for row in rows:
                old = existing.get(row.code)
                values, assumed = self._values_from_row(row, old, now)
                if old is None:
                    inserts.append({"code": row.code, "source": source, "apology": "", **values})
                    detail: dict[str, Any] = {"row": row.row}
                    if assumed:
                        detail["finished_at_assumed"] = True
                    events.append({"code": row.code, "at": now, "action": "created", "status": row.status,
                                   "staff_id": staff_id, "detail": detail})
                    outcome.created += 1
                    outcome.codes.append(row.code)
                    continue
                changes = self._changes(old, values)
                if not changes:
                    outcome.unchanged += 1
                    continue
                full = {c: getattr(old, c) for c in _UPDATABLE}
                full.update(values)
                updates.append({"b_code": row.code, **full})
                detail = {"row": row.row, "changes": changes}
                if assumed:
                    detail["finished_at_assumed"] = True
                events.append({"code": row.code, "at": now, "action": "updated", "status": row.status,
                               "staff_id": staff_id, "detail": detail})
                outcome.updated += 1
                outcome.codes.append(row.code)
            if inserts:
                conn.execute(t.dossiers.insert(), inserts)
            if updates:
                # SET comes from the parameters' keys (every column in _UPDATABLE).
                conn.execute(t.dossiers.update().where(t.dossiers.c.code == bindparam("b_code")), updates)
            if events:
                conn.execute(t.dossier_events.insert(), events)
        if outcome.codes:
            log.info("dossier import: %d new, %d updated, %d unchanged", outcome.created, outcome.updated,
                     outcome.unchanged)
            self._announce_codes(outcome.codes)
        return outcome

    def _values_from_row(self, row: DossierRow, old: Row | None, now: datetime) -> tuple[dict[str, Any], bool]:
        """Column values for an imported row. Optional columns left empty keep what the
        database holds. Returns (values, finish moment assumed)."""
        v: dict[str, Any] = {
            "procedure": row.procedure, "field": row.field, "applicant": row.applicant,
            "status": row.status, "updated_at": now,
        }
        # Dates: keep the stored instant when it falls on the same local day.
        v["received_at"] = self._same_day_or(old.received_at if old else None, row.received_at)
        v["due_at"] = self._same_day_or(old.due_at if old else None, row.due_at)
        v["applicant_id"] = row.id_number if row.id_number is not None else (old.applicant_id if old else "")
        v["phone"] = row.phone if row.phone is not None else (old.phone if old else "")
        v["lookup_secret"] = row.lookup_secret if row.lookup_secret is not None else (old.lookup_secret if old else "")
        if row.new_due_at is not None:
            v["new_due_at"] = self._same_day_or(old.new_due_at if old else None, row.new_due_at)
        else:
            v["new_due_at"] = old.new_due_at if old else None
        assumed = False
        finished = row.status in FINISHED_STATUSES
        if finished:
            if row.finished_at is not None:
                v["finished_at"] = self._same_day_or(old.finished_at if old else None, row.finished_at)
            elif old is not None and old.status in FINISHED_STATUSES and old.finished_at is not None:
                v["finished_at"] = old.finished_at
            else:
                v["finished_at"] = max(now, v["received_at"])
                assumed = True
        else:
            v["finished_at"] = None
        if row.status == int(DossierStatus.RETURNED):
            if row.returned_at is not None:
                v["returned_at"] = self._same_day_or(old.returned_at if old else None, row.returned_at)
            elif old is not None and old.returned_at is not None:
                v["returned_at"] = old.returned_at
            else:
                v["returned_at"] = v["finished_at"] if assumed else max(now, v["finished_at"])
        else:
            v["returned_at"] = None
        return v, assumed

    def _same_day_or(self, stored: datetime | None, day: date) -> datetime:
        if stored is not None and self.local_day(stored) == day:
            return stored
        return self.day_start(day)

    def _changes(self, old: Row, values: Mapping[str, Any]) -> dict[str, list[Any]]:
        changes: dict[str, list[Any]] = {}
        for name in _UPDATABLE:
            if name == "updated_at":
                continue
            before, after = getattr(old, name), values.get(name, getattr(old, name))
            if before == after:
                continue
            if isinstance(before, datetime) or isinstance(after, datetime):
                changes[name] = [_iso_day(self.local_day(before)), _iso_day(self.local_day(after))]
            elif name in ("applicant_id", "lookup_secret", "phone"):
                changes[name] = ["(ẩn)", "(ẩn)"]  # personal data and secrets stay out of the log
            else:
                changes[name] = [before, after]
        return changes

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
            for i in range(0, len(codes), _IN_CHUNK):
                rows.extend(conn.execute(select(t.dossiers.c.code, t.dossiers.c.status)
                                         .where(t.dossiers.c.code.in_(codes[i:i + _IN_CHUNK]))).all())
        self._announce(rows)

    def _emit(self, payload: dict[str, Any]) -> None:
        try:
            assert self.emit is not None
            self.emit("dossier:updated", payload, "public")
        except Exception:  # noqa: BLE001 - a dead socket never undoes a committed change
            log.exception("could not emit dossier:updated")


_UPDATABLE = ("procedure", "field", "applicant", "applicant_id", "phone", "received_at", "due_at", "status",
              "lookup_secret", "finished_at", "returned_at", "new_due_at", "updated_at")


# ------------------------------------------------------------------------------ helpers

def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


#: Folded letters that stand for accented ones (a: á à ả ã ạ ă ắ ... â ...; d: đ).
_ACCENTABLE = frozenset("aeiouyd")


def _like_skeleton(folded: str) -> str:
    """A LIKE pattern (case-insensitive) matching every accented spelling of *folded*
    text: letters that may carry an accent, and anything not ASCII, become "_" (one
    character: stored text is NFC, one character per letter). A superset: callers confirm
    matches with `fold`."""
    out = []
    for ch in folded:
        if ch in _ACCENTABLE or not ch.isascii():
            out.append("_")
        else:
            out.append(_like_escape(ch))
    return "".join(out)


def _cached_fold(cache: dict[str, str], text: str) -> str:
    value = cache.get(text)
    if value is None:
        if len(cache) > 10_000:
            cache.clear()
        value = cache[text] = fold(text)
    return value


def _parse_or_404(code: object) -> str:
    if not isinstance(code, str):
        raise DossierError(404, "invalid_code", "Mã hồ sơ phải là chuỗi ký tự.")
    try:
        return parse_dossier_code(code).text
    except ValueError as exc:
        raise DossierError(404, "invalid_code", f"Không tìm thấy hồ sơ: {exc}") from None


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


def _failures(throttle: Any, key: str, window_s: int) -> int:
    """Failures counted for *key* in the window (from the throttle's own table)."""
    since = throttle.clock() - timedelta(seconds=window_s)
    with throttle.store.read() as conn:
        return conn.execute(select(func.count()).select_from(t.throttle).where(
            t.throttle.c.key == key, t.throttle.c.at >= since)).scalar_one()


def _iso_day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def default_apology(office: str, new_due: date) -> str:
    who = office or "Cơ quan"
    return (f"{who} chân thành xin lỗi ông/bà vì hồ sơ chưa được giải quyết đúng hẹn. "
            f"Ngày hẹn trả kết quả mới: {new_due:%d/%m/%Y}.")


def table_limit_errors(rows: Iterable[DossierRow]) -> list[dict[str, Any]]:
    """Row errors for values longer than the table's columns (the importer allows more)."""
    errors: list[dict[str, Any]] = []
    for r in rows:
        for column, value, limit, label in (
            ("thu_tuc", r.procedure, MAX_PROCEDURE, "tên thủ tục"),
            ("linh_vuc", r.field, MAX_FIELD, "lĩnh vực"),
            ("nguoi_nop", r.applicant, MAX_APPLICANT, "tên người nộp"),
        ):
            if len(value) > limit:
                errors.append({"row": r.row, "message": f"Cột {column}: {label} dài {len(value)} ký tự "
                                                         f"(tối đa {limit}): {shown(value)}."})
    return errors


def parse_day(text: object) -> date:
    """A calendar day from "dd/mm/yyyy" (also d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy) or ISO
    "yyyy-mm-dd"; ValueError with a Vietnamese message otherwise."""
    if not isinstance(text, str) or len(text) > 32:
        raise ValueError("Ngày phải có dạng dd/mm/yyyy, ví dụ 25/12/2026.")
    value = text.strip()
    if m := _DMY.match(value):
        day, month, year = (int(g) for g in m.groups())
    elif m := _ISO.match(value):
        year, month, day = (int(g) for g in m.groups())
    else:
        raise ValueError(f"Ngày {shown(value)} phải có dạng dd/mm/yyyy, ví dụ 25/12/2026.")
    try:
        result = date(year, month, day)
    except ValueError:
        raise ValueError(f"Ngày {shown(value)} không phải ngày có thật.") from None
    if not 2000 <= result.year <= 2099:
        raise ValueError(f"Ngày {shown(value)} có năm ngoài khoảng 2000–2099.")
    return result


# ------------------------------------------------------------------------------ services API
# Thin functions over `DossierStore.from_services(services)`, the names the core and the
# screens call.

def _ds(services: Any) -> DossierStore:
    return DossierStore.from_services(services)


def get(services: Any, code: str) -> Row | None:
    return _ds(services).get(code)


def public_view(services: Any, code: str) -> dict[str, Any] | None:
    """The public view of *code*, or None when there is no such dossier."""
    ds = _ds(services)
    row = ds.lookup(code)
    return ds.public_view(row) if row is not None else None


def staff_view(services: Any, code: str) -> dict[str, Any] | None:
    ds = _ds(services)
    row = ds.get(code)
    return ds.staff_view(row) if row is not None else None


def scan_lookup(services: Any, text: str) -> dict[str, Any] | None:
    """What a scanner or camera read (a code or a lookup URL) to the public view, or None
    (for the kiosk:scan event and GET /api/v1/lookup/scan)."""
    code = extract_code(text) if isinstance(text, str) else None
    return public_view(services, code) if code else None


def verify(services: Any, code: str, secret: str | None = None, *, id_last4: str | None = None) -> dict[str, Any]:
    return _ds(services).verify(code, secret, id_last4=id_last4)


def list_dossiers(services: Any, **kw: Any) -> dict[str, Any]:
    return _ds(services).list_page(**kw)


def ready_list(services: Any, limit: int = PANEL_LIMIT) -> list[dict[str, Any]]:
    return _ds(services).ready_list(limit)


def apology_list(services: Any, limit: int = PANEL_LIMIT) -> list[dict[str, Any]]:
    return _ds(services).apology_list(limit)


def set_status(services: Any, code: str, status: object, *, staff_id: int | None = None, note: str = "") -> dict[str, Any]:
    return _ds(services).set_status(code, status, staff_id=staff_id, note=note)


def record_apology(services: Any, code: str, new_due: date, text: str = "", *, staff_id: int | None = None) -> dict[str, Any]:
    return _ds(services).record_apology(code, new_due, text, staff_id=staff_id)


def import_rows(services: Any, rows: Sequence[DossierRow], *, staff_id: int | None = None) -> ImportOutcome:
    return _ds(services).import_rows(rows, staff_id=staff_id)


def import_file(services: Any, data: bytes, hint: str, *, staff_id: int | None = None) -> dict[str, Any]:
    return _ds(services).import_file(data, hint, staff_id=staff_id)


def clean_codes(codes: list[str]) -> list[str]:
    """Normalised, validated, de-duplicated dossier codes (order kept); ApiError 422 with
    a Vietnamese message for the first bad one."""
    from .web.errors import ApiError

    if not isinstance(codes, (list, tuple)):
        raise ApiError(422, "invalid_code", "Danh sách mã hồ sơ không hợp lệ.")
    out: list[str] = []
    for raw in codes:
        if not isinstance(raw, str):
            raise ApiError(422, "invalid_code", "Mã hồ sơ phải là chuỗi ký tự.")
        try:
            code = parse_dossier_code(raw).text
        except ValueError as exc:
            raise ApiError(422, "invalid_code", str(exc)) from None
        if code not in out:
            out.append(code)
    return out


def ready_dossier_for_ticket(services: Any, code: str, field_code: str) -> str:
    """For a "Lấy số nhận kết quả" ticket: the normalised code of a dossier whose result
    is ready (status 9), for a field that returns results; ApiError 422 (bad code or
    field), 404 (unknown dossier) or 409 (not ready) otherwise."""
    from .web.errors import ApiError

    field = services.config.field(field_code) if isinstance(field_code, str) else None
    if field is None or not field.returns_results:
        raise ApiError(422, "not_result_field", "Chỉ lấy số nhận kết quả hồ sơ ở lĩnh vực Trả kết quả.")
    if not isinstance(code, str):
        raise ApiError(422, "invalid_code", "Mã hồ sơ phải là chuỗi ký tự.")
    try:
        normal = parse_dossier_code(code).text
    except ValueError as exc:
        raise ApiError(422, "invalid_code", str(exc)) from None
    ds = _ds(services)
    row = ds.get(normal)
    if row is None:
        raise ApiError(404, "unknown_dossier", f"Không tìm thấy hồ sơ có mã {normal}. Mời ông/bà kiểm tra lại "
                       "mã trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả.")
    if row.status != int(DossierStatus.DONE):
        label = status_info(row.status).label_vi
        if row.status == int(DossierStatus.RETURNED):
            when = ds.local_day(row.returned_at)
            message = f"Kết quả hồ sơ {normal} đã được trả" + (f" ngày {when:%d/%m/%Y}." if when else ".")
        elif row.status in FINISHED_STATUSES:
            message = f"Hồ sơ {normal} không có kết quả để nhận (trạng thái: {label})."
        else:
            due = ds.local_day(row.new_due_at) or ds.local_day(row.due_at)
            message = (f"Hồ sơ {normal} chưa có kết quả (trạng thái: {label}). "
                       f"Ngày hẹn trả: {due:%d/%m/%Y}.")
        raise ApiError(409, "dossier_not_ready", message, dossier_status=row.status, status_label=label)
    return normal


# ------------------------------------------------------------------------------ demo data

DEMO_AGENCY = "000.17.22.H56"
DEMO_COUNT = 60
_SECRET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# (linh vực, thủ tục, business days to process)
_DEMO_PROCEDURES: tuple[tuple[str, str, int], ...] = (
    ("Hộ tịch", "Đăng ký khai sinh", 1),
    ("Hộ tịch", "Đăng ký kết hôn", 1),
    ("Hộ tịch", "Đăng ký khai tử", 1),
    ("Hộ tịch", "Cấp bản sao trích lục hộ tịch", 1),
    ("Hộ tịch", "Thay đổi, cải chính, bổ sung thông tin hộ tịch", 3),
    ("Hộ tịch", "Đăng ký lại khai sinh", 5),
    ("Chứng thực", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản, "
                   "quyền sử dụng đất và nhà ở", 2),
    ("Chứng thực", "Chứng thực di chúc", 2),
    ("Đất đai", "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất", 10),
    ("Đất đai", "Đăng ký đất đai, tài sản gắn liền với đất, cấp Giấy chứng nhận lần đầu", 20),
    ("Đất đai", "Chuyển mục đích sử dụng đất", 15),
    ("Xây dựng", "Cấp giấy phép xây dựng nhà ở riêng lẻ", 15),
    ("Xây dựng", "Cấp giấy phép sửa chữa, cải tạo công trình", 10),
    ("Bảo trợ xã hội", "Trợ cấp xã hội hàng tháng đối với đối tượng bảo trợ xã hội", 7),
    ("Bảo trợ xã hội", "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội", 3),
    ("Người có công", "Giải quyết chế độ trợ cấp thờ cúng liệt sĩ", 10),
    ("Thành lập và hoạt động của hộ kinh doanh", "Đăng ký thành lập hộ kinh doanh", 3),
    ("Thành lập và hoạt động của hộ kinh doanh", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", 3),
)
_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
           "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trịnh")
# (middle names, given names) for men and for women
_NAMES = (
    (("Văn", "Hữu", "Đức", "Minh", "Quang", "Xuân", "Văn Đức", "Thanh", "Công"),
     ("An", "Bình", "Cường", "Dũng", "Hải", "Hiếu", "Hùng", "Khánh", "Long", "Nam", "Phúc", "Quân",
      "Sơn", "Thắng", "Tuấn", "Đạt", "Đông", "Ước", "Lực")),
    (("Thị", "Thu", "Ngọc", "Hồng", "Thị Thu", "Thị Ngọc", "Thanh", "Minh", "Kim"),
     ("Giang", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "Nga", "Nhung", "Phương", "Tâm",
      "Thảo", "Trang", "Vân", "Yến", "Ánh", "Ổn", "Oanh")),
)
_APOLOGY_REASONS = (
    "do cần xác minh thêm thông tin về nguồn gốc thửa đất",
    "do phải lấy ý kiến của cơ quan chuyên môn cấp tỉnh",
    "do hệ thống phần mềm gặp sự cố trong quá trình xử lý",
)
# Scenarios that need the promised day to have passed, and those that need it ahead.
_PAST = (["returned"] * 16 + ["returned_late"] * 4 + ["ready"] * 7 + ["ready_late"]
         + ["overdue"] * 4 + ["overdue_apology"] * 3 + ["not_accepted", "withdrawn", "stopped"])
_CURRENT = (["new"] * 2 + ["accepted"] * 4 + ["processing"] * 9 + ["supplement"] * 2 + ["payment"] * 2
            + ["ready_early"] * 3)
_STATUS_OF = {
    "returned": 10, "returned_late": 10, "ready": 9, "ready_late": 9, "ready_early": 9, "overdue": 4,
    "overdue_apology": 4, "not_accepted": 3, "withdrawn": 7, "stopped": 8, "new": 1, "accepted": 2,
    "processing": 4, "supplement": 5, "payment": 6,
}


def add_business_days(calendar: Any, day: date, n: int) -> date:
    """The n-th working day after *day* (n >= 0; n == 0 gives *day*)."""
    current = day
    for _ in range(n):
        current += timedelta(days=1)
        for _guard in range(60):
            if calendar.is_working_day(current):
                break
            current += timedelta(days=1)
    return current


def _business_days_back(calendar: Any, today: date, count: int) -> list[date]:
    days: list[date] = []
    current = today
    for _ in range(count * 4):
        if calendar.is_working_day(current):
            days.append(current)
            if len(days) == count:
                break
        current -= timedelta(days=1)
    return sorted(days)


def demo_dossiers(calendar: Any, now: datetime, *, count: int = DEMO_COUNT,
                  seed: str = DEMO_AGENCY) -> list[dict[str, Any]]:
    """Rows (table column values) of realistic sample dossiers received over the last 30
    working days: every status, some late, some ready, some with an apology."""
    rng = random.Random(seed)
    today = calendar.business_date(now)
    days = _business_days_back(calendar, today, 30)
    slots = sorted(days[(i * len(days)) // count] for i in range(count))
    past, current = list(_PAST), list(_CURRENT)
    need = count - len(past)
    current = (current * (need // max(1, len(current)) + 1))[:need]
    rng.shuffle(past)
    rng.shuffle(current)
    scenarios = past[:count] + current
    tz = calendar.tz

    def at(day: date, morning: bool | None = None) -> datetime:
        if morning is None:
            morning = rng.random() < 0.6
        start, span = (7 * 60 + 35, 230) if morning else (13 * 60 + 35, 200)
        minute = start + rng.randrange(span)
        local = datetime.combine(day, dtime(minute // 60, minute % 60), tzinfo=tz)
        return min(local.astimezone(timezone.utc), now - timedelta(minutes=1))

    seq_of_day: dict[date, int] = {}
    rows: list[dict[str, Any]] = []
    for received_day, scenario in zip(slots, scenarios):
        need_past = scenario in _PAST_SET
        options = [p for p in _DEMO_PROCEDURES
                   if (add_business_days(calendar, received_day, p[2]) < today) == need_past]
        if not options:  # today is near the oldest slot: take the shortest or longest
            options = [min(_DEMO_PROCEDURES, key=lambda p: p[2])] if need_past else [max(_DEMO_PROCEDURES, key=lambda p: p[2])]
        field, procedure, span = rng.choice(options)
        due_day = add_business_days(calendar, received_day, span)
        seq = seq_of_day.get(received_day, rng.randrange(0, 4)) + rng.randrange(1, 4)
        seq_of_day[received_day] = seq
        status = _STATUS_OF[scenario]
        received_at = at(received_day)
        finished_at = returned_at = new_due_at = None
        apology = ""
        if scenario in ("returned", "ready", "ready_early", "not_accepted", "withdrawn", "stopped"):
            latest = min(due_day, today)
            choices = [received_day + timedelta(days=i) for i in range((latest - received_day).days + 1)]
            choices = [d for d in choices if calendar.is_working_day(d)] or [received_day]
            finish_day = rng.choice(choices)
            if scenario == "ready" and rng.random() < 0.5:
                finish_day = choices[-1]
            finished_at = max(at(finish_day), received_at + timedelta(minutes=30))
        elif scenario in ("returned_late", "ready_late"):
            late_day = add_business_days(calendar, due_day, rng.randrange(1, 4))
            finished_at = max(at(min(late_day, today)), received_at + timedelta(minutes=30))
        if scenario in ("returned", "returned_late") and finished_at is not None:
            back = add_business_days(calendar, calendar.business_date(finished_at), rng.randrange(0, 3))
            returned_at = max(at(min(back, today)), finished_at)
        if scenario == "overdue_apology":
            new_due = add_business_days(calendar, today, rng.randrange(2, 7))
            new_due_at = calendar.day_bounds_utc(new_due)[0]
            reason = rng.choice(_APOLOGY_REASONS)
            apology = (f"Trung tâm Phục vụ hành chính công chân thành xin lỗi ông/bà vì hồ sơ chưa được "
                       f"giải quyết đúng hẹn {reason}. Ngày hẹn trả kết quả mới: {new_due:%d/%m/%Y}.")
        if finished_at is not None:
            finished_at = min(finished_at, now)
            received_at = min(received_at, finished_at)
        if returned_at is not None:
            returned_at = min(max(returned_at, finished_at), now)
        middles, givens = rng.choice(_NAMES)
        name = f"{rng.choice(_FAMILY)} {rng.choice(middles)} {rng.choice(givens)}"
        id_number = f"0{rng.choice(('01', '25', '26', '27', '30'))}{rng.choice('0123')}{rng.randrange(50, 100):02d}" \
                    f"{rng.randrange(10**6):06d}"
        rows.append({
            "code": f"{DEMO_AGENCY}-{received_day:%y%m%d}-{seq:04d}",
            "procedure": procedure, "field": field, "applicant": name, "applicant_id": id_number,
            "phone": f"09{rng.randrange(10**8):08d}",
            "received_at": received_at, "due_at": calendar.day_bounds_utc(due_day)[0], "status": status,
            "lookup_secret": "".join(rng.choice(_SECRET_ALPHABET) for _ in range(6)),
            "finished_at": finished_at, "returned_at": returned_at, "new_due_at": new_due_at,
            "apology": apology, "source": "demo", "updated_at": finished_at or received_at,
        })
    return rows


_PAST_SET = frozenset(_PAST)


def seed_demo_dossiers(services: Any) -> int:
    """Put the demo's sample dossiers in an empty dossier table (first demo start only;
    does nothing when any dossier exists). Returns how many were added."""
    ds = _ds(services)
    rows = demo_dossiers(ds.calendar, ds.now())
    try:
        with ds.store.write() as conn:
            if conn.execute(select(t.dossiers.c.code).limit(1)).first() is not None:
                return 0
            conn.execute(t.dossiers.insert(), rows)
            conn.execute(t.dossier_events.insert(), [
                {"code": r["code"], "at": r["updated_at"], "action": "created", "status": r["status"],
                 "staff_id": None, "detail": {"source": "demo"}} for r in rows])
    except IntegrityError:  # another process seeded at the same moment
        return 0
    ready = sum(1 for r in rows if r["status"] == int(DossierStatus.DONE))
    log.info("demo: %d sample dossiers added (%d ready for pickup)", len(rows), ready)
    return len(rows)
