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

from flask import Blueprint, jsonify, send_file

from ..web.authz import require, services
from ..web.errors import ApiError
from ..web.request import int_arg, json_body
from .blueprint import bp

CLIP_MAX_AGE_S = 300  # browser cache of a clip; the display decodes each clip once anyway

# /voice/... lives outside /api/v1: its own blueprint, registered by create_app.
voice_files = Blueprint("voice", __name__)


def _clip_not_found(name: str) -> ApiError:
    return ApiError("clip_not_found",
                    f"Không có đoạn âm thanh '{name[:80]}' trong thư viện giọng đọc.", 404)


@voice_files.get("/voice/<name>.wav")
def voice_clip(name: str):
    path = services().voice.clip_path(name)
    if path is None:
        raise _clip_not_found(name)
    return send_file(path, mimetype="audio/wav", max_age=CLIP_MAX_AGE_S, conditional=True)


@voice_files.get("/voice/manifest.json")
def voice_manifest():
    lib = services().voice
    manifest = lib.manifest()
    if manifest is None:
        raise ApiError("voice_not_ready", lib.message if lib.state != "ready"
                       else "Thư viện giọng đọc chưa có tệp manifest.json.", 404)
    resp = jsonify(manifest)
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/voice/status")
def voice_status():
    return jsonify(services().voice.status_json())


@bp.post("/voice/regenerate")
@require("admin")
def voice_regenerate():
    data = json_body(optional=True)
    force = data.get("force", False)
    if not isinstance(force, bool):
        raise ApiError("invalid", "Trường 'force' phải là true hoặc false.", 422)
    lib = services().voice
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
    return jsonify(services().engine.views.missed_calls(after))
