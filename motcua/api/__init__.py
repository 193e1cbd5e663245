"""The JSON API (`/api/v1`), as written in shared/contract.md and docs/api.md."""
from . import (  # noqa: F401  (each module adds its routes to the blueprint)
    admin_routes,
    admin_routes_devices,
    admin_routes_import,
    admin_routes_ops,
    alert_routes,
    auth_routes,
    booking_routes,
    device_routes,
    dossier_routes,
    kiosk_routes,
    message_routes,
    misc_routes,
    notice_routes,
    overview_routes,
    procedure_routes,
    queue_routes,
    rating_routes,
    report_routes,
    voice_routes,
)
from .blueprint import bp

__all__ = ["bp"]
