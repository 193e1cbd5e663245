"""Dossier (hồ sơ) logic for motcua: codes, statuses, the on-time rule and the
quarterly table, masking of personal data, and checking imported lists.

Pure functions over plain values: no database, no Flask.
"""

from .codes import DossierCode, extract_code, is_dossier_code, normalise_code, parse_dossier_code
from .columns import COLUMN_NAMES, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, validate_mapping
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
    "COLUMN_NAMES", "DossierCode", "DossierRecord", "DossierRow", "DossierStatus",
    "FINISHED_STATUSES", "ImportResult", "NOT_RECEIVED_STATUSES", "OPTIONAL_COLUMNS",
    "READY_STATUSES", "REPORT_KEYS", "REQUIRED_COLUMNS", "RULE_SOURCE", "STATUSES",
    "StatusInfo", "Timeliness", "classify", "extract_code", "fold", "id_last4_matches",
    "is_dossier_code", "is_finished", "is_ready", "mask_id", "mask_name", "mask_phone",
    "next_step", "normalise_code", "parse_dossier_code", "parse_import", "parse_status",
    "status_info", "status_label", "summarise", "validate_mapping",
]
