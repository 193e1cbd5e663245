"""Domain errors carry a stable code, an HTTP-like status and a Vietnamese message."""
from __future__ import annotations


class QueueError(Exception):
    def __init__(self, code: str, message: str, status: int = 409, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra
