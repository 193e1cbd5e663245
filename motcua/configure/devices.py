"""Adding, changing and removing a device from the administrator's screen.

What the office file's schema cannot say on its own is checked here, before the change goes
through `LiveConfig.change` like any other (schema with the `motcua check-config` errors, kept
in `DATA/office.toml`, audited, `config:changed`, the device layer starts or stops it):
the connection address must be one the device's kind understands (a keypad cannot open
`usb://...`), and a screen's token is made when none is given. The problems come back with
the device's own keys (`url`, `kind`...) rather than the office file's `devices[7].url`.
Pure string checks: the drivers themselves are never imported here."""
from __future__ import annotations

import re
import secrets
from typing import Any

from config.schema import TOKEN_DEVICE_KINDS

from .live import ConfigRefused

# The kinds an administrator chooses from, in the order of the list on the screen.
KIND_LABELS = {
    "printer": "Máy in phiếu", "camera": "Camera quét mã", "scanner": "Máy quét mã vạch",
    "keypad": "Bàn phím gọi số", "led": "Bảng LED", "rating_box": "Hộp đánh giá", "modem": "Modem SMS",
    "kiosk": "Máy lấy số (kiosk)", "display": "Màn hình phòng chờ", "rating": "Máy tính bảng đánh giá",
    "agent": "Máy tính có thiết bị (agent)",
}
KEY_LABELS = {"name": "Tên thiết bị", "kind": "Loại thiết bị", "url": "Địa chỉ kết nối", "token": "Mã thiết bị",
              "counter": "Quầy", "counters": "Địa chỉ trên đường truyền", "agent": "Máy tính có thiết bị",
              "options": "Cài đặt"}
EDITABLE = ("url", "token", "counter", "counters", "agent", "options")
SERIAL_KINDS = ("keypad", "led", "rating_box", "scanner", "modem")
_HOST_PORT = re.compile(r"^[A-Za-z0-9.\-]+:\d{1,5}$")
_USB_ID = re.compile(r"^(0x)?[0-9A-Fa-f]{1,4}:(0x)?[0-9A-Fa-f]{1,4}$")
_SERIAL_PORT = re.compile(r"^(/dev/[^\s?]+|COM\d{1,3})(\?[A-Za-z0-9=&.]*)?$")

EXAMPLES = {
    "printer": "usb://04b8:0202, serial:///dev/ttyUSB0, tcp://192.168.1.50:9100; máy in mô phỏng: virtual://",
    "serial": "/dev/ttyUSB0, serial:///dev/ttyUSB0, tcp://192.168.1.60:4001; thiết bị mô phỏng: sim://",
    "camera": "/dev/video0, rtsp://192.168.1.70/stream, folder:///thu-muc-anh",
}

# The connection field's hint on the screen, per kind.
HINTS = {
    "printer": "Ví dụ: usb://04b8:0202 (cổng USB), serial:///dev/ttyUSB0 (cổng COM), tcp://192.168.1.50:9100 "
               "(máy in mạng); máy in mô phỏng: virtual://",
    "camera": "Ví dụ: /dev/video0 (camera USB), rtsp://192.168.1.70/stream (camera mạng), folder:///thu-muc-anh",
    **{k: "Ví dụ: serial:///dev/ttyUSB0 (cổng COM), tcp://192.168.1.60:4001 (bộ chuyển cổng COM qua mạng); "
          "thiết bị mô phỏng: sim://" for k in SERIAL_KINDS},
    **{k: "Không cần địa chỉ: màn hình mở trang của nó bằng mã thiết bị (tự tạo khi thêm)."
       for k in TOKEN_DEVICE_KINDS},
    "agent": "Không cần địa chỉ: máy tính này tự kết nối tới máy chủ bằng mã thiết bị (tự tạo khi thêm).",
}


def kinds() -> list[dict[str, str]]:
    """The kinds to choose from, with their Vietnamese names and address hints (the screen's list)."""
    return [{"kind": k, "label": v, "hint": HINTS.get(k, ""), "needs_url": k not in TOKEN_DEVICE_KINDS}
            for k, v in KIND_LABELS.items()]


def _refuse(key: str, message: str) -> ConfigRefused:
    label = KEY_LABELS.get(key, key)
    return ConfigRefused("invalid_device", f"Thiết bị chưa lưu: {label}: {message}.", 422,
                         problems=[{"key": label, "message": message}])


