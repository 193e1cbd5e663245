"""The shape of an office configuration file (TOML), with defaults and cross-checks."""
from __future__ import annotations

import re
from datetime import date, time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (BaseModel, ConfigDict, Field, SerializeAsAny, ValidationInfo, field_validator,
                      model_validator)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRIORITY_CLASSES = ("elderly", "disabled", "pregnant", "child", "merit")
DEVICE_KINDS = (
    "kiosk", "display", "rating", "printer", "camera", "keypad", "led", "rating_box", "scanner", "agent",
    "modem",
)
# Roles whose devices authenticate with a token from this file.
TOKEN_DEVICE_KINDS = ("kiosk", "display", "rating", "agent")
# Kinds a device agent (docs/agents.md) may drive on its PC.
AGENT_DEVICE_KINDS = ("printer", "camera", "keypad", "led", "rating_box", "scanner")

_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
_HOST_RE = re.compile(r"(?:\[(?P<v6>[0-9a-f:.]+)\]|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)"
                      r"(?::(?P<port>\d{1,5}))?")


def _is_ipv6(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OfficeInfo(_Strict):
    name: str = Field(min_length=1, max_length=200)
    short_name: str = ""
    address: str = ""
    phone: str = ""
    timezone: str = "Asia/Ho_Chi_Minh"
    # A demo or test office takes tickets at any hour, any day.
    always_open: bool = False
    base_url: str = ""  # public address printed in QR codes; empty: taken from the request
    # Without base_url: the host names (or IP addresses, optionally with a port) a ticket's QR
    # may take from the request's Host header; another host gets the first one listed.
    allowed_hosts: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, v: list[str]) -> list[str]:
        out = []
        for raw in v:
            host = raw.strip().lower()
            m = _HOST_RE.fullmatch(host)
            if m is None or (m.group("v6") and not _is_ipv6(m.group("v6"))):
                raise ValueError(f"{raw!r} không phải tên máy hoặc địa chỉ IP (có thể kèm cổng), ví dụ "
                                 "'motcua.ubnd.gov.vn' hoặc '192.168.1.10:5000'; không ghi http:// hay đường dẫn")
            if m.group("port") and not 1 <= int(m.group("port")) <= 65535:
                raise ValueError(f"cổng trong {raw!r} phải từ 1 đến 65535")
            out.append(host)
        return out

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"múi giờ không tồn tại: {v!r} (ví dụ đúng: 'Asia/Ho_Chi_Minh')")
        return v


def _parse_hhmm(v: str) -> time:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", v.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"giờ phải có dạng HH:MM, nhận được {v!r}")
    return time(int(m.group(1)), int(m.group(2)))


class HoursConfig(_Strict):
    """Working hours: days of the week and the sessions (morning, afternoon) of each."""

    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = [
        "mon", "tue", "wed", "thu", "fri",
    ]
    sessions: list[tuple[str, str]] = [("07:30", "11:30"), ("13:30", "17:00")]
    # Per weekday sessions that differ from `sessions`, e.g. sat = [["07:30", "11:30"]].
    overrides: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], list[tuple[str, str]]] = {}
    holidays: list[date] = []
    # Extra working days (a Saturday worked in exchange for a holiday).
    extra_days: list[date] = []
    # Stop issuing this many minutes before a session closes (0: until the close).
    stop_issuing_before_close_min: int = Field(default=0, ge=0, le=240)

    @field_validator("sessions")
    @classmethod
    def _sessions(cls, v: list[tuple[str, str]]) -> list[tuple[str, str]]:
        _check_sessions(v)
        return v

    @field_validator("overrides")
    @classmethod
    def _overrides(cls, v: dict) -> dict:
        for sessions in v.values():
            _check_sessions(sessions)
        return v

    def sessions_for(self, weekday: int) -> list[tuple[time, time]]:
        key = WEEKDAYS[weekday]
        raw = self.overrides.get(key, self.sessions)  # type: ignore[arg-type]
        return [(_parse_hhmm(a), _parse_hhmm(b)) for a, b in raw]


