"""Refusals of the queue engine: a stable code, a Vietnamese message, an HTTP-like status."""
from __future__ import annotations

from ..errors import MotcuaError


class QueueError(MotcuaError):
    default_status = 409
