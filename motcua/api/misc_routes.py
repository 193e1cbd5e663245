"""Small read-only endpoints: announcements preview, office information."""
from __future__ import annotations

from flask import jsonify, request

from ..web.authz import services
from ..web.errors import ApiError
from . import bp


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
        raise ApiError(400, "bad_parameter", "Tham số 'number' phải là số thứ tự, ví dụ 1005 hoặc A012.")
    if not counter.isdigit() or len(counter) > 4:
        raise ApiError(400, "bad_parameter", "Tham số 'counter' phải là số quầy, ví dụ 3.")
    from ..speech.announce import announcement_clips, announcement_text

    cfg = services().config.announcements
    try:
        text = announcement_text(number.upper(), int(counter), template=cfg.template,
                                 number_mode=cfg.number_reading, counter_mode=cfg.counter_reading)
        clips = announcement_clips(number.upper(), int(counter), template=cfg.template,
                                   number_mode=cfg.number_reading, counter_mode=cfg.counter_reading)
    except ValueError as exc:
        raise ApiError(400, "bad_parameter", str(exc)) from None
    return jsonify({"text": text, "clips": clips, "number": number.upper(), "counter": int(counter)})
