"""Voice clips for the displays (/voice/...), the library's status, and calls a display missed.

* GET ``/voice/<name>.wav``: one clip (the office's recording in ``voice/custom/`` first);
  a name that is not a clip name, or a clip that is not there, is a 404.
* GET ``/voice/manifest.json``: every clip with its text and duration.
* GET ``/api/v1/voice/status`` (anyone): is the library complete, being generated, failed.
* POST ``/api/v1/voice/regenerate`` (admin) ``{"force": false}``: check and regenerate in the
  background (after adding recordings to ``custom/``, or changing the template).
* GET ``/api/v1/announcements/missed?after_seq=N`` (anyone): the calls of the last minutes
  with an office sequence number above N, so a display that was cut off speaks the calls it
  did not hear (it asks once after reconnecting; it never polls).
"""
from __future__ import annotations

from datetime import timedelta

from flask import jsonify, send_file
from sqlalchemy import select

from ..store import tables as t
from ..voice import voice_library
from ..web.authz import require, services
from ..web.errors import ApiError
from ..web.request import int_arg, json_body
from . import bp

MISSED_CALL_MAX_AGE_S = 120  # older calls are not announced any more after a reconnect
MISSED_CALL_LIMIT = 20
CLIP_MAX_AGE_S = 300  # browser cache of a clip; the display decodes each clip once anyway


def _clip_not_found(name: str) -> ApiError:
    return ApiError(404, "clip_not_found",
                    f"Không có đoạn âm thanh '{name[:80]}' trong thư viện giọng đọc.")


def voice_clip(name: str):
    path = voice_library(services()).clip_path(name)
    if path is None:
        raise _clip_not_found(name)
    return send_file(path, mimetype="audio/wav", max_age=CLIP_MAX_AGE_S, conditional=True)


def voice_manifest():
    lib = voice_library(services())
    manifest = lib.manifest()
    if manifest is None:
        raise ApiError(404, "voice_not_ready", lib.message if lib.state != "ready"
                       else "Thư viện giọng đọc chưa có tệp manifest.json.")
    resp = jsonify(manifest)
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.record_once
def _register_voice_files(state) -> None:
    """/voice/... lives outside /api/v1: add those two rules to the app itself."""
    state.app.add_url_rule("/voice/manifest.json", "voice_manifest", voice_manifest, methods=["GET"])
    state.app.add_url_rule("/voice/<name>.wav", "voice_clip", voice_clip, methods=["GET"])


@bp.get("/voice/status")
def voice_status():
    return jsonify(voice_library(services()).status_json())


@bp.post("/voice/regenerate")
@require("admin")
def voice_regenerate():
    data = json_body(optional=True)
    force = data.get("force", False)
    if not isinstance(force, bool):
        raise ApiError(422, "invalid", "Trường 'force' phải là true hoặc false.")
    lib = voice_library(services())
    started = lib.start(force=force)
    body = lib.status_json()
    body["started"] = started
    if not started:
        body["message"] = "Đang tạo thư viện giọng đọc, vui lòng đợi lần chạy hiện tại kết thúc."
    resp = jsonify(body)
    resp.status_code = 202
    return resp


@bp.get("/announcements/missed")
def announcements_missed():
    after = int_arg("after_seq", 0, 0, 2**62)
    svc = services()
    engine = svc.engine
    now = engine.clock()
    day = engine.calendar.business_date(now)
    field_names = {f.code: f.name for f in svc.config.fields}
    counter_names = {c.number: c.label for c in svc.config.counters}
    ev, tk = t.ticket_events.c, t.tickets.c
    with svc.store.read() as conn:
        rows = conn.execute(
            select(ev.seq, ev.ticket_id, ev.counter, ev.at, ev.action, tk.number, tk.field)
            .join(t.tickets, tk.id == ev.ticket_id)
            .where(ev.business_date == day, ev.action.in_(["call", "recall"]), ev.seq > after,
                   ev.at >= now - timedelta(seconds=MISSED_CALL_MAX_AGE_S))
            .order_by(ev.seq, ev.id).limit(MISSED_CALL_LIMIT)
        ).all()
        seq = conn.execute(select(t.office_state.c.seq).where(t.office_state.c.id == 1)).scalar() or 0
    calls = [
        {"seq": r.seq, "ticket_id": r.ticket_id, "number": r.number, "service": r.field,
         "service_name": field_names.get(r.field, r.field), "counter": r.counter,
         "counter_name": counter_names.get(r.counter, f"Quầy {r.counter}"), "recall": r.action == "recall",
         "at": engine.calendar.local(r.at).isoformat(timespec="seconds")}
        for r in rows
    ]
    return jsonify({"calls": calls, "seq": seq})