def _check_sessions(v: list[tuple[str, str]]) -> None:
    for start, end in v:
        a, b = _parse_hhmm(start), _parse_hhmm(end)
        if a >= b:
            raise ValueError(f"giờ mở cửa {start} phải trước giờ đóng cửa {end}")


class NumberingConfig(_Strict):
    """How a field numbers its tickets: a block (1001, 1002...) or a letter prefix (A001)."""

    mode: Literal["block", "prefix"] = "block"
    start: int = Field(default=1, ge=0, le=9_999_999)
    prefix: str = ""
    width: int = Field(default=3, ge=1, le=6)

    @model_validator(mode="after")
    def _check(self) -> "NumberingConfig":
        if self.mode == "prefix" and not re.fullmatch(r"[A-Z]{1,3}", self.prefix):
            raise ValueError("kiểu đánh số 'prefix' cần 'prefix' là 1 đến 3 chữ cái in hoa, ví dụ 'A'")
        return self


class FieldConfig(_Strict):
    """A field (lĩnh vực) that takes tickets."""

    code: str
    name: str = Field(min_length=1, max_length=120)
    name_en: str = ""
    numbering: NumberingConfig = NumberingConfig()
    daily_cap: int | None = Field(default=None, ge=1, le=99_999)
    icon: str = ""
    # Field where citizens collect results (Trả kết quả): tickets may be linked to dossiers.
    returns_results: bool = False
    # Hidden fields take no tickets at the kiosk (staff may still transfer to them).
    kiosk: bool = True

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not _CODE_RE.match(v):
            raise ValueError("mã lĩnh vực chỉ gồm chữ in hoa không dấu, số và '_', bắt đầu bằng chữ, ví dụ 'HOTICH'")
        return v


class CounterConfig(_Strict):
    number: int = Field(ge=1, le=999)
    name: str = ""
    fields: list[str] = Field(min_length=1)
    # true: call from the fields in the order listed; false: the oldest ticket of any field.
    strict_field_order: bool = False
    # Where the transfer key of this counter's keypad sends the citizen being served (a
    # keypad has no way to choose): a field code, queued there with the same number.
    # Empty: the key does nothing and the console's "Chuyển" button is the way.
    keypad_transfer: str = ""

    @property
    def label(self) -> str:
        return self.name or f"Quầy {self.number}"


class StaffConfig(_Strict):
    username: str = Field(pattern=r"^[a-z0-9_.-]{2,40}$")
    full_name: str = ""
    role: Literal["staff", "admin"] = "staff"
    counters: list[int] = []
    # Optional: an argon2 hash (from `motcua user add`); without it the account needs a
    # password set with the CLI before it can log in.
    password_hash: str = ""


# Device options: one table per kind, every key typed, a key nobody reads is refused (a typo
# in the office file is an error at `motcua check-config`, not a setting silently ignored).
class DeviceOptions(_Strict):
    """The `options` of a device. Also read like a mapping: `opts.get("key")` is the value, or
    the default when the key is not a setting of this kind or was not set (None)."""

    def get(self, key: str, default: Any = None) -> Any:
        value = getattr(self, key) if key in type(self).model_fields else None
        return default if value is None else value


class PrinterOptions(DeviceOptions):
    profile: Literal["80mm", "58mm"] = "80mm"  # paper width (drivers/printer/profile.py)
    force_raster: bool = False  # print every line as an image, even plain ASCII
    job_timeout: float = Field(default=30.0, gt=0, le=3600)  # s a job waits for a printer not ready


class CameraOptions(DeviceOptions):
    # Codes read (code128, qrcode, ean13, ean8, upca, upce, code39, code93, i25, codabar...).
    symbologies: list[str] = Field(default=["code128", "qrcode"], min_length=1)


class LedOptions(DeviceOptions):
    protocol: Literal["modbus", "ascii"] = "modbus"  # Modbus-RTU digit boards or ASCII text boards


class RatingOptions(DeviceOptions):
    """Rating tablets and rating boxes of a counter (motcua/ratings.py: the first that sets them)."""

    timeout_s: float | None = Field(default=None, ge=5, le=86_400)  # prompt shown for (default 30)
    accept_within_s: float | None = Field(default=None, ge=5, le=86_400)  # rating accepted (default 600)


