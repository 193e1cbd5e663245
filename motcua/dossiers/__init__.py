"""Dossiers (hồ sơ): everything motcua knows about them, in one package.

Pure functions over plain values (no database, no Flask), exported here: codes, statuses,
the on-time rule and the quarterly table, masking of personal data, checking imported
lists, checks of typed values (`checks.py`) and the domain's refusal (`DossierError`).

The database side, imported from its module: `store.py` (`DossierStore`, one per app as
`services.dossiers`, with its mixins `views.py` and `imports.py`), `live.py` (the
provincial live source the store owns) and `demo.py` (the demo office's sample dossiers).
"""

from .checks import clean_codes, parse_day
from .codes import DossierCode, extract_code, is_dossier_code, normalise_code, parse_dossier_code
from .columns import COLUMN_NAMES, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, validate_mapping
from .errors import DossierError
from .importer import DossierRow, ImportResult, parse_import
from .masking import id_last4_matches, mask_id, mask_name, mask_phone
from .status import (
    FINISHED_STATUSES,
    NOT_RECEIVED_STATUSES,
    READY_STATUSES,
    STATUSES,
    DossierStatus,
    StatusInfo,
    is_finished,
    is_ready,
    next_step,
    parse_status,
    status_info,
    status_label,
)
from .text import fold
from .timeliness import REPORT_KEYS, RULE_SOURCE, DossierRecord, Timeliness, classify, summarise

__all__ = [
    "COLUMN_NAMES", "DossierCode", "DossierError", "DossierRecord", "DossierRow", "DossierStatus",
    "FINISHED_STATUSES", "ImportResult", "NOT_RECEIVED_STATUSES", "OPTIONAL_COLUMNS",
    "READY_STATUSES", "REPORT_KEYS", "REQUIRED_COLUMNS", "RULE_SOURCE", "STATUSES",
    "StatusInfo", "Timeliness", "classify", "clean_codes", "extract_code", "fold", "id_last4_matches",
    "is_dossier_code", "is_finished", "is_ready", "mask_id", "mask_name", "mask_phone",
    "next_step", "normalise_code", "parse_day", "parse_dossier_code", "parse_import", "parse_status",
    "status_info", "status_label", "summarise", "validate_mapping",
]
