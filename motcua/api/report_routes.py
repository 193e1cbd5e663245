"""Reports for the office lead: GET /api/v1/reports/summary and /reports/summary.xlsx."""
from __future__ import annotations

from flask import Response, jsonify, request

from ..reports import XLSX_MIMETYPE, Period, build_summary, parse_period, summary_workbook
from ..web.authz import require, services
from .blueprint import bp


def _period() -> Period:
    """The period of ``?from=&to=``; a bad one raises `PeriodError`, a `MotcuaError` the web
    layer's one handler answers (4xx, Vietnamese message)."""
    engine = services().engine
    today = engine.calendar.business_date(engine.clock())
    return parse_period(request.args.get("from"), request.args.get("to"), today)


def _summary(period: Period) -> dict:
    svc = services()
    with svc.store.read() as conn:
        body = build_summary(conn, period, tz=svc.engine.calendar.tz, now=svc.engine.clock())
    office = svc.config.office
    body["office"] = {"name": office.name, "short_name": office.short_name}
    return body


@bp.get("/reports/summary")
@require("staff", "admin")
def report_summary():
    return jsonify(_summary(_period()))


@bp.get("/reports/summary.xlsx")
@require("staff", "admin")
def report_summary_xlsx():
    period = _period()
    body = _summary(period)
    data = summary_workbook(body, office_name=services().config.office.name)
    resp = Response(data, mimetype=XLSX_MIMETYPE)
    resp.headers["Content-Disposition"] = f'attachment; filename="{period.filename()}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp
