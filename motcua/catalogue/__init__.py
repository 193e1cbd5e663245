"""Administrative procedure catalogue (thủ tục hành chính) and its search.

Public API::

    from motcua.catalogue import Catalogue, Procedure, Document, fold

    cat = Catalogue.load_sample()              # or .from_json / .from_csv / .from_xlsx
    cat.search("dang ky khai sinh")            # [(Procedure, score), ...] best first
    cat.get("HT.001"); cat.by_field("HOTICH"); cat.fields()
"""

from .loader import (
    CSV_COLUMNS,
    REQUIRED_COLUMNS,
    SAMPLE_PATH,
    CatalogueImportError,
    ImportIssue,
    days_from_text,
    parse_csv,
    parse_json,
    parse_xlsx,
    procedure_from_dict,
)
from .model import LEVELS, ONLINE_MODES, Document, Procedure
from .search import Catalogue, FieldInfo
from .textfold import fold, search_tokens

__all__ = [
    "CSV_COLUMNS",
    "LEVELS",
    "ONLINE_MODES",
    "REQUIRED_COLUMNS",
    "SAMPLE_PATH",
    "Catalogue",
    "CatalogueImportError",
    "Document",
    "FieldInfo",
    "ImportIssue",
    "Procedure",
    "days_from_text",
    "fold",
    "parse_csv",
    "parse_json",
    "parse_xlsx",
    "procedure_from_dict",
    "search_tokens",
]
