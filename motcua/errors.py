"""One error base for every refusal a person should read.

A `MotcuaError` carries a stable machine `code`, a Vietnamese `message`, an HTTP-like
`status` and optional `extra` fields (e.g. `opens_at`). The web layer has one handler for
the whole family (`motcua/web/errors.py`) that answers `{"error": code, "message": ...,
**extra}` with that status. Domain packages subclass it to say where a refusal comes from
(`QueueError`, `DossierError`, ...); the fields are the same, in the same order.
"""
from __future__ import annotations

from typing import Any


class MotcuaError(Exception):
    default_status = 400

    def __init__(self, code: str, message: str, status: int | None = None, **extra: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = int(status if status is not None else self.default_status)
        self.extra = extra

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "message": self.message}
        out.update({k: v for k, v in self.extra.items() if v is not None})
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, {self.status})"
