"""Persistence: tables, engine set-up and migrations."""
from .db import Store  # noqa: F401
from . import tables  # noqa: F401
