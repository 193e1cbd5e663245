"""Every error leaves as a 4xx/5xx with {"error", "message"} in Vietnamese: never a stack trace."""
from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template_string, request
from werkzeug.exceptions import HTTPException

from ..errors import MotcuaError

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("bad_request", "Yêu cầu không hợp lệ."),
    401: ("unauthorized", "Bạn cần đăng nhập (hoặc token không hợp lệ)."),
    403: ("forbidden", "Bạn không có quyền thực hiện thao tác này."),
    404: ("not_found", "Không tìm thấy địa chỉ hoặc dữ liệu yêu cầu."),
    405: ("method_not_allowed", "Phương thức không được hỗ trợ cho địa chỉ này."),
    409: ("conflict", "Thao tác không thực hiện được ở trạng thái hiện tại."),
    413: ("payload_too_large", "Dữ liệu gửi lên quá lớn."),
    415: ("unsupported_media_type", "Kiểu dữ liệu không được hỗ trợ; hãy gửi JSON (Content-Type: application/json)."),
    422: ("invalid", "Dữ liệu không hợp lệ."),
    429: ("too_many_requests", "Quá nhiều yêu cầu. Vui lòng thử lại sau ít phút."),
    500: ("internal_error", "Hệ thống gặp lỗi. Vui lòng thử lại hoặc báo cán bộ quản trị."),
    503: ("unavailable", "Hệ thống tạm thời không phục vụ được. Vui lòng thử lại sau."),
}


DATABASE_UNAVAILABLE = ("Hệ thống tạm thời không kết nối được cơ sở dữ liệu. Vui lòng thử lại sau ít giây; "
                        "các số đã lấy vẫn được giữ nguyên.")


def _database_unreachable(e: BaseException) -> bool:
    """A lost or refused database connection (OperationalError, InterfaceError, or a
    connection SQLAlchemy invalidated): the request may be tried again, so 503, not 500."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    return isinstance(e, (OperationalError, InterfaceError)) or (
        isinstance(e, DBAPIError) and bool(e.connection_invalidated))


class ApiError(MotcuaError):
    """A refusal of the web layer (bad parameter, forbidden, ...). `ApiError(status=403)` alone
    takes the standard code and message of that status."""

    def __init__(self, code: str | None = None, message: str | None = None, status: int = 400, **extra):
        default_code, default_msg = MESSAGES.get(status, ("error", "Lỗi."))
        super().__init__(code or default_code, message or default_msg, status, **extra)


def error_response(status: int, code: str, message: str, **extra) -> Response:
    body = {"error": code, "message": message}
    body.update({k: v for k, v in extra.items() if v is not None})
    if _wants_json():
        resp = jsonify(body)
    else:
        resp = Response(render_template_string(_HTML, status=status, message=message), mimetype="text/html")
    resp.status_code = status
    return resp


def _wants_json() -> bool:
    p = request.path
    if p.startswith("/api/") or p == "/healthz" or p.startswith("/socket.io"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


_HTML = """<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{{ status }}</title>
<style nonce="{{ csp_nonce() }}">body{font-family:sans-serif;background:#f4f6f8;color:#1b2a3a;display:flex;align-items:center;
justify-content:center;height:100vh;margin:0}main{background:#fff;padding:2rem 3rem;border-radius:12px;
box-shadow:0 2px 12px rgba(0,0,0,.1);max-width:40rem}h1{margin:0 0 .5rem;font-size:1.4rem}</style></head>
<body><main><h1>Lỗi {{ status }}</h1><p>{{ message }}</p><p><a href="/">Về trang chủ</a></p></main></body></html>"""


def register(app: Flask) -> None:
    @app.errorhandler(MotcuaError)
    def _refused(e: MotcuaError):  # every domain refusal and ApiError: one family, one answer
        return error_response(e.status, e.code, e.message, **e.extra)

    @app.errorhandler(HTTPException)
    def _http_error(e: HTTPException):
        status = e.code or 500
        code, msg = MESSAGES.get(status, ("error", e.description or "Lỗi."))
        return error_response(status, code, msg)

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        if _database_unreachable(e):  # PostgreSQL restarting, the network to it down: try again
            log.warning("database unavailable on %s %s: %s", request.method, request.path, e.__class__.__name__)
            return error_response(503, "database_unavailable", DATABASE_UNAVAILABLE)
        log.exception("unhandled error on %s %s", request.method, request.path)
        code, msg = MESSAGES[500]
        return error_response(500, code, msg)