class KioskOptions(DeviceOptions):
    """The kiosk page's settings (kiosk/page_config.py clamps the numbers into their ranges)."""

    idle_seconds: int | None = None
    browse_idle_seconds: int | None = None
    lang: Literal["vi", "en"] | None = None
    scan_gap_ms: int | None = None
    scan_min_chars: int | None = None


class DisplayOptions(DeviceOptions):
    """What one waiting-room screen shows and says (display/__init__.py)."""

    counters: list[int] | str | None = None  # [5, 6] or "5,6"; none: every counter
    fields: list[str] | str | None = None  # ["DATDAI"] or "DATDAI,HOTICH"; none: every field
    voice: bool | None = None
    chime: bool | None = None


class AgentOptions(DeviceOptions):
    """A device agent (docs/agents.md): numbers kept per field for issuing while the link is
    down (0: no offline issuing), and the port of its local endpoint for the kiosk page."""

    offline_block: int = Field(default=20, ge=0, le=500)
    local_port: int = Field(default=8765, ge=1024, le=65535)


class ModemOptions(DeviceOptions):
    """A USB 3G/4G modem sending SMS (drivers/modem, docs/messages.md)."""

    send_timeout_s: float = Field(default=60.0, ge=1, le=600)  # the network's confirmation of one part
    check_interval_s: float = Field(default=30.0, ge=1, le=3600)  # an idle modem is checked this often


class NoOptions(DeviceOptions):
    """Keypads and scanners have no options (line settings go in the port's URL)."""


OPTIONS_BY_KIND: dict[str, type[DeviceOptions]] = {
    "printer": PrinterOptions, "camera": CameraOptions, "led": LedOptions, "rating": RatingOptions,
    "rating_box": RatingOptions, "kiosk": KioskOptions, "display": DisplayOptions, "keypad": NoOptions,
    "scanner": NoOptions, "agent": AgentOptions,
    "modem": ModemOptions,
}


class DeviceConfig(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_.-]{1,40}$")
    kind: Literal[
        "kiosk", "display", "rating", "printer", "camera", "keypad", "led", "rating_box", "scanner", "agent",
        "modem",
    ]
    # Hardware: a connection URL (serial:///dev/ttyUSB0, tcp://host:9100, virtual, ...).
    url: str = ""
    # Screens and tablets (kiosk, display, rating): the bearer token the device presents.
    token: str = ""
    counter: int | None = None  # the counter a keypad, LED board or rating device belongs to
    counters: dict[str, int] = {}  # bus devices: {"address": counter number}
    agent: str | None = None  # the device agent (kind "agent") whose PC drives this device; none: the server
    # Per kind (OPTIONS_BY_KIND): e.g. a printer's PrinterOptions.
    options: SerializeAsAny[DeviceOptions] = Field(default_factory=dict, validate_default=True)

    @field_validator("options", mode="before")
    @classmethod
    def _options(cls, v: Any, info: ValidationInfo) -> Any:
        model = OPTIONS_BY_KIND.get(info.data.get("kind", ""))
        if model is None:  # the kind itself is wrong: that is the error to report
            return DeviceOptions()
        if isinstance(v, model):
            return v
        if isinstance(v, DeviceOptions):
            v = v.model_dump(exclude_unset=True)
        return model.model_validate(v)

    @model_validator(mode="after")
    def _check(self) -> "DeviceConfig":
        if self.kind in TOKEN_DEVICE_KINDS and len(self.token) < 16:
            raise ValueError(f"thiết bị loại '{self.kind}' cần 'token' dài ít nhất 16 ký tự")
        if self.kind not in TOKEN_DEVICE_KINDS and not self.url:
            raise ValueError(f"thiết bị loại '{self.kind}' cần 'url' (địa chỉ kết nối)")
        return self


