"""The refusals of the booking package."""
from __future__ import annotations

from ..errors import MotcuaError


class BookingError(MotcuaError):
    default_status = 409
