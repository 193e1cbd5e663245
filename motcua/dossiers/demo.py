"""The demo office's sample dossiers: 60 realistic dossiers received over the last 30
working days (every status, some late, some ready, some with an apology), put in an empty
dossier table on the demo's first start (`seed_demo_dossiers`)."""
from __future__ import annotations

import logging
import random
from datetime import date, datetime, time as dtime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..store import tables as t
from .status import DossierStatus

if TYPE_CHECKING:
    from .store import DossierStore

log = logging.getLogger(__name__)

__all__ = ["DEMO_AGENCY", "DEMO_COUNT", "add_business_days", "demo_dossiers", "seed_demo_dossiers"]

DEMO_AGENCY = "000.17.22.H56"
DEMO_COUNT = 60
_SECRET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# (linh vực, thủ tục, business days to process)
_DEMO_PROCEDURES: tuple[tuple[str, str, int], ...] = (
    ("Hộ tịch", "Đăng ký khai sinh", 1),
    ("Hộ tịch", "Đăng ký kết hôn", 1),
    ("Hộ tịch", "Đăng ký khai tử", 1),
    ("Hộ tịch", "Cấp bản sao trích lục hộ tịch", 1),
    ("Hộ tịch", "Thay đổi, cải chính, bổ sung thông tin hộ tịch", 3),
    ("Hộ tịch", "Đăng ký lại khai sinh", 5),
    ("Chứng thực", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản, "
                   "quyền sử dụng đất và nhà ở", 2),
    ("Chứng thực", "Chứng thực di chúc", 2),
    ("Đất đai", "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất", 10),
    ("Đất đai", "Đăng ký đất đai, tài sản gắn liền với đất, cấp Giấy chứng nhận lần đầu", 20),
    ("Đất đai", "Chuyển mục đích sử dụng đất", 15),
    ("Xây dựng", "Cấp giấy phép xây dựng nhà ở riêng lẻ", 15),
    ("Xây dựng", "Cấp giấy phép sửa chữa, cải tạo công trình", 10),
    ("Bảo trợ xã hội", "Trợ cấp xã hội hàng tháng đối với đối tượng bảo trợ xã hội", 7),
    ("Bảo trợ xã hội", "Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội", 3),
    ("Người có công", "Giải quyết chế độ trợ cấp thờ cúng liệt sĩ", 10),
    ("Thành lập và hoạt động của hộ kinh doanh", "Đăng ký thành lập hộ kinh doanh", 3),
    ("Thành lập và hoạt động của hộ kinh doanh", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", 3),
)
_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
           "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trịnh")
# (middle names, given names) for men and for women
_NAMES = (
    (("Văn", "Hữu", "Đức", "Minh", "Quang", "Xuân", "Văn Đức", "Thanh", "Công"),
     ("An", "Bình", "Cường", "Dũng", "Hải", "Hiếu", "Hùng", "Khánh", "Long", "Nam", "Phúc", "Quân",
      "Sơn", "Thắng", "Tuấn", "Đạt", "Đông", "Ước", "Lực")),
    (("Thị", "Thu", "Ngọc", "Hồng", "Thị Thu", "Thị Ngọc", "Thanh", "Minh", "Kim"),
     ("Giang", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "Nga", "Nhung", "Phương", "Tâm",
      "Thảo", "Trang", "Vân", "Yến", "Ánh", "Ổn", "Oanh")),
)
_APOLOGY_REASONS = (
    "do cần xác minh thêm thông tin về nguồn gốc thửa đất",
    "do phải lấy ý kiến của cơ quan chuyên môn cấp tỉnh",
    "do hệ thống phần mềm gặp sự cố trong quá trình xử lý",
)
# Scenarios that need the promised day to have passed, and those that need it ahead.
_PAST = (["returned"] * 16 + ["returned_late"] * 4 + ["ready"] * 7 + ["ready_late"]
         + ["overdue"] * 4 + ["overdue_apology"] * 3 + ["not_accepted", "withdrawn", "stopped"])
_CURRENT = (["new"] * 2 + ["accepted"] * 4 + ["processing"] * 9 + ["supplement"] * 2 + ["payment"] * 2
            + ["ready_early"] * 3)
_PAST_SET = frozenset(_PAST)
_STATUS_OF = {
    "returned": 10, "returned_late": 10, "ready": 9, "ready_late": 9, "ready_early": 9, "overdue": 4,
    "overdue_apology": 4, "not_accepted": 3, "withdrawn": 7, "stopped": 8, "new": 1, "accepted": 2,
    "processing": 4, "supplement": 5, "payment": 6,
}


def add_business_days(calendar: Any, day: date, n: int) -> date:
    """The n-th working day after *day* (n >= 0; n == 0 gives *day*)."""
    current = day
    for _ in range(n):
        current += timedelta(days=1)
        for _guard in range(60):
            if calendar.is_working_day(current):
                break
            current += timedelta(days=1)
    return current


def _business_days_back(calendar: Any, today: date, count: int) -> list[date]:
    days: list[date] = []
    current = today
    for _ in range(count * 4):
        if calendar.is_working_day(current):
            days.append(current)
            if len(days) == count:
                break
        current -= timedelta(days=1)
    return sorted(days)


