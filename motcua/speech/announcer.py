"""The announcement of one call: the sentence and the clips that say it.

:func:`call_announcement` is what ``GET /api/v1/announcements/preview`` answers (text and
clips); :class:`CallAnnouncer` gives the same for every ``ticket:called`` event, so the
displays speak a call without asking the server (it is injected into the queue engine).
"""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from .announce import announcement_clips, announcement_text

log = logging.getLogger(__name__)

CACHE_SIZE = 512  # (number, counter) pairs kept; a day of an office calls a few hundred


def call_announcement(number: str, counter: int, config: Any) -> dict[str, Any]:
    """``{"text", "clips"}`` for ``number`` called at ``counter`` with the office's
    announcement settings (``config``: AnnouncementConfig). Raises ValueError (Vietnamese
    message) when the number or counter cannot be read."""
    kw = dict(template=config.template, number_mode=config.number_reading, counter_mode=config.counter_reading)
    return {"text": announcement_text(number, counter, **kw), "clips": announcement_clips(number, counter, **kw)}


class CallAnnouncer:
    """``announcer(number, counter) -> {"text": str, "clips": list[str]}``, cached.

    It runs on every call, inside the event's delivery: answers come from a small LRU cache,
    and it never raises (a sentence that cannot be made is logged once and comes back empty,
    ``{"text": "", "clips": []}``; the display then falls back to the preview endpoint)."""

    def __init__(self, config: Any, *, cache_size: int = CACHE_SIZE):
        self.config = config
        self._cached = lru_cache(maxsize=cache_size)(self._build)

    def reconfigure(self, new: Any) -> None:
        """A changed office (``new``: OfficeConfig): its announcement settings; sentences made
        with the old ones are forgotten."""
        self.config = new.announcements
        self._cached.cache_clear()

    def _build(self, number: str, counter: int) -> tuple[str, tuple[str, ...]]:
        try:
            a = call_announcement(number, counter, self.config)
        except Exception:  # noqa: BLE001 - a call is never refused for its sentence
            log.exception("announcement for %r at counter %r failed", number, counter)
            return "", ()
        return a["text"], tuple(a["clips"])

    def __call__(self, number: str, counter: int) -> dict[str, Any]:
        try:
            key = (str(number).strip().upper(), int(counter))
        except (TypeError, ValueError):
            log.warning("announcement for %r at counter %r: not a counter number", number, counter)
            return {"text": "", "clips": []}
        text, clips = self._cached(*key)
        return {"text": text, "clips": list(clips)}  # a fresh list: callers may keep or change it

    def cache_info(self) -> Any:
        return self._cached.cache_info()
