"""Reading an office file: TOML -> OfficeConfig, with errors a person can act on."""
from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from .schema import OPTIONS_BY_KIND, OfficeConfig

SAMPLES = Path(__file__).parent / "samples"

# Vietnamese wording for pydantic's error types (the rest fall back to pydantic's text).
_MESSAGES = {
    "missing": "thiếu mục bắt buộc",
    "extra_forbidden": "mục không được hỗ trợ (kiểm tra chính tả)",
    "string_type": "phải là chuỗi ký tự (đặt trong dấu ngoặc kép)",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "float_type": "phải là số",
    "float_parsing": "phải là số",
    "bool_type": "phải là true hoặc false",
    "bool_parsing": "phải là true hoặc false",
    "list_type": "phải là một danh sách [ ... ]",
    "dict_type": "phải là một bảng { ... }",
    "date_type": "phải là ngày dạng YYYY-MM-DD",
    "date_from_datetime_parsing": "phải là ngày dạng YYYY-MM-DD",
    "date_parsing": "phải là ngày dạng YYYY-MM-DD",
    "literal_error": "giá trị không hợp lệ",
    "string_too_short": "quá ngắn",
    "string_too_long": "quá dài",
    "too_short": "cần ít nhất một mục",
    "greater_than_equal": "quá nhỏ",
    "greater_than": "quá nhỏ",
    "less_than_equal": "quá lớn",
    "string_pattern_mismatch": "không đúng định dạng",
    "tuple_type": "phải là một cặp [\"HH:MM\", \"HH:MM\"]",
}


class ConfigError(Exception):
    """A configuration file that cannot be used. `problems` are (key, message) pairs."""

    def __init__(self, path: str, problems: list[tuple[str, str]]):
        self.path = path
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"Tệp cấu hình không hợp lệ / invalid configuration file: {self.path}"]
        for key, msg in self.problems:
            lines.append(f"  - {key or '(toàn tệp)'}: {msg}")
        return "\n".join(lines)


def _key(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before") or str(part).startswith("function-"):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _message(err: dict, raw: object = None) -> str:
    typ = err.get("type", "")
    if typ in ("value_error", "assertion_error"):
        msg = str(err.get("msg", ""))
        return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    base = _MESSAGES.get(typ, str(err.get("msg", "giá trị không hợp lệ")))
    if typ == "literal_error":
        expected = (err.get("ctx") or {}).get("expected")
        if expected:
            base += f"; chọn một trong: {expected.replace(' or ', ' hoặc ')}"
    ctx = err.get("ctx") or {}
    for bound, word in (("ge", "ít nhất"), ("gt", "lớn hơn"), ("le", "nhiều nhất"), ("lt", "nhỏ hơn")):
        if typ.startswith(("greater_than", "less_than")) and bound in ctx:
            limit = ctx[bound]
            base += f" ({word} {f'{limit:g}'.replace('.', ',') if isinstance(limit, (int, float)) else limit})"
    if "input" in err and typ not in ("missing",):
        shown = repr(err["input"])
        if len(shown) > 60:
            shown = shown[:57] + "..."
        base += f" (đang là {shown})"
    if typ == "extra_forbidden":
        base += _options_hint(tuple(err.get("loc") or ()), raw)
    return base


def _options_hint(loc: tuple, raw: object) -> str:
    """For an unknown key in a device's `options`: the keys its kind accepts."""
    if len(loc) != 4 or loc[0] != "devices" or loc[2] != "options" or not isinstance(raw, dict):
        return ""
    try:
        kind = raw["devices"][loc[1]]["kind"]
    except (KeyError, IndexError, TypeError):
        return ""
    model = OPTIONS_BY_KIND.get(kind) if isinstance(kind, str) else None
    if model is None:
        return ""
    if not model.model_fields:
        return f"; thiết bị loại '{kind}' không có mục options nào"
    return f"; thiết bị loại '{kind}' nhận: {', '.join(model.model_fields)}"


def load_config_text(text: str, path: str = "<text>") -> OfficeConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [("", f"lỗi cú pháp TOML: {exc}")]) from None
    return load_config_data(raw, path)


def load_config_data(raw: dict, path: str = "<data>") -> OfficeConfig:
    """The office of already-parsed data (the administrator's screens), with the same
    Vietnamese errors as a file (`ConfigError`)."""
    try:
        return OfficeConfig.model_validate(raw)
    except ValidationError as exc:
        problems = [(_key(tuple(e["loc"])), _message(e, raw)) for e in exc.errors()]
        raise ConfigError(path, problems) from None


def load_config(path: str | Path) -> OfficeConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), [("", "không tìm thấy tệp")]) from None
    except UnicodeDecodeError:
        raise ConfigError(str(p), [("", "tệp phải được lưu với mã UTF-8")]) from None
    except OSError as exc:
        raise ConfigError(str(p), [("", f"không đọc được tệp: {exc.strerror}")]) from None
    return load_config_text(text, str(p))


def sample_path(name: str) -> Path:
    """Path of a shipped sample: 'commune' or 'province'."""
    return SAMPLES / f"{name}.toml"