def demo_dossiers(calendar: Any, now: datetime, *, count: int = DEMO_COUNT,
                  seed: str = DEMO_AGENCY) -> list[dict[str, Any]]:
    """Rows (table column values) of realistic sample dossiers received over the last 30
    working days: every status, some late, some ready, some with an apology."""
    rng = random.Random(seed)
    today = calendar.business_date(now)
    days = _business_days_back(calendar, today, 30)
    slots = sorted(days[(i * len(days)) // count] for i in range(count))
    past, current = list(_PAST), list(_CURRENT)
    need = count - len(past)
    current = (current * (need // max(1, len(current)) + 1))[:need]
    rng.shuffle(past)
    rng.shuffle(current)
    scenarios = past[:count] + current
    tz = calendar.tz

    def at(day: date, morning: bool | None = None) -> datetime:
        if morning is None:
            morning = rng.random() < 0.6
        start, span = (7 * 60 + 35, 230) if morning else (13 * 60 + 35, 200)
        minute = start + rng.randrange(span)
        local = datetime.combine(day, dtime(minute // 60, minute % 60), tzinfo=tz)
        return min(local.astimezone(timezone.utc), now - timedelta(minutes=1))

    seq_of_day: dict[date, int] = {}
    rows: list[dict[str, Any]] = []
    for received_day, scenario in zip(slots, scenarios):
        need_past = scenario in _PAST_SET
        options = [p for p in _DEMO_PROCEDURES
                   if (add_business_days(calendar, received_day, p[2]) < today) == need_past]
        if not options:  # today is near the oldest slot: take the shortest or longest
            options = [min(_DEMO_PROCEDURES, key=lambda p: p[2])] if need_past else [max(_DEMO_PROCEDURES, key=lambda p: p[2])]
        field, procedure, span = rng.choice(options)
        due_day = add_business_days(calendar, received_day, span)
        seq = seq_of_day.get(received_day, rng.randrange(0, 4)) + rng.randrange(1, 4)
        seq_of_day[received_day] = seq
        status = _STATUS_OF[scenario]
        received_at = at(received_day)
        finished_at = returned_at = new_due_at = None
        apology = ""
        if scenario in ("returned", "ready", "ready_early", "not_accepted", "withdrawn", "stopped"):
            latest = min(due_day, today)
            choices = [received_day + timedelta(days=i) for i in range((latest - received_day).days + 1)]
            choices = [d for d in choices if calendar.is_working_day(d)] or [received_day]
            finish_day = rng.choice(choices)
            if scenario == "ready" and rng.random() < 0.5:
                finish_day = choices[-1]
            finished_at = max(at(finish_day), received_at + timedelta(minutes=30))
        elif scenario in ("returned_late", "ready_late"):
            late_day = add_business_days(calendar, due_day, rng.randrange(1, 4))
            finished_at = max(at(min(late_day, today)), received_at + timedelta(minutes=30))
        if scenario in ("returned", "returned_late") and finished_at is not None:
            back = add_business_days(calendar, calendar.business_date(finished_at), rng.randrange(0, 3))
            returned_at = max(at(min(back, today)), finished_at)
        if scenario == "overdue_apology":
            new_due = add_business_days(calendar, today, rng.randrange(2, 7))
            new_due_at = calendar.day_bounds_utc(new_due)[0]
            reason = rng.choice(_APOLOGY_REASONS)
            apology = (f"Trung tâm Phục vụ hành chính công chân thành xin lỗi ông/bà vì hồ sơ chưa được "
                       f"giải quyết đúng hẹn {reason}. Ngày hẹn trả kết quả mới: {new_due:%d/%m/%Y}.")
        if finished_at is not None:
            finished_at = min(finished_at, now)
            received_at = min(received_at, finished_at)
        if returned_at is not None:
            returned_at = min(max(returned_at, finished_at), now)
        middles, givens = rng.choice(_NAMES)
        name = f"{rng.choice(_FAMILY)} {rng.choice(middles)} {rng.choice(givens)}"
        id_number = f"0{rng.choice(('01', '25', '26', '27', '30'))}{rng.choice('0123')}{rng.randrange(50, 100):02d}" \
                    f"{rng.randrange(10**6):06d}"
        rows.append({
            "code": f"{DEMO_AGENCY}-{received_day:%y%m%d}-{seq:04d}",
            "procedure": procedure, "field": field, "applicant": name, "applicant_id": id_number,
            "phone": f"09{rng.randrange(10**8):08d}",
            "received_at": received_at, "due_at": calendar.day_bounds_utc(due_day)[0], "status": status,
            "lookup_secret": "".join(rng.choice(_SECRET_ALPHABET) for _ in range(6)),
            "finished_at": finished_at, "returned_at": returned_at, "new_due_at": new_due_at,
            "apology": apology, "source": "demo", "updated_at": finished_at or received_at,
        })
    return rows



def seed_demo_dossiers(ds: "DossierStore") -> int:
    """Put the demo's sample dossiers in an empty dossier table through the app's store
    (`services.dossiers`; first demo start only: does nothing when any dossier exists).
    Returns how many were added."""
    rows = demo_dossiers(ds.calendar, ds.now())
    try:
        with ds.store.write() as conn:
            if conn.execute(select(t.dossiers.c.code).limit(1)).first() is not None:
                return 0
            conn.execute(t.dossiers.insert(), rows)
            conn.execute(t.dossier_events.insert(), [
                {"code": r["code"], "at": r["updated_at"], "action": "created", "status": r["status"],
                 "staff_id": None, "detail": {"source": "demo"}} for r in rows])
    except IntegrityError:  # another process seeded at the same moment
        return 0
    ready = sum(1 for r in rows if r["status"] == int(DossierStatus.DONE))
    log.info("demo: %d sample dossiers added (%d ready for pickup)", len(rows), ready)
    return len(rows)
