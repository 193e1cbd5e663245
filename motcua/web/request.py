"""Reading request bodies and parameters safely, with Vietnamese messages for every mistake."""
from __future__ import annotations

import ipaddress
import json
import re
import socket
import tempfile
from functools import lru_cache
from typing import Annotated, Any, TypeVar

from flask import request
from pydantic import BaseModel, Field, ValidationError
from werkzeug.routing import IntegerConverter

from .errors import ApiError
from .text import ERROR_TYPE as FREE_TEXT_ERROR

M = TypeVar("M", bound=BaseModel)

#: Largest database id or number a request may name: the id columns are 32-bit integers on
#: PostgreSQL, and no counter, ticket or notice comes near it.
ID_MAX = 2**31 - 1
#: An id in a request body (`ticket: Id`): 1..ID_MAX, else 422 with a Vietnamese message.
Id = Annotated[int, Field(ge=1, le=ID_MAX)]
#: Deepest nesting of arrays and objects a JSON body may have (ours need 2).
JSON_MAX_DEPTH = 32
_JSON_NESTING = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')


class IdConverter(IntegerConverter):
    """`<id:name>` in a route: a database id or a counter number, 0..ID_MAX. Anything longer
    or larger matches no route (404 in Vietnamese), so it never reaches the database."""

    regex = r"\d{1,10}"

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


_TYPE_MESSAGES = {
    "missing": "thiếu trường bắt buộc",
    "string_type": "phải là chuỗi ký tự",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "int_from_float": "phải là số nguyên",
    "bool_type": "phải là true hoặc false",
    "list_type": "phải là danh sách",
    "literal_error": "giá trị không được chấp nhận",
    "string_too_long": "quá dài",
    "string_too_short": "quá ngắn",
    "extra_forbidden": "trường không được hỗ trợ",
    "greater_than_equal": "quá nhỏ",
    "less_than_equal": "quá lớn",
    "too_long": "quá nhiều phần tử",
    "string_pattern_mismatch": "không đúng định dạng",
}


def ticket_url(config: Any, token: str) -> str:
    """The address a ticket's QR code points to (docs/deployment.md, "The tickets' address"):
    the office's `base_url`; else this request's host if the office lists it in
    `allowed_hosts` (another host: the first one listed); else, with neither setting, this
    request's host only if it is a LAN or loopback address, `localhost` or this machine's own
    name, otherwise the address the connection really came in on. A `Host` header is the
    caller's own word: a spoofed one never reaches the paper."""
    return f"{public_base(config)}/t/{token}"


def public_base(config: Any) -> str:
    office = config.office
    if office.base_url:
        return office.base_url.rstrip("/")
    scheme = request.scheme
    host = (request.host or "").strip().lower()
    name = split_host(host)[0]
    allowed = list(getattr(office, "allowed_hosts", None) or ())
    if allowed:
        if name and (host in allowed or name in allowed):
            return f"{scheme}://{host}"
        return f"{scheme}://{allowed[0]}"
    if name and _trusted_without_settings(name):
        return f"{scheme}://{host}"
    return f"{scheme}://{_arrival_address(scheme)}"


