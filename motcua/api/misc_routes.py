"""Small read-only endpoints: announcements preview, office information."""
from __future__ import annotations

from flask import jsonify, request

from ..speech.announcer import call_announcement
from ..web.authz import services
from ..web.errors import ApiError
from .blueprint import bp


@bp.get("/office")
def office():
    svc = services()
    o = svc.config.office
    return jsonify({"name": o.name, "short_name": o.short_name, "address": o.address, "phone": o.phone,
                    "timezone": o.timezone, "open": svc.engine.open_state_json(),
                    "priority_enabled": svc.config.queue.priority_enabled,
                    "priority_classes": list(svc.config.queue.priority_classes)})


@bp.get("/announcements/preview")
def announcement_preview():
    number = (request.args.get("number") or "").strip()
    counter = (request.args.get("counter") or "").strip()
    if not number or len(number) > 16 or not number.isalnum():
        raise ApiError("bad_parameter", "Tham số 'number' phải là số thứ tự, ví dụ 1005 hoặc A012.", 400)
    if not counter.isdigit() or len(counter) > 4:
        raise ApiError("bad_parameter", "Tham số 'counter' phải là số quầy, ví dụ 3.", 400)
    try:
        # The same sentence and clips as the `announcement` of a ticket:called event.
        body = call_announcement(number.upper(), int(counter), services().config.announcements)
    except ValueError as exc:
        raise ApiError("bad_parameter", str(exc), 400) from None
    return jsonify({**body, "number": number.upper(), "counter": int(counter)})
