"""Reports for the office lead: GET /api/v1/reports/summary, its .xlsx and .csv.

Administrators see the whole office (or one counter with ``?counter=N``); staff see only what
happened at their own counter(s) (``?counter=N`` picks one of them; another is a 403), decided
here on the server for every format.
"""
from __future__ import annotations

from flask import Response, current_app, jsonify, request

from ..auth import Principal
from ..reports import XLSX_MIMETYPE, Period, Scope, build_summary, parse_period, summary_workbook
from ..reports.csvfile import CSV_MIMETYPE, summary_csv
from ..reports.days import DayStore
from ..web.authz import current_principal, require, services
from ..web.errors import ApiError
from .blueprint import bp

_CACHE_KEY = "motcua.report_days"  # app.extensions: the facts of past days (reports/days.py)


def _period() -> Period:
    """The period of ``?from=&to=``; a bad one raises `PeriodError`, a `MotcuaError` the web
    layer's one handler answers (4xx, Vietnamese message)."""
    engine = services().engine
    today = engine.calendar.business_date(engine.clock())
    return parse_period(request.args.get("from"), request.args.get("to"), today)


def report_scope(principal: Principal, raw_counter: str | None) -> Scope:
    """What *principal* may see: staff their own counters, administrators everything. A
    ``counter`` narrows it to one counter (staff: one of theirs)."""
    config = services().config
    wanted: int | None = None
    if raw_counter not in (None, ""):
        text = str(raw_counter).strip()
        if not text.isdigit() or len(text) > 4:
            raise ApiError("bad_counter", "Tham số 'counter' phải là số quầy, ví dụ counter=2.", 400)
        wanted = int(text)
        if config.counter(wanted) is None:
            raise ApiError("unknown_counter", f"Không có quầy số {wanted}.", 404)
    if principal.role == "admin":
        counters = None if wanted is None else (wanted,)
    else:
        own = tuple(n for n in principal.counters if config.counter(n) is not None)
        if wanted is not None and wanted not in own:
            raise ApiError("not_your_counter", f"Bạn chỉ xem được báo cáo của quầy mình; quầy {wanted} "
                           "không phải quầy của bạn.", 403)
        counters = own if wanted is None else (wanted,)
    if counters is None:
        return Scope()
    fields = {f for n in counters for f in config.counter(n).fields}
    return Scope(counters=frozenset(counters), fields=frozenset(fields))


def build_report(period: Period, scope: Scope) -> dict:
    svc = services()
    engine = svc.engine
    store = current_app.extensions.get(_CACHE_KEY)
    if store is None:  # kept on disk too, so the first report after a restart is as quick
        store = current_app.extensions.setdefault(_CACHE_KEY, DayStore(svc.settings.data_dir / "reports"))
    now = engine.clock()
    with svc.store.read() as conn:
        body = build_summary(conn, period, tz=engine.calendar.tz, now=now, scope=scope,
                             today=engine.calendar.business_date(now), store=store)
    office = svc.config.office
    body["office"] = {"name": office.name, "short_name": office.short_name}
    return body


def _request_report() -> tuple[Period, dict]:
    period = _period()
    scope = report_scope(current_principal(), request.args.get("counter"))
    return period, build_report(period, scope)


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    resp = Response(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/reports/summary")
@require("staff", "admin")
def report_summary():
    return jsonify(_request_report()[1])


@bp.get("/reports/summary.xlsx")
@require("staff", "admin")
def report_summary_xlsx():
    period, body = _request_report()
    return _download(summary_workbook(body, office_name=services().config.office.name), XLSX_MIMETYPE,
                     period.filename())


@bp.get("/reports/summary.csv")
@require("staff", "admin")
def report_summary_csv():
    period, body = _request_report()
    return _download(summary_csv(body, office_name=services().config.office.name), CSV_MIMETYPE,
                     period.filename("csv"))