def check_url(kind: str, url: str) -> str:
    """The address the driver of `kind` opens (a serial device's `serial://PORT` and `tcp://`
    become the port and `socket://`), or a 422 naming what such a device takes."""
    url = (url or "").strip()
    if kind in TOKEN_DEVICE_KINDS:
        return url
    if not url:
        raise _refuse("url", "chưa nhập địa chỉ kết nối")
    if len(url) > 300 or any(c.isspace() for c in url):
        raise _refuse("url", "địa chỉ kết nối không được có khoảng trắng và dài quá 300 ký tự")
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower() if sep else ""
    if kind == "printer":
        ok = (url == "virtual" or scheme == "virtual" or (scheme == "usb" and _USB_ID.match(rest.split("?")[0]))
              or (scheme == "serial" and rest.startswith("/")) or (scheme == "tcp" and _HOST_PORT.match(rest))
              or (scheme in ("cups", "file") and rest))
        if ok:
            return url
        hint = " (máy in mô phỏng dùng virtual://)" if scheme == "sim" else ""
        raise _refuse("url", f"máy in không dùng được địa chỉ '{url[:60]}'{hint}; ví dụ: {EXAMPLES['printer']}")
    if kind in SERIAL_KINDS:
        if url == "sim://" or _SERIAL_PORT.match(url):
            return url
        if scheme == "serial" and _SERIAL_PORT.match(rest):
            return rest
        if scheme in ("tcp", "socket") and _HOST_PORT.match(rest):
            return "socket://" + rest
        if scheme in ("rfc2217", "loop") and (scheme == "loop" or _HOST_PORT.match(rest.split("?")[0])):
            return url
        raise _refuse("url", f"{KIND_LABELS[kind].lower()} không dùng được địa chỉ '{url[:60]}'; ví dụ: "
                      f"{EXAMPLES['serial']}")
    if kind == "camera":
        if url.isdigit() or url.startswith("/") or scheme in ("folder", "file", "device", "v4l2", "camera", "rtsp",
                                                               "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt"):
            return url
        raise _refuse("url", f"camera không dùng được địa chỉ '{url[:60]}'; ví dụ: {EXAMPLES['camera']}")
    return url


def check_counters(counters: Any, known: set[int]) -> dict[str, int]:
    """A bus device's `{"address": counter number}` (the office file's schema does not look at
    the counters it names): addresses 1..247, counters that exist."""
    if not isinstance(counters, dict):
        raise _refuse("counters", "cần dạng {\"địa chỉ\": số quầy}, ví dụ {\"1\": 1, \"2\": 2}")
    out: dict[str, int] = {}
    for a, n in counters.items():
        if not str(a).isdigit() or not 1 <= int(a) <= 247:
            raise _refuse("counters", f"địa chỉ '{str(a)[:10]}' phải là số từ 1 đến 247")
        if isinstance(n, bool) or not isinstance(n, int) or n not in known:
            raise _refuse("counters", f"địa chỉ {a} gắn với quầy không có: {str(n)[:10]}")
        out[str(int(a))] = n
    return out


def new_device(body: dict[str, Any], existing: list[Any], known: set[int]) -> dict[str, Any]:
    """The `[[devices]]` entry of an add request: the address checked, a screen's token made."""
    dev = {k: v for k, v in body.items() if v is not None and v != ""}
    kind = str(dev.get("kind", ""))
    if kind not in KIND_LABELS:
        raise _refuse("kind", "hãy chọn một loại trong danh sách (" + ", ".join(KIND_LABELS.values()) + ")")
    name = str(dev.get("name", ""))
    if any(d.name == name for d in existing):
        raise ConfigRefused("device_exists", f"Đã có thiết bị tên '{name[:40]}'. Hãy đặt tên khác.", 409)
    if kind in TOKEN_DEVICE_KINDS:
        dev.setdefault("token", secrets.token_urlsafe(24))
    if "url" in dev or kind not in TOKEN_DEVICE_KINDS:
        dev["url"] = check_url(kind, str(dev.get("url", "")))
    if "counters" in dev:
        dev["counters"] = check_counters(dev["counters"], known)
    return dev


def changed_device(dev: dict[str, Any], body: dict[str, Any], known: set[int]) -> dict[str, Any]:
    """The settings a change request may touch (not the name nor the kind), the address checked."""
    fixed = sorted(k for k in ("name", "kind") if k in body and body[k] != dev.get(k))
    if fixed:
        raise ConfigRefused("invalid", "Không đổi được tên và loại thiết bị; hãy thêm thiết bị mới rồi xoá thiết bị "
                            "cũ.", 422)
    unknown = sorted(set(body) - set(EDITABLE) - {"name", "kind"})
    if unknown:
        raise ConfigRefused("invalid", "Thiết bị không có mục: " + ", ".join(k[:30] for k in unknown[:5]) + ".", 422)
    out = {k: body[k] for k in EDITABLE if k in body}
    if "url" in out:
        out["url"] = check_url(dev["kind"], str(out["url"] or ""))
    if out.get("counters") is not None:
        out["counters"] = check_counters(out["counters"], known)
    return out


def readable(exc: ConfigRefused, index: int) -> ConfigRefused:
    """The office file's problems about device number `index` told with the device's own keys."""
    prefix = f"devices[{index}]."
    problems = exc.extra.get("problems") or []
    mine = [p for p in problems if str(p.get("key", "")).startswith(prefix) or p.get("key") == prefix[:-1]]
    if not mine:
        return exc
    out = []
    for p in mine:
        head, _, tail = str(p["key"])[len(prefix):].partition(".")
        label = KEY_LABELS.get(head, head) + (f" ({tail})" if tail else "") if head else "Thiết bị"
        out.append({"key": label, "message": p["message"]})
    return ConfigRefused("invalid_device", "Thiết bị chưa lưu: " + "; ".join(f"{p['key']}: {p['message']}"
                                                                           for p in out[:5]) + ".", 422, problems=out)


def for_audit(dev: dict[str, Any] | None) -> dict[str, Any] | None:
    """A device as the audit log keeps it: a screen's token is a credential, never written there."""
    if dev is None:
        return None
    return {k: ("(đã đặt)" if k == "token" and v else v) for k, v in dev.items()}
