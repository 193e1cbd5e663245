"""Running blocking or CPU-heavy calls without stalling the server.

`motcua serve` runs on gevent (cooperative greenlets in one OS thread; docs/architecture.md).
A C call that blocks or computes for long (a USB bulk write, an OpenCV frame grab, decoding
a barcode image, rasterising a ticket) would stop every screen's socket while it runs, so
such calls go through `run_blocking`, which hands them to gevent's pool of native threads
and lets the other greenlets run meanwhile. Without gevent (tests, tools, threading mode)
it simply calls the function.

Only self-contained work may go there: the function must not touch locks, events or
queues shared with greenlets (gevent's are not safe across native threads).
"""
from __future__ import annotations

import sys
from typing import Any, Callable, TypeVar

T = TypeVar("T")


def gevent_active() -> bool:
    """True when gevent has monkey-patched this process (the `motcua serve` default)."""
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey is not None and monkey.is_module_patched("socket"))


def yield_to_others() -> None:
    """A long background loop calls this between steps. Under gevent it waits until the event
    loop has nothing else to do (gevent.idle: waiting sockets are polled and their greenlets
    run first); `gevent.sleep(0)` would only run the greenlets already ready, so a request
    waiting for its database answer would still wait for the whole loop. With threads it
    just yields the GIL."""
    if gevent_active():
        import gevent

        gevent.idle()
    else:
        import time

        time.sleep(0)


def run_blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    if not gevent_active():
        return fn(*args, **kwargs)
    import gevent

    return gevent.get_hub().threadpool.apply(fn, args, kwargs)
