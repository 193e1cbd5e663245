"""The announcement a ticket:called event carries (CallAnnouncer) is exactly what
GET /api/v1/announcements/preview answers; it is cached and never raises."""
from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from motcua.speech import CallAnnouncer, call_announcement

NUMBERS = ["0", "5", "15", "21", "105", "1001", "1005", "2024", "9999", "A012", "b105", "10105"]


@pytest.fixture
def app_for(tmp_path, office_config):
    from motcua.app import Settings, create_app

    made = []

    def make(config=None):
        data = tmp_path / f"data{len(made)}"
        app = create_app(Settings(config=config or office_config, data_dir=data, testing=True, start_devices=False,
                                  background_jobs=False))
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["motcua"].close()


def with_announcements(cfg, **update):
    return cfg.model_copy(update={"announcements": cfg.announcements.model_copy(update=update)})


@pytest.mark.parametrize("update", [
    {},
    {"number_reading": "digits"},
    {"template": "Kính mời công dân số {number} tới quầy {counter}", "counter_reading": "digits"},
])
def test_the_announcement_is_what_the_preview_answers(app_for, office_config, update):
    cfg = with_announcements(office_config, **update)
    client = app_for(cfg).test_client()
    announce = CallAnnouncer(cfg.announcements)
    for number in NUMBERS:
        for counter in (1, 4, 12):
            body = client.get(f"/api/v1/announcements/preview?number={number}&counter={counter}").get_json()
            a = announce(number, counter)
            assert a == {"text": body["text"], "clips": body["clips"]}, (number, counter)
            assert a["text"] and a["clips"]


def test_default_sentence_and_clips(office_config):
    a = CallAnnouncer(office_config.announcements)("1005", 3)
    assert a == {"text": "Xin mời công dân có số thứ tự một nghìn không trăm linh năm đến quầy số ba",
                 "clips": ["xin_moi_cong_dan_co_so_thu_tu", "mot", "nghin", "khong", "tram", "linh", "nam",
                           "den_quay_so", "ba"]}
    assert call_announcement("1005", 3, office_config.announcements) == a


def test_answers_are_cached_and_each_caller_gets_its_own_list(office_config):
    announce = CallAnnouncer(office_config.announcements, cache_size=4)
    first = announce("1001", 1)
    first["clips"].append("changed")
    first["text"] = "changed"
    again = announce("1001", "1")
    assert again == announce("1001", 1) and "changed" not in again["clips"] and again["text"] != "changed"
    assert announce("a012", 2) == announce("A012", 2)
    info = announce.cache_info()
    assert info.misses == 2 and info.hits == 3
    for n in range(100):  # bounded
        announce(str(1000 + n), 1)
    assert announce.cache_info().currsize == 4


def test_it_never_raises(office_config, caplog):
    announce = CallAnnouncer(office_config.announcements)
    with caplog.at_level(logging.WARNING):
        assert announce("", 1) == {"text": "", "clips": []}
        assert announce("12-#", 1) == {"text": "", "clips": []}
        assert announce("1001", "quầy") == {"text": "", "clips": []}
        assert announce("1001", None) == {"text": "", "clips": []}  # type: ignore[arg-type]
    broken = CallAnnouncer(SimpleNamespace(template="{oops}", number_reading="full", counter_reading="full"))
    assert broken("1001", 1) == {"text": "", "clips": []}
    assert "announcement for" in caplog.text
