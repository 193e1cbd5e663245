"""The office lead's reports (no Flask): GET /api/v1/reports/summary and its XLSX.

- `period`: the business days a report covers (`Period`), parsed from ``?from=&to=``
  (`parse_period`, refusals as `PeriodError`);
- `summary`: the figures, recomputed from ``ticket_events``, ``ratings`` and ``dossiers``
  (`build_summary`; definitions in its docstring and in docs/reports.md);
- `tally` (events -> facts, one pass), `days` (past days' facts kept, `DayStore`), `rollup`
  (the dimensions and exact statistics): how the figures are made quickly;
- `workbook`: the same body as an XLSX workbook (`summary_workbook`).
"""
from __future__ import annotations

from .period import MAX_PERIOD_DAYS, MAX_REPORT_DAY, MIN_REPORT_DAY, Period, PeriodError, parse_period
from .summary import RATING_LABELS_VI, RATING_LEVELS, WEEKDAYS_VI, Scope, build_summary, duration_stats, percentile
from .workbook import XLSX_MIMETYPE, summary_workbook

__all__ = [
    "MAX_PERIOD_DAYS",
    "MAX_REPORT_DAY",
    "MIN_REPORT_DAY",
    "RATING_LEVELS",
    "RATING_LABELS_VI",
    "Period",
    "Scope",
    "WEEKDAYS_VI",
    "PeriodError",
    "build_summary",
    "duration_stats",
    "parse_period",
    "percentile",
    "summary_workbook",
    "XLSX_MIMETYPE",
]
