from datetime import date, datetime

import pytest

from motcua.dossiers.importer import parse_import
from motcua.dossiers.timeliness import REPORT_KEYS, DossierRecord, Timeliness, classify, summarise

DUE = date(2025, 9, 10)


def test_finished_on_due_date_is_on_time():
    assert classify(DUE, date(2025, 9, 10), date(2025, 12, 31)) is Timeliness.ON_TIME
    # the evening of the due day still counts as that day
    assert classify(datetime(2025, 9, 10, 8, 0), datetime(2025, 9, 10, 23, 59), date(2025, 9, 30)) is Timeliness.ON_TIME


def test_finished_day_after_due_is_late():
    assert classify(DUE, date(2025, 9, 11), date(2025, 12, 31)) is Timeliness.LATE
    assert classify(DUE, datetime(2025, 9, 11, 0, 1), date(2025, 12, 31)) is Timeliness.LATE


def test_finished_day_before_due_is_early():
    assert classify(DUE, date(2025, 9, 9), date(2025, 9, 9)) is Timeliness.EARLY


def test_not_finished_and_past_due_is_overdue():
    assert classify(DUE, None, date(2025, 9, 11)) is Timeliness.OVERDUE


def test_not_finished_on_due_day_is_in_time():
    assert classify(DUE, None, date(2025, 9, 10)) is Timeliness.IN_TIME
    assert classify(DUE, None, date(2025, 9, 1)) is Timeliness.IN_TIME


def test_finished_after_report_day_was_in_progress_then():
    assert classify(DUE, date(2025, 9, 20), date(2025, 9, 5)) is Timeliness.IN_TIME
    assert classify(DUE, date(2025, 9, 20), date(2025, 9, 15)) is Timeliness.OVERDUE


def test_timeliness_values_are_report_keys():
    assert REPORT_KEYS == ("received", "finished_early", "finished_on_time", "finished_late",
                           "in_progress_in_time", "in_progress_overdue")
    assert Timeliness.LATE.label_vi == "Đã giải quyết quá hạn"
    assert Timeliness.EARLY.finished and not Timeliness.OVERDUE.finished


Q3_FROM, Q3_TO = date(2025, 7, 1), date(2025, 9, 30)


def _records():
    d = date
    return [
        # received in the period
        DossierRecord(d(2025, 7, 2), d(2025, 7, 10), d(2025, 7, 8), 10),  # early
        DossierRecord(d(2025, 7, 2), d(2025, 7, 10), d(2025, 7, 10), 9),  # on time
        DossierRecord(d(2025, 8, 1), d(2025, 8, 5), d(2025, 8, 6), 10),  # late
        DossierRecord(d(2025, 9, 20), d(2025, 10, 5), None, 4),  # in progress, in time
        DossierRecord(d(2025, 9, 1), d(2025, 9, 30), None, 5),  # in progress, due on the last day
        DossierRecord(d(2025, 9, 1), d(2025, 9, 15), None, 4),  # overdue
        DossierRecord(d(2025, 9, 25), d(2025, 9, 26), d(2025, 10, 2), 10),  # finished after the period: overdue
        {"received_at": d(2025, 8, 3), "due_at": d(2025, 8, 4), "finished_at": d(2025, 8, 4), "status": 10},  # mapping
        # carried over from the last quarter, still open on 1 July
        DossierRecord(d(2025, 6, 20), d(2025, 7, 5), d(2025, 7, 5), 10),  # on time
        DossierRecord(d(2025, 6, 25), d(2025, 6, 30), None, 4),  # overdue
        DossierRecord(d(2025, 6, 25), d(2025, 6, 30), d(2025, 7, 1), 9),  # late
        # left out
        DossierRecord(d(2025, 6, 1), d(2025, 6, 10), d(2025, 6, 30), 10),  # finished before the period
        DossierRecord(d(2025, 10, 1), d(2025, 10, 5), None, 2),  # received after
        DossierRecord(d(2025, 7, 3), d(2025, 7, 10), None, 1),  # Mới đăng ký: never taken in
        DossierRecord(d(2025, 7, 3), d(2025, 7, 3), d(2025, 7, 3), 3),  # Không được tiếp nhận
        # finished with no date: counted apart
        DossierRecord(d(2025, 7, 4), d(2025, 7, 10), None, 10),
        DossierRecord(d(2025, 6, 4), d(2025, 6, 10), None, 10),  # and not carried over
    ]


def test_quarterly_summary():
    table = summarise(_records(), Q3_FROM, Q3_TO)
    assert {k: table[k] for k in REPORT_KEYS} == {
        "received": 12,
        "finished_early": 1,
        "finished_on_time": 3,
        "finished_late": 2,
        "in_progress_in_time": 2,
        "in_progress_overdue": 3,
    }
    assert table["received_new"] == 9 and table["carried_over"] == 3
    assert table["finished_date_unknown"] == 1
    assert table["received"] == table["finished"] + table["in_progress"]


def test_summary_can_count_every_status():
    table = summarise(_records(), Q3_FROM, Q3_TO, exclude_statuses=frozenset())
    assert table["received"] == 14  # plus the Mới đăng ký and Không được tiếp nhận ones
    assert table["received"] == table["finished"] + table["in_progress"]


def test_summary_of_imported_rows():
    csv = (
        "ma_ho_so,thu_tuc,linh_vuc,nguoi_nop,ngay_nhan,ngay_hen_tra,trang_thai,ngay_hoan_thanh\n"
        "H56-250702-0001,Đăng ký khai sinh,Hộ tịch,Lê An,02/07/2025,05/07/2025,10,05/07/2025\n"
        "H56-250702-0002,Đăng ký khai sinh,Hộ tịch,Lê Bình,02/07/2025,05/07/2025,4,\n"
    ).encode()
    result = parse_import(csv, "dossiers.csv")
    assert result.errors == []
    table = summarise(result.rows, Q3_FROM, Q3_TO)
    assert (table["received"], table["finished_on_time"], table["in_progress_overdue"]) == (2, 1, 1)


def test_summary_rejects_reversed_period():
    with pytest.raises(ValueError):
        summarise([], Q3_TO, Q3_FROM)