class QueueConfig(_Strict):
    # How many recalls before a called ticket may be marked no-show (0: at once).
    no_show_after_recalls: int = Field(default=0, ge=0, le=10)
    # After this many priority tickets in a row at a counter, call one normal ticket.
    priority_quota: int = Field(default=3, ge=1, le=100)
    priority_classes: list[Literal["elderly", "disabled", "pregnant", "child", "merit"]] = list(PRIORITY_CLASSES)
    priority_enabled: bool = True
    # A second call-next within this many seconds returns the ticket just called.
    double_press_window_s: float = Field(default=2.0, ge=0, le=30)
    # Where a transferred ticket joins the new field's queue: by its issue time or at the end.
    transfer_position: Literal["front", "back"] = "front"
    # Anyone (no token) may take a ticket through the public API.
    public_ticket_issue: bool = True
    # Default minutes per citizen when the day has no finished visits yet.
    default_service_min: float = Field(default=5.0, gt=0, le=240)


class BookingConfig(_Strict):
    """Appointments (đặt lịch hẹn) and taking a number from a phone (docs/booking.md)."""

    enabled: bool = False
    slot_minutes: int = Field(default=30, ge=5, le=240)
    # Bookings each slot takes, per field code; a field not listed takes no booking.
    capacity: dict[str, int] = {}
    days_ahead: int = Field(default=14, ge=0, le=90)  # 0: today only
    # A booking checks in at the kiosk from this many minutes before its slot to this many after.
    checkin_before_min: int = Field(default=30, ge=0, le=240)
    checkin_after_min: int = Field(default=30, ge=0, le=240)
    # Up to one booked citizen per N walk-in calls at a counter (0: booked citizens always first).
    walk_ins_per_booked: int = Field(default=2, ge=0, le=50)
    # Hoarding limits per phone number: open bookings in all, and bookings (or remote
    # numbers) on one day.
    per_phone_open: int = Field(default=3, ge=1, le=50)
    per_phone_per_day: int = Field(default=1, ge=1, le=20)
    # Fields whose number a phone may take remotely during opening hours.
    remote_join: list[str] = []

    @field_validator("capacity")
    @classmethod
    def _capacity(cls, v: dict[str, int]) -> dict[str, int]:
        for code, n in v.items():
            if not isinstance(n, int) or not 0 <= n <= 1000:
                raise ValueError(f"số lịch hẹn mỗi khung giờ của {code!r} phải từ 0 đến 1000")
        return v


class AnnouncementConfig(_Strict):
    template: str = "Xin mời công dân có số thứ tự {number} đến quầy số {counter}"
    number_reading: Literal["full", "digits"] = "full"
    counter_reading: Literal["full", "digits"] = "full"


class AuthConfig(_Strict):
    # Secret for signing tokens and sessions. Empty: read MOTCUA_SECRET_KEY, else generated
    # once and kept in the data directory.
    secret_key: str = ""
    token_ttl_hours: float = Field(default=12, gt=0, le=24 * 30)
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_window_s: int = Field(default=300, ge=10, le=86_400)


class DossierSourceConfig(_Strict):
    """A live source of dossier status: the provincial system's HTTP JSON endpoint."""

    # e.g. "https://motcua.example.gov.vn/api/tra-cuu?ma={code}" ({code} is URL-encoded)
    url_template: str = Field(min_length=1, max_length=500)
    timeout_s: float = Field(default=3.0, gt=0, le=30)
    cache_s: float = Field(default=60.0, ge=0, le=86_400)
    # Our field -> where it is in the JSON answer (dot path, e.g. "data.trangThai").
    mapping: dict[str, str] = {}
    headers: dict[str, str] = {}

    @field_validator("url_template")
    @classmethod
    def _tpl(cls, v: str) -> str:
        if "{code}" not in v or not v.startswith(("http://", "https://")):
            raise ValueError("url_template phải là địa chỉ http(s) có chứa {code}")
        return v


class DossiersConfig(_Strict):
    # Canonical column -> the header used in the office's export file (other layouts).
    column_mapping: dict[str, str] = {}
    live_source: DossierSourceConfig | None = None


