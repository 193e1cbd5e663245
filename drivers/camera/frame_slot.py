"""Hand frames from the reader thread to the decoder thread, one at a time."""

from __future__ import annotations

import threading

import numpy as np


class FrameSlot:
    """A one-frame mailbox.

    A live frame replaces a frame still waiting (the decoder always gets the newest
    picture and never falls behind the camera); a non-live frame (folder image, video
    frame) waits until the slot is free, so none is skipped. close() wakes both sides.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: tuple[np.ndarray, bool] | None = None
        self._closed = False
        self.dropped = 0  # live frames replaced before they were decoded

    def put(self, frame: np.ndarray, *, live: bool) -> bool:
        """Offer a frame; False when the slot was closed."""
        with self._cond:
            if not live:
                while self._item is not None and not self._closed:
                    self._cond.wait()
            if self._closed:
                return False
            if self._item is not None:
                self.dropped += 1
            self._item = (frame, live)
            self._cond.notify_all()
            return True

    def take(self, timeout: float) -> tuple[np.ndarray, bool] | None:
        """The waiting (frame, live) pair, waiting up to timeout; None if none came."""
        with self._cond:
            if self._item is None and not self._closed:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            if item is not None:
                self._cond.notify_all()
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed
