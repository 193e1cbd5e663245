"""The dossier domain's refusal."""
from __future__ import annotations

from ..errors import MotcuaError

__all__ = ["DossierError"]


class DossierError(MotcuaError):
    """A dossier refusal: `DossierError(code, message, status, **extra)` with a Vietnamese
    message (unknown dossier 404, wrong second factor 403, not ready 409, ...)."""
