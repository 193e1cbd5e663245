"""What the dossier store shows: the public, verified and staff views of a dossier, the
display panels' items, the staff list with its accent-free search, and the panels' lists
(ready for pickup, apologies). A mixin of `DossierStore` (motcua/dossiers/store.py)."""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import Row

from ..store import tables as t
from .masking import mask_id, mask_name, mask_phone
from .status import FINISHED_STATUSES, DossierStatus, next_step, status_info
from .text import fold
from .timeliness import Timeliness, classify

__all__ = ["LIVE", "LIVE_NOT_FOUND", "LIVE_UNAVAILABLE", "MAX_PER_PAGE", "PANEL_LIMIT", "DossierViews",
           "default_apology", "iso_day"]

PANEL_LIMIT = 50
MAX_PER_PAGE = 200

#: What the live source said about a dossier when it was looked up, for `public_view`.
LIVE = "live"
LIVE_UNAVAILABLE = "unavailable"
LIVE_NOT_FOUND = "not_found"


class DossierViews:
    """Views and lists over the store's table (needs `store`, `office_name`, `today()`,
    `day_start()`, `local_day()` from `DossierStore`)."""

    store: Any
    office_name: str

    if TYPE_CHECKING:
        def today(self) -> date: ...
        def day_start(self, day: date) -> datetime: ...
        def local_day(self, at: datetime | None) -> date | None: ...

    # Views --------------------------------------------------------------------------------
    def public_view(self, row: Row, live: str | None = None) -> dict[str, Any]:
        """What anyone may see: the applicant's name masked ("Nguyễn V. A."). *live* is what
        the live source said when the row was looked up (`LIVE`, `LIVE_UNAVAILABLE`,
        `LIVE_NOT_FOUND`, None without one): the view's ``source`` keys tell it."""
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
            **_source_keys(live),
        }

    def verified_view(self, row: Row, live: str | None = None) -> dict[str, Any]:
        """The public view with the applicant's full name (after a right second factor)."""
        view = self.public_view(row, live)
        view.update(applicant=row.applicant, applicant_masked=False, verified=True,
                    phone=mask_phone(row.phone) or None)
        return view

    def staff_view(self, row: Row) -> dict[str, Any]:
        """Everything staff need, including the lookup secret printed on the receipt."""
        view = self.public_view(row)
        view.update(
            applicant=row.applicant, applicant_masked=False, applicant_short=mask_name(row.applicant),
            phone=row.phone or None, id_number=mask_id(row.applicant_id, show_last4=True) or None,
            lookup_secret=row.lookup_secret or None, returned_at=iso_day(self.local_day(row.returned_at)),
            source=row.source, updated_at=row.updated_at.isoformat(timespec="seconds"),
        )
        return view

    def panel_item(self, row: Row) -> dict[str, Any]:
        view = self.public_view(row)
        keys = ("code", "procedure", "field", "applicant", "status", "status_label", "due_at", "due_at_text",
                "finished_at", "ready", "late", "days_late", "apology", "new_due_at", "new_due_at_text")
        return {k: view[k] for k in keys}

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


def _source_keys(live: str | None) -> dict[str, Any]:
    if live == LIVE:
        return {"source": "live"}
    if live == LIVE_UNAVAILABLE:
        return {"source": "local", "live_unavailable": True}
    return {"source": "local"}


def iso_day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def default_apology(office: str, new_due: date) -> str:
    who = office or "Cơ quan"
    return (f"{who} chân thành xin lỗi ông/bà vì hồ sơ chưa được giải quyết đúng hẹn. "
            f"Ngày hẹn trả kết quả mới: {new_due:%d/%m/%Y}.")

