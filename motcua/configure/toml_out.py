"""The running office written back as an office TOML file (`motcua check-config` reads it).

The standard library reads TOML but does not write it; the office file has a small shape
(scalars, lists, tables, arrays of tables), so this writer covers exactly that: top-level
tables as `[name]`, lists of tables as `[[name]]`, tables inside those as inline tables."""
from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any

from config.schema import OfficeConfig

HEADER = ("# Tệp cấu hình văn phòng, xuất từ màn hình quản trị motcua.\n"
          "# Office configuration file, exported from the motcua administration screens.\n")


def dump_config(cfg: OfficeConfig, *, include_secret: bool = True, data_dir: Any = None) -> str:
    """`cfg` as TOML text; `include_secret=False` leaves out `[auth] secret_key`; device URLs
    inside `data_dir` are written with the `{data}` placeholder (another data folder reads them
    as its own)."""
    data = cfg.model_dump(mode="python", exclude_defaults=True)
    if data_dir is not None:
        folder = str(data_dir)
        for d in data.get("devices", []):
            if isinstance(d.get("url"), str) and folder in d["url"]:
                d["url"] = d["url"].replace(folder, "{data}")
    if not include_secret and isinstance(data.get("auth"), dict):
        data["auth"].pop("secret_key", None)
        if not data["auth"]:
            data.pop("auth")
    return HEADER + dumps(data)


def dumps(data: dict[str, Any]) -> str:
    out: list[str] = []
    for key, value in data.items():  # plain values first: they belong to the root table
        if not _is_table(value) and not _is_table_list(value):
            out.append(f"{_key(key)} = {_value(value)}")
    for key, value in data.items():
        if _is_table(value):
            out.append(f"\n[{_key(key)}]")
            out.extend(f"{_key(k)} = {_value(v)}" for k, v in value.items())
        elif _is_table_list(value):
            for item in value:
                out.append(f"\n[[{_key(key)}]]")
                out.extend(f"{_key(k)} = {_value(v)}" for k, v in item.items())
    return "\n".join(out) + "\n"


def _is_table(v: Any) -> bool:
    return isinstance(v, dict)


def _is_table_list(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and bool(v) and all(isinstance(x, dict) for x in v)


def _key(k: Any) -> str:
    k = str(k)
    if k and all(c.isascii() and (c.isalnum() or c in "_-") for c in k):
        return k
    return json.dumps(k, ensure_ascii=False)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if v == v and v not in (float("inf"), float("-inf")) else "0.0"
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, (date, time)):
        return v.isoformat()
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # JSON's escapes are TOML basic-string escapes
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }" if v else "{}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if v is None:  # TOML has no null: callers drop unset values before (exclude_defaults)
        raise ValueError("TOML has no null value")
    return json.dumps(str(v), ensure_ascii=False)
