"""The neutral runtime module: helpers both the core (`motcua`) and the drivers (`drivers`)
may import, because they belong to neither (today: running blocking calls under gevent)."""

from .blocking import gevent_active, run_blocking, yield_to_others

__all__ = ["gevent_active", "run_blocking", "yield_to_others"]