class PrivacyConfig(_Strict):
    """Personal data (Nghị định 13/2023/NĐ-CP): applicants' names, ID numbers and phone numbers
    of dossiers received more than `retention_days` ago are erased by a daily job (0: kept)."""

    retention_days: int = Field(default=0, ge=0, le=36_500)


class ZnsConfig(_Strict):
    """Zalo ZNS template messages (docs/messages.md): the office's Zalo Official Account."""

    url: str = Field(default="https://business.openapi.zalo.me/message/template", max_length=500)
    # The access token; empty: read MOTCUA_ZNS_ACCESS_TOKEN (keep secrets out of the file).
    access_token: str = Field(default="", max_length=2000)
    # Template id per message: "near" (N people ahead), "called", "ready" (dossier ready).
    templates: dict[Literal["near", "called", "ready"], str] = {}
    timeout_s: float = Field(default=10.0, gt=0, le=60)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("https://", "http://")):
            raise ValueError("zns.url phải là địa chỉ https://")
        return v


class MessagesConfig(_Strict):
    """Messages to citizens who gave a phone number (docs/messages.md)."""

    # Channels that send: "sms" (a device of kind "modem"), "zns" (Zalo, [messages.zns]).
    # None: citizens are not asked for a phone number (the phone page still rings and vibrates).
    channels: list[Literal["sms", "zns"]] = []
    near_turn_ahead: int = Field(default=3, ge=1, le=50)  # "your turn is near" at this many people ahead
    retention_days: int = Field(default=30, ge=1, le=3650)  # phone numbers and messages are erased after
    max_attempts: int = Field(default=5, ge=1, le=20)  # then a message is marked failed
    retry_initial_s: float = Field(default=30.0, ge=0.1, le=3600)  # doubles after each failure
    retry_max_s: float = Field(default=600.0, ge=0.1, le=86_400)
    zns: ZnsConfig | None = None

    @model_validator(mode="after")
    def _zns(self) -> "MessagesConfig":
        if "zns" in self.channels and self.zns is None:
            raise ValueError("messages: kênh 'zns' cần mục [messages.zns] (access_token, templates)")
        return self


class AlertsConfig(_Strict):
    """Service-level alerts (motcua/alerts.py, docs/reports.md): shown live to staff and the
    administrator, kept in a list with when they started and ended."""

    enabled: bool = True
    # A field's oldest waiting citizen has waited longer than this (minutes)...
    wait_max_min: float = Field(default=30.0, gt=0, le=600)
    # ... or than this field's own threshold: {"DATDAI": 45}.
    wait_max_min_by_field: dict[str, float] = {}
    # A counter paused longer than this (minutes).
    pause_max_min: float = Field(default=20.0, gt=0, le=600)
    # A ticket printer reporting no paper.
    printer_paper: bool = True
    # How often waits and pauses are checked (seconds); printers are followed as they report.
    check_interval_s: float = Field(default=30.0, ge=1, le=600)

    @field_validator("wait_max_min_by_field")
    @classmethod
    def _per_field(cls, v: dict[str, float]) -> dict[str, float]:
        for code, minutes in v.items():
            if not 0 < minutes <= 600:
                raise ValueError(f"ngưỡng thời gian chờ của lĩnh vực {code} phải lớn hơn 0 và không quá 600 phút")
        return v


