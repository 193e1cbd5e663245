"""The office's procedure catalogue and its accent-insensitive search.

>>> cat = Catalogue.load_sample()
>>> cat.search("dang ky khai sinh")[0][0].name
'Đăng ký khai sinh'

A :class:`Catalogue` is immutable once built: its search index is made in the
constructor, and any number of threads may read and search it at once. To change the
list, build a new catalogue (from the office's JSON, CSV or XLSX file) and swap it in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .index import SearchIndex
from .loader import (
    SAMPLE_PATH,
    CatalogueImportError,
    ImportIssue,
    Source,
    read_csv,
    read_json,
    read_xlsx,
)
from .model import Procedure
from .textfold import fold

__all__ = ["Catalogue", "FieldInfo"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """A field (lĩnh vực) of the catalogue and how many procedures it holds."""

    code: str
    name: str
    count: int


class Catalogue:
    """A list of procedures with look-ups by code and field, and ranked search."""

    def __init__(self, procedures: Iterable[Procedure] = (), meta: dict[str, Any] | None = None) -> None:
        """Hold ``procedures`` in the given order and index them.

        Raises :class:`CatalogueImportError` when two procedures share a code (codes are
        compared without case).
        """
        items = list(procedures)
        by_code: dict[str, int] = {}
        issues: list[ImportIssue] = []
        for i, proc in enumerate(items):
            key = proc.code.strip().casefold()
            if key in by_code:
                issues.append(ImportIssue(
                    i + 1, f"mã thủ tục '{proc.code}' trùng với thủ tục thứ {by_code[key] + 1}"))
            else:
                by_code[key] = i
        if issues:
            raise CatalogueImportError(issues)
        self._items: tuple[Procedure, ...] = tuple(items)
        self._by_code = by_code
        self._by_field: dict[str, tuple[int, ...]] = {}
        field_names: dict[str, str] = {}
        grouped: dict[str, list[int]] = {}
        for i, proc in enumerate(items):
            key = proc.field_code.strip().upper()
            grouped.setdefault(key, []).append(i)
            field_names.setdefault(key, proc.field_name)
        self._by_field = {k: tuple(v) for k, v in grouped.items()}
        self._fields = tuple(
            FieldInfo(code=k, name=field_names[k], count=len(v)) for k, v in grouped.items()
        )
        # a field may also be named by its folded name ("ho tich" -> HOTICH)
        self._field_alias = {fold(f.name): f.code for f in self._fields}
        self._index = SearchIndex(self._items)
        self.meta: dict[str, Any] = dict(meta or {})
        log.info("catalogue loaded: %d procedures in %d fields", len(items), len(self._fields))

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def load_sample(cls) -> Catalogue:
        """The sample catalogue shipped with motcua (``data/procedures_sample.json``)."""
        return cls.from_json(SAMPLE_PATH)

    @classmethod
    def from_json(cls, source: Source) -> Catalogue:
        """Load a JSON catalogue (path, or the file's bytes); raise
        :class:`CatalogueImportError` listing every problem."""
        procedures, meta = read_json(source)
        return cls(procedures, meta)

    @classmethod
    def from_csv(cls, source: Source) -> Catalogue:
        """Load a CSV catalogue (path, or the file's bytes; columns in
        ``docs/catalogue.md``); raise :class:`CatalogueImportError` listing every bad row."""
        return cls(read_csv(source))

    @classmethod
    def from_xlsx(cls, source: Source) -> Catalogue:
        """Load the first sheet of an XLSX workbook with the CSV columns."""
        return cls(read_xlsx(source))

    # -- look-ups --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Procedure]:
        return iter(self._items)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.strip().casefold() in self._by_code

    @property
    def procedures(self) -> tuple[Procedure, ...]:
        """Every procedure, in catalogue order."""
        return self._items

    def get(self, code: str) -> Procedure | None:
        """The procedure with this code (case-insensitive), or ``None``."""
        if not isinstance(code, str):
            return None
        i = self._by_code.get(code.strip().casefold())
        return None if i is None else self._items[i]

    def _field_key(self, field: str) -> str | None:
        if not isinstance(field, str):
            return None
        key = field.strip().upper()
        if key in self._by_field:
            return key
        return self._field_alias.get(fold(field))

    def by_field(self, code: str) -> list[Procedure]:
        """Procedures of a field, by field code ("HOTICH", any case) or field name
        ("Hộ tịch", accents optional); ``[]`` for an unknown field."""
        key = self._field_key(code)
        if key is None:
            return []
        return [self._items[i] for i in self._by_field[key]]

    def fields(self) -> list[FieldInfo]:
        """The fields, in order of first appearance in the catalogue."""
        return list(self._fields)

    # -- search ----------------------------------------------------------------------------

    def search(self, query: str, field: str | None = None, limit: int = 20) -> list[tuple[Procedure, float]]:
        """Procedures matching ``query``, best first, with their scores.

        Accents and case are optional, đ is d, word order is partly free, one typing
        mistake per word of 4+ letters is forgiven, and the last word may be unfinished
        (unless the query ends with a space). ``int(score)`` is the tier: 3 the words
        form a phrase of the name (or the query is the code), 2 every word matches, 1
        most words match; the fraction ranks within a tier (name matches above document
        matches). ``field`` (code or name) restricts to one field. An empty or junk
        query gives ``[]``; this method never raises on its input.
        """
        try:
            limit = int(limit)
        except (TypeError, ValueError, OverflowError):
            log.debug("catalogue search: bad limit %r", limit)
            return []
        allowed: set[int] | None = None
        if field is not None and field != "":
            key = self._field_key(field)
            if key is None:
                return []
            allowed = set(self._by_field[key])
        hits = self._index.search(query, limit=limit, allowed=allowed)
        return [(self._items[i], score) for i, score in hits]