def split_host(host: str) -> tuple[str, str]:
    """("name", "port") of a Host value; ("", "") when it is not a host name, an IPv4
    address or a bracketed IPv6 address, with an optional port."""
    if host.startswith("["):
        end = host.find("]")
        name, rest = host[:end + 1], host[end + 1:]
    else:
        name, _, port = host.partition(":")
        rest = ":" + port if port else ""
    if rest and not re.fullmatch(r":\d{1,5}", rest):
        return "", ""
    if name.startswith("["):
        try:
            ipaddress.IPv6Address(name[1:-1])
        except ValueError:
            return "", ""
    elif not re.fullmatch(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?", name):
        return "", ""
    return name, rest[1:]


def _trusted_without_settings(name: str) -> bool:
    if name == "localhost" or name in _own_names():
        return True
    try:
        ip = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return ip.is_private or ip.is_loopback or ip.is_link_local


@lru_cache(maxsize=1)
def _own_names() -> frozenset[str]:
    """This machine's own names (no DNS query): its host name, short name and mDNS name."""
    full = socket.gethostname().lower().rstrip(".")
    short = full.split(".")[0]
    return frozenset(n for n in (full, short, short + ".local") if n)


def _arrival_address(scheme: str) -> str:
    """host[:port] of the socket the request came in on (recorded by motcua/serving.py),
    else the server's own name from the WSGI environment."""
    env = request.environ
    addr = env.get("motcua.server_addr")
    if addr:
        host, port = str(addr[0]), int(addr[1])
        if ":" in host:
            host = f"[{host}]"
    else:
        host, port = env.get("SERVER_NAME") or socket.gethostname(), int(env.get("SERVER_PORT") or 0)
    default = 443 if scheme == "https" else 80
    return host if port in (0, default) else f"{host}:{port}"


def json_body(optional: bool = False) -> dict[str, Any]:
    """The request's JSON object. Empty body -> {} when optional. Nesting deeper than
    JSON_MAX_DEPTH is refused (400) before the parser recurses into it."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if optional:
            return {}
        raise ApiError("empty_body", "Thiếu dữ liệu JSON trong yêu cầu.", 400)
    ctype = (request.mimetype or "").lower()
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise ApiError(status=415)
    try:
        data = loads_bounded(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError("bad_encoding", "Dữ liệu phải được mã hóa UTF-8.", 400) from None
    except json.JSONDecodeError as exc:
        raise ApiError("bad_json", f"JSON không hợp lệ (dòng {exc.lineno}, cột {exc.colno}).", 400) from None
    if not isinstance(data, dict):
        raise ApiError("bad_json", "Dữ liệu JSON phải là một đối tượng {...}.", 400)
    return data


def loads_bounded(text: str, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """json.loads, refusing (ApiError 400 `json_too_deep`) arrays and objects nested deeper
    than *max_depth*: the standard parser recurses once per level."""
    if text.count("[") + text.count("{") > max_depth and _nesting(text) > max_depth:
        raise _too_deep(max_depth)
    try:
        return json.loads(text)
    except RecursionError:  # pragma: no cover - the scan above comes first
        raise _too_deep(max_depth) from None


def _nesting(text: str) -> int:
    depth = deepest = 0
    for m in _JSON_NESTING.finditer(text):
        c = m.group()
        if c == "[" or c == "{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif c == "]" or c == "}":
            depth -= 1
    return deepest


def refuse_deep_json() -> None:
    """A JSON body (by its Content-Type) nested deeper than JSON_MAX_DEPTH is 400 on every
    route, whether or not the route reads its body (called before every request but uploads)."""
    ctype = (request.mimetype or "").lower()
    if ctype != "application/json" and not ctype.endswith("+json"):
        return
    raw = request.get_data(cache=True)
    if raw.count(b"[") + raw.count(b"{") > JSON_MAX_DEPTH and \
            _nesting(raw.decode("utf-8", errors="replace")) > JSON_MAX_DEPTH:
        raise _too_deep(JSON_MAX_DEPTH)


def _too_deep(max_depth: int) -> ApiError:
    return ApiError("json_too_deep", f"Dữ liệu JSON lồng nhau quá sâu (tối đa {max_depth} cấp).", 400)


def parse(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            loc = ".".join(str(p) for p in e["loc"]) or "(dữ liệu)"
            problems.append(f"{loc}: {_problem(e)}")
        raise ApiError("invalid", "Dữ liệu không hợp lệ: " + "; ".join(problems[:5]) + ".", 422,
                       fields=[{"field": ".".join(str(p) for p in e["loc"]), "problem": _problem(e, e["type"])}
                               for e in exc.errors()[:20]]) from None


def _problem(e: Any, default: str = "không hợp lệ") -> str:
    if e["type"] == FREE_TEXT_ERROR:  # motcua/web/text.py: its own Vietnamese message
        return str(e["msg"])
    return _TYPE_MESSAGES.get(e["type"], default)


def int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        v = int(raw)
    except ValueError:
        raise ApiError("bad_parameter", f"Tham số '{name}' phải là số nguyên.", 400) from None
    if not lo <= v <= hi:
        raise ApiError("bad_parameter", f"Tham số '{name}' phải từ {lo} đến {hi}.", 400)
    return v


def bound_body(limit: int) -> None:
    """Make *limit* (bytes) hold for this request's body, whatever its transfer encoding
    (called before every request, motcua/app.py). A body with a Content-Length over the limit
    is refused by Werkzeug before it is read. A chunked body has no length: Werkzeug would
    silently cut it at the limit and the route would process what is left, so it is read
    here first, up to the limit (spooled to a temporary file past 1 MiB): one byte more is
    413 `payload_too_large` and nothing of it reaches a route."""
    request.max_content_length = limit
    env = request.environ
    if env.get("CONTENT_LENGTH") or "chunked" not in env.get("HTTP_TRANSFER_ENCODING", "").lower():
        return
    raw = env["wsgi.input"]
    spool = tempfile.SpooledTemporaryFile(max_size=1 << 20)
    total = 0
    try:
        while True:
            try:
                chunk = raw.read(min(64 * 1024, limit + 1 - total))
            except TimeoutError:
                raise ApiError("body_timeout", "Dữ liệu gửi lên quá chậm nên bị ngắt. Vui lòng thử lại.", 408) from None
            except (OSError, ValueError):
                raise ApiError("body_incomplete", "Dữ liệu gửi lên bị gián đoạn hoặc sai định dạng.", 400) from None
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise ApiError(status=413)
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    env["wsgi.input"] = spool  # freed with the request (a spilled file is already unlinked)
    env["CONTENT_LENGTH"] = str(total)
