"""Importing dossier lists into the store: an uploaded file (CSV or XLSX, checked by
`motcua.dossiers.parse_import`) or checked rows, all or none, with a dossier_events row
per change. A mixin of `DossierStore` (motcua/dossiers/store.py)."""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field as dc_field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Row

from motcua_runtime import run_blocking

from ..store import tables as t
from .errors import DossierError
from .importer import DossierRow, parse_import
from .status import FINISHED_STATUSES, DossierStatus
from .text import shown
from .views import iso_day

log = logging.getLogger(__name__)

__all__ = ["ImportOutcome", "DossierImports", "MAX_APOLOGY", "MAX_APPLICANT", "MAX_FIELD", "MAX_PROCEDURE",
           "UPDATABLE", "table_limit_errors"]

#: Longest values the table takes (tables.py); the importer allows longer procedure names.
MAX_PROCEDURE = t.dossiers.c.procedure.type.length or 300
MAX_FIELD = t.dossiers.c.field.type.length or 120
MAX_APPLICANT = t.dossiers.c.applicant.type.length or 200
MAX_APOLOGY = t.dossiers.c.apology.type.length or 500
#: Codes per IN (...) query.
IN_CHUNK = 500

#: The columns an import (or the live source) may change.
UPDATABLE = ("procedure", "field", "applicant", "applicant_id", "phone", "received_at", "due_at", "status",
             "lookup_secret", "finished_at", "returned_at", "new_due_at", "updated_at")


@dataclass
class ImportOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    codes: list[str] = dc_field(default_factory=list)  # created or updated

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


class DossierImports:
    """Imports over the store's table (needs `store`, `column_mapping`, `settings_extra`,
    `now()`, `day_start()`, `local_day()` and `_announce_codes()` from `DossierStore`)."""

    store: Any
    column_mapping: Mapping[str, str] | None
    settings_extra: Mapping[str, Any] | None

    if TYPE_CHECKING:
        def now(self) -> datetime: ...
        def day_start(self, day: date) -> datetime: ...
        def local_day(self, at: datetime | None) -> date | None: ...
        def _announce_codes(self, codes: Sequence[str]) -> None: ...

    def import_mapping(self) -> dict[str, str] | None:
        """The column mapping of imports: ``[dossiers] column_mapping`` of the office file,
        else ``settings.extra["dossier_column_mapping"]`` (read at each import)."""
        mapping: Any = self.column_mapping or None
        if mapping is None and isinstance(self.settings_extra, Mapping):
            mapping = self.settings_extra.get("dossier_column_mapping")
        return dict(mapping) if isinstance(mapping, Mapping) and mapping else None

    def import_file(self, data: bytes, hint: str, *, staff_id: int | None = None,
                    mapping: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Check and import an uploaded list (CSV or XLSX). All rows or none:
        ``{"imported", "created", "updated", "unchanged", "errors", "warnings", ...}``."""
        # Parsing and checking a large workbook takes seconds of CPU: a native thread.
        result = run_blocking(parse_import, data, hint, mapping=dict(mapping) if mapping else self.import_mapping())
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
            raise DossierError("invalid", problems[0]["message"], 422, errors=problems)
        now = self.now()
        outcome = ImportOutcome()
        with self.store.write() as conn:
            existing: dict[str, Row] = {}
            codes = [r.code for r in rows]
            for i in range(0, len(codes), IN_CHUNK):
                chunk = codes[i:i + IN_CHUNK]
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
                full = {c: getattr(old, c) for c in UPDATABLE}
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
                # SET comes from the parameters' keys (every column in UPDATABLE).
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
        for name in UPDATABLE:
            if name == "updated_at":
                continue
            before, after = getattr(old, name), values.get(name, getattr(old, name))
            if before == after:
                continue
            if isinstance(before, datetime) or isinstance(after, datetime):
                changes[name] = [iso_day(self.local_day(before)), iso_day(self.local_day(after))]
            elif name in ("applicant_id", "lookup_secret", "phone"):
                changes[name] = ["(ẩn)", "(ẩn)"]  # personal data and secrets stay out of the log
            else:
                changes[name] = [before, after]
        return changes


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
