"""The JSON API (`/api/v1`), as written in shared/contract.md and docs/api.md."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import auth_routes, queue_routes, misc_routes, procedure_routes, report_routes, device_routes, kiosk_routes, rating_routes, overview_routes, voice_routes, notice_routes, dossier_routes  # noqa: E402,F401
