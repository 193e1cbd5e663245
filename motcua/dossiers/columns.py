"""Import columns: canonical names, what each means, and finding them in a header row.

Headers are matched folded ("Mã hồ sơ", "MA_HO_SO" and "ma ho so" all find
``ma_ho_so``). A column mapping ``{canonical_name: header_in_file}`` (from config)
lets other layouts work; a mapped column is looked up under its mapped header only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .text import fold_key, shown

__all__ = [
    "COLUMNS",
    "COLUMN_NAMES",
    "ColumnSpec",
    "HeaderMatch",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "column_letter",
    "match_header",
    "missing_message",
    "validate_mapping",
]


@dataclass(frozen=True)
class ColumnSpec:
    name: str  # canonical header
    label_vi: str
    required: bool
    aliases: tuple[str, ...] = ()  # other headers accepted, in folded form


COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("ma_ho_so", "mã hồ sơ", True, ("so_ho_so", "ma_hs", "mhs")),
    ColumnSpec("thu_tuc", "thủ tục", True, ("ten_thu_tuc", "thu_tuc_hanh_chinh")),
    ColumnSpec("linh_vuc", "lĩnh vực", True, ("ten_linh_vuc",)),
    ColumnSpec("nguoi_nop", "người nộp", True, ("ten_nguoi_nop", "chu_ho_so", "ho_ten", "ho_va_ten")),
    ColumnSpec("ngay_nhan", "ngày nhận", True, ("ngay_tiep_nhan",)),
    ColumnSpec("ngay_hen_tra", "ngày hẹn trả", True, ("ngay_hen", "ngay_hen_tra_ket_qua")),
    ColumnSpec("trang_thai", "trạng thái", True, ("ma_trang_thai",)),
    ColumnSpec("ma_tra_cuu", "mã tra cứu", False, ()),
    ColumnSpec("so_giay_to", "số giấy tờ tùy thân", False,
               ("cccd", "so_cccd", "cmnd", "so_cmnd", "so_dinh_danh", "so_giay_to_tuy_than")),
    ColumnSpec("dien_thoai", "điện thoại", False, ("so_dien_thoai", "sdt")),
    ColumnSpec("ngay_hoan_thanh", "ngày hoàn thành", False, ("ngay_xu_ly_xong", "ngay_ket_thuc")),
    ColumnSpec("ngay_tra", "ngày trả kết quả", False, ("ngay_tra_ket_qua",)),
    ColumnSpec("ngay_hen_moi", "ngày hẹn mới", False, ("ngay_hen_lai", "ngay_hen_tra_moi")),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)
OPTIONAL_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if not c.required)
_BY_NAME = {c.name: c for c in COLUMNS}


def column_letter(index: int) -> str:
    """Spreadsheet letter of a 0-based column index: 0 -> "A", 27 -> "AB"."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def validate_mapping(mapping: Mapping[str, str] | None) -> list[str]:
    """Problems with a column mapping from config, as Vietnamese messages ([] if fine)."""
    problems: list[str] = []
    if not mapping:
        return problems
    if not isinstance(mapping, Mapping):
        return ["Ánh xạ cột phải có dạng {tên cột chuẩn: tên cột trong tệp}."]
    for name, header in mapping.items():
        if name not in _BY_NAME:
            problems.append(
                f"Ánh xạ cột: {shown(name)} không phải tên cột chuẩn "
                f"(các tên hợp lệ: {', '.join(COLUMN_NAMES)})."
            )
        elif not isinstance(header, str) or not fold_key(header):
            problems.append(f"Ánh xạ cột: tên cột trong tệp cho {name} đang để trống.")
    return problems


@dataclass(frozen=True)
class HeaderMatch:
    """Where each canonical column sits in a header row."""

    positions: dict[str, int]  # canonical name -> 0-based index
    headers: dict[str, str]  # canonical name -> header text as written in the file
    missing: list[str]  # canonical names of required columns not found
    duplicates: list[str]  # messages about columns found more than once

    @property
    def found(self) -> int:
        return len(self.positions)


def _wanted(spec: ColumnSpec, mapping: Mapping[str, str] | None) -> set[str]:
    if mapping and spec.name in mapping and isinstance(mapping[spec.name], str):
        return {fold_key(mapping[spec.name])}
    return {spec.name, *spec.aliases}


def match_header(cells: Sequence[object], mapping: Mapping[str, str] | None = None) -> HeaderMatch:
    """Find the canonical columns in one header row."""
    keys = [fold_key(str(cell)) if cell is not None else "" for cell in cells]
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    missing: list[str] = []
    duplicates: list[str] = []
    for spec in COLUMNS:
        wanted = _wanted(spec, mapping)
        hits = [i for i, key in enumerate(keys) if key and key in wanted]
        if not hits:
            if spec.required:
                missing.append(spec.name)
            continue
        if len(hits) > 1:
            where = ", ".join(column_letter(i) for i in hits)
            duplicates.append(f"Cột {spec.name} ({spec.label_vi}) xuất hiện nhiều lần (các cột {where}).")
        positions[spec.name] = hits[0]
        headers[spec.name] = str(cells[hits[0]]).strip()
    return HeaderMatch(positions, headers, missing, duplicates)


def missing_message(name: str, mapping: Mapping[str, str] | None) -> str:
    spec = _BY_NAME[name]
    if mapping and name in mapping:
        return (
            f"Thiếu cột {shown(mapping[name])} (được ánh xạ cho cột {name} – {spec.label_vi}) "
            "trong dòng tiêu đề."
        )
    return f"Thiếu cột bắt buộc {name} ({spec.label_vi}) trong dòng tiêu đề."