class OfficeConfig(_Strict):
    office: OfficeInfo
    hours: HoursConfig = HoursConfig()
    queue: QueueConfig = QueueConfig()
    announcements: AnnouncementConfig = AnnouncementConfig()
    auth: AuthConfig = AuthConfig()
    fields: list[FieldConfig] = Field(min_length=1)
    counters: list[CounterConfig] = Field(min_length=1)
    staff: list[StaffConfig] = []
    devices: list[DeviceConfig] = []
    dossiers: DossiersConfig = DossiersConfig()
    booking: BookingConfig = BookingConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    messages: MessagesConfig = MessagesConfig()
    alerts: AlertsConfig = AlertsConfig()

    @model_validator(mode="after")
    def _cross_check(self) -> "OfficeConfig":
        for code in self.alerts.wait_max_min_by_field:
            if code not in {f.code for f in self.fields}:
                raise ValueError(f"alerts.wait_max_min_by_field: không có lĩnh vực mã {code!r}")
        codes = [f.code for f in self.fields]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"mã lĩnh vực bị trùng: {', '.join(dup)}")
        nums = [c.number for c in self.counters]
        dupn = sorted({n for n in nums if nums.count(n) > 1})
        if dupn:
            raise ValueError(f"số quầy bị trùng: {', '.join(map(str, dupn))}")
        for i, c in enumerate(self.counters):
            for f in c.fields:
                if f not in codes:
                    raise ValueError(f"counters[{i}] (quầy {c.number}) phục vụ lĩnh vực không có: {f!r}")
            if c.keypad_transfer and c.keypad_transfer not in codes:
                raise ValueError(f"counters[{i}] (quầy {c.number}): keypad_transfer chỉ tới lĩnh vực không có: "
                                 f"{c.keypad_transfer!r}")
        for i, s in enumerate(self.staff):
            for n in s.counters:
                if n not in nums:
                    raise ValueError(f"staff[{i}] ({s.username}) gắn với quầy không có: {n}")
        users = [s.username for s in self.staff]
        dupu = sorted({u for u in users if users.count(u) > 1})
        if dupu:
            raise ValueError(f"tên đăng nhập bị trùng: {', '.join(dupu)}")
        names = [d.name for d in self.devices]
        dupd = sorted({d for d in names if names.count(d) > 1})
        if dupd:
            raise ValueError(f"tên thiết bị bị trùng: {', '.join(dupd)}")
        tokens = [d.token for d in self.devices if d.token]
        if len(tokens) != len(set(tokens)):
            raise ValueError("hai thiết bị dùng chung một token")
        for i, d in enumerate(self.devices):
            if d.counter is not None and d.counter not in nums:
                raise ValueError(f"devices[{i}] ({d.name}) gắn với quầy không có: {d.counter}")
        agents = {d.name for d in self.devices if d.kind == "agent"}
        for i, d in enumerate(self.devices):  # devices of a device agent (docs/agents.md)
            if d.agent is not None and (d.agent not in agents or d.kind not in AGENT_DEVICE_KINDS):
                raise ValueError(f"devices[{i}] ({d.name}): 'agent' phải là tên một thiết bị loại 'agent', "
                                 f"và chỉ dùng cho máy in, camera, bàn phím, bảng LED, hộp đánh giá, máy quét")
        for code in [*self.booking.capacity, *self.booking.remote_join]:
            if code not in codes:
                raise ValueError(f"booking: lĩnh vực không có: {code!r}")
        # Ticket numbers must tell fields apart: blocks may not overlap, prefixes not repeat.
        prefixes = [f.numbering.prefix for f in self.fields if f.numbering.mode == "prefix"]
        dupp = sorted({p for p in prefixes if prefixes.count(p) > 1})
        if dupp:
            raise ValueError(f"tiền tố số thứ tự bị trùng: {', '.join(dupp)}")
        blocks = sorted(
            (f.numbering.start, f.numbering.start + (f.daily_cap or 999) - 1, f.code)
            for f in self.fields if f.numbering.mode == "block"
        )
        for (a0, a1, ac), (b0, _b1, bc) in zip(blocks, blocks[1:]):
            if b0 <= a1:
                raise ValueError(
                    f"dãy số của lĩnh vực {ac} ({a0}..{a1}) chồng lên dãy số của {bc} (bắt đầu {b0}); "
                    f"hãy giảm daily_cap hoặc đổi numbering.start"
                )
        return self

    # Convenience look-ups --------------------------------------------------------------
    def field(self, code: str) -> FieldConfig | None:
        return next((f for f in self.fields if f.code == code), None)

    def counter(self, number: int) -> CounterConfig | None:
        return next((c for c in self.counters if c.number == number), None)

    def counters_for_field(self, code: str) -> list[int]:
        return [c.number for c in self.counters if code in c.fields]

    def devices_of(self, *kinds: str) -> list[DeviceConfig]:
        return [d for d in self.devices if d.kind in kinds]
