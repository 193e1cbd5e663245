"""The administrative procedure (thủ tục hành chính) record.

A ``Procedure`` is what a citizen asks for at the counter: its name, its field (lĩnh
vực), the documents to bring (thành phần hồ sơ), the statutory time limit, the fees,
where to submit, how much of it can be done online, the legal basis, the steps and the
result. Records are built by :mod:`motcua.catalogue.loader` and treated as read-only
once a :class:`~motcua.catalogue.search.Catalogue` holds them (the search index is
built from them at load time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "Document",
    "Procedure",
    "LEVELS",
    "ONLINE_MODES",
]

#: Levels of government that run a procedure since 01/07/2025 (two-tier local government).
LEVELS: Final[tuple[str, ...]] = ("xã", "tỉnh")

#: How much of a procedure can be done online: the whole of it, part of it, or none.
ONLINE_MODES: Final[tuple[str, ...]] = ("toàn trình", "một phần", "không")


@dataclass(frozen=True, slots=True)
class Document:
    """One item of thành phần hồ sơ: a paper the applicant brings.

    ``original`` and ``copy`` count bản chính and bản sao; both may be 0 for a paper
    that is only shown (xuất trình) and handed back.
    """

    name: str
    original: int = 1
    copy: int = 0
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "original": self.original, "copy": self.copy, "note": self.note}


@dataclass(frozen=True, slots=True)
class Procedure:
    """One administrative procedure of the office's catalogue.

    ``time_limit_days`` is the number of days stated by ``time_limit`` (working days
    unless the text says otherwise); 0 means the same working day; ``None`` when the
    limit is not a plain number of days (the text then says what applies).
    """

    code: str
    name: str
    field_code: str
    field_name: str
    level: str = "xã"
    documents: list[Document] = field(default_factory=list)
    time_limit: str = ""
    time_limit_days: float | None = None
    fees: str = ""
    where: str = ""
    online: str = "không"
    legal_basis: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    result: str = ""
    notes: str = ""
    keywords: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (the schema of ``procedures_sample.json``)."""
        return {
            "code": self.code,
            "name": self.name,
            "field_code": self.field_code,
            "field_name": self.field_name,
            "level": self.level,
            "documents": [d.to_dict() for d in self.documents],
            "time_limit": self.time_limit,
            "time_limit_days": self.time_limit_days,
            "fees": self.fees,
            "where": self.where,
            "online": self.online,
            "legal_basis": list(self.legal_basis),
            "steps": list(self.steps),
            "result": self.result,
            "notes": self.notes,
            "keywords": list(self.keywords),
        }
