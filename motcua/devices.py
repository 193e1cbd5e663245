"""The device registry: owns every configured device and turns domain events into device jobs
(ticket issued -> print; ticket called -> LED board, keypad display). Screens never touch
devices: they go through this registry, which queues work for each device's own object."""
from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)


class DeviceRegistry:
    def __init__(self, services: Any):
        self.services = services
        self.config = services.config
        self._lock = threading.Lock()
        self._status: dict[str, dict[str, Any]] = {}
        self.printer: Any = None

    def start(self) -> None:
        for dev in self.config.devices:
            if dev.kind in ("kiosk", "display", "rating"):
                continue
            self._set_status(dev.name, dev.kind, "unsupported", "Chưa hỗ trợ loại thiết bị này trong phiên bản này.")

    def stop(self) -> None:
        return None

    def _set_status(self, name: str, kind: str, state: str, detail: str = "") -> None:
        with self._lock:
            self._status[name] = {"name": name, "kind": kind, "state": state, "detail": detail}
        try:
            self.services.hub.emit("device:status", {"name": name, "kind": kind, "state": state, "detail": detail},
                                   "staff")
            self.services.hub.emit("device:status", {"name": name, "kind": kind, "state": state, "detail": detail},
                                   "kiosks")
        except Exception:  # noqa: BLE001
            log.exception("device status emit failed")

    def summary(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._status.values())

    def print_ticket(self, ticket: dict[str, Any], *, reprint: bool = False) -> dict[str, Any] | None:
        return None
