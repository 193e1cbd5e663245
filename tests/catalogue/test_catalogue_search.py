"""Catalogue look-ups and search, through the shipped sample and small hand-made lists."""

from __future__ import annotations

import unicodedata

import pytest

from motcua.catalogue import Catalogue, CatalogueImportError, Document, Procedure, fold
from motcua.catalogue.index import within_one_edit


@pytest.fixture(scope="module")
def sample() -> Catalogue:
    return Catalogue.load_sample()


def names(hits: list[tuple[Procedure, float]]) -> list[str]:
    return [p.name for p, _ in hits]


def proc(code: str, name: str, field: str = "HOTICH", documents: tuple[str, ...] = (),
         keywords: tuple[str, ...] = ()) -> Procedure:
    return Procedure(code=code, name=name, field_code=field, field_name=field.title(),
                     documents=[Document(d) for d in documents], keywords=list(keywords))


# -- the sample catalogue ------------------------------------------------------------------


def test_sample_has_forty_procedures_in_the_six_fields(sample: Catalogue) -> None:
    assert len(sample) >= 40
    codes = {f.code for f in sample.fields()}
    assert {"HOTICH", "CHUNGTHUC", "DATDAI", "XAYDUNG", "LDTBXH", "HKD"} <= codes
    assert sum(f.count for f in sample.fields()) == len(sample)
    assert sample.meta.get("sample") is True
    assert "đối chiếu" in sample.meta["notice"]


def test_sample_records_are_complete_and_in_nfc(sample: Catalogue) -> None:
    for p in sample:
        assert p.documents, p.code
        assert p.time_limit and p.fees and p.where and p.result and p.legal_basis and p.steps, p.code
        assert p.level in ("xã", "tỉnh") and p.online in ("toàn trình", "một phần", "không")
        texts = [p.name, p.field_name, p.time_limit, p.fees, p.where, p.result, p.notes,
                 *p.legal_basis, *p.steps, *p.keywords,
                 *(d.name for d in p.documents), *(d.note for d in p.documents)]
        for text in texts:
            assert unicodedata.normalize("NFC", text) == text
            assert "\ufffd" not in text
        # names are written with their diacritics, not as plain ASCII
        assert fold(p.name) != p.name.lower(), p.name


def test_sample_covers_the_procedures_offices_ask_for(sample: Catalogue) -> None:
    wanted = [
        "đăng ký khai sinh", "đăng ký khai tử", "đăng ký kết hôn", "nhận cha, mẹ, con",
        "bản sao trích lục hộ tịch", "xác nhận tình trạng hôn nhân", "cải chính",
        "đăng ký giám hộ", "đăng ký lại khai sinh", "bảo hiểm y tế cho trẻ em",
        "chứng thực bản sao từ bản chính", "chứng thực chữ ký", "chứng thực hợp đồng",
        "sửa lỗi sai sót", "giấy phép xây dựng mới đối với nhà ở riêng lẻ",
        "trợ cấp xã hội hằng tháng", "mai táng", "người có công",
        "đăng ký thành lập hộ kinh doanh", "thay đổi nội dung đăng ký hộ kinh doanh",
        "tạm ngừng kinh doanh", "chấm dứt hoạt động hộ kinh doanh", "tranh chấp đất đai",
    ]
    all_names = " | ".join(p.name.lower() for p in sample)
    for phrase in wanted:
        assert phrase in all_names, phrase


def test_same_day_limit_reads_as_in_the_statute(sample: Catalogue) -> None:
    birth = sample.search("Đăng ký khai sinh")[0][0]
    assert birth.time_limit.startswith("Ngay trong ngày tiếp nhận; trường hợp nhận sau 15 giờ")
    assert birth.time_limit_days == 0
    assert "Miễn lệ phí" in birth.fees


# -- the four spellings, typos, prefixes ----------------------------------------------------


@pytest.mark.parametrize(
    "query", ["dang ky khai sinh", "Đăng ký khai sinh", "DANG KY KHAI SINH", "dăng ky khai sinh",
              "đăng kí khai sinh", unicodedata.normalize("NFD", "Đăng ký khai sinh")],
)
def test_every_spelling_finds_birth_registration_first(sample: Catalogue, query: str) -> None:
    hits = sample.search(query)
    assert hits[0][0].name == "Đăng ký khai sinh"
    assert int(hits[0][1]) == 3  # an exact phrase
    # the longer procedures that contain the phrase follow, the exact one stays first
    assert "Đăng ký khai sinh kết hợp nhận cha, mẹ, con" in names(hits)[1:4]


@pytest.mark.parametrize(
    "query",
    ["dang ky khia sinh", "khai sinhh", "dang ky khai sinnh", "dnag ky khai sinh",
     "dang ky khai snh", "dang ky khai si", "dang ky khai s"],
)
def test_small_typos_and_unfinished_words_still_find_it(sample: Catalogue, query: str) -> None:
    assert sample.search(query)[0][0].name == "Đăng ký khai sinh"


def test_word_order_is_partly_free(sample: Catalogue) -> None:
    hits = sample.search("ket hon dang ky")
    assert hits[0][0].name == "Đăng ký kết hôn"
    assert int(hits[0][1]) == 2  # every word matches, but not as a phrase
    assert sample.search("sinh khai")[0][0].name == "Đăng ký khai sinh"


def test_every_sample_name_finds_itself_first_in_any_case_or_accent(sample: Catalogue) -> None:
    for p in sample:
        for query in (p.name, fold(p.name), p.name.upper()):
            assert sample.search(query, limit=1)[0][0].code == p.code, query


def test_keywords_find_what_people_call_a_procedure(sample: Catalogue) -> None:
    assert "Chứng thực bản sao" in sample.search("photo công chứng")[0][0].name
    assert "xác nhận tình trạng hôn nhân" in sample.search("xac nhan doc than")[0][0].name
    assert sample.search("lam so do")[0][0].field_code == "DATDAI"


def test_search_by_code(sample: Catalogue) -> None:
    first = next(iter(sample))
    assert sample.search(first.code)[0][0] is first
    assert sample.search(first.code.lower())[0][0] is first


def test_limit_is_respected(sample: Catalogue) -> None:
    assert len(sample.search("dang ky", limit=3)) == 3
    assert sample.search("dang ky", limit=0) == []


# -- ranking rules on small lists -------------------------------------------------------------


def test_exact_phrase_beats_all_words_beats_most_words() -> None:
    cat = Catalogue([
        proc("MOST", "Cấp giấy phép xây nhà tạm"),            # 3 of the 4 words
        proc("ALL", "Xây dựng nhà ở: cấp giấy phép"),         # every word, not in order
        proc("NONE", "Đăng ký tạm trú"),                       # nothing
        proc("PHRASE", "Cấp lại giấy phép xây dựng"),         # the exact phrase
    ])
    hits = cat.search("giay phep xay dung")
    assert [(p.code, int(s)) for p, s in hits] == [("PHRASE", 3), ("ALL", 2), ("MOST", 1)]
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)


def test_name_matches_weigh_more_than_document_matches() -> None:
    cat = Catalogue([
        proc("DOC", "Đăng ký thường trú", documents=("Giấy chứng nhận kết hôn",)),
        proc("NAME", "Cấp giấy chứng nhận kết hôn lại"),
    ])
    hits = cat.search("giay chung nhan ket hon")
    assert [p.code for p, _ in hits] == ["NAME", "DOC"]
    # same tier (every word, no phrase): the name still counts more
    apart = cat.search("ket hon giay chung nhan")
    assert [(p.code, int(s)) for p, s in apart] == [("NAME", 2), ("DOC", 2)]
    assert apart[0][1] > apart[1][1]


def test_shorter_name_fully_covered_comes_first() -> None:
    cat = Catalogue([
        proc("LONG", "Đăng ký khai sinh kết hợp nhận cha, mẹ, con"),
        proc("SHORT", "Đăng ký khai sinh"),
    ])
    assert [p.code for p, _ in cat.search("dang ky khai sinh")] == ["SHORT", "LONG"]


def test_ties_keep_catalogue_order() -> None:
    cat = Catalogue([proc("X2", "Gia hạn giấy phép"), proc("X1", "Gia hạn giấy phép")])
    hits = cat.search("gia han giay phep")
    assert [p.code for p, _ in hits] == ["X2", "X1"]
    assert hits[0][1] == hits[1][1]


def test_single_word_of_three_letters_is_not_guessed() -> None:
    cat = Catalogue([proc("A", "Đăng ký kết hôn"), proc("B", "Đăng ký khai sinh")])
    # "hon" is indexed; "hom" is not and too short to be read as a typo
    assert [p.code for p, _ in cat.search("hon")] == ["A"]
    assert cat.search("hom") == []


def test_when_no_procedure_matches_most_words_half_will_do() -> None:
    cat = Catalogue([proc("A", "Xác định mức độ khuyết tật"), proc("B", "Đăng ký hộ kinh doanh")])
    # "nan" is neither a word of the list nor long enough to be read as a typo
    assert [(p.code, int(s)) for p, s in cat.search("nan khuyet")] == [("A", 1)]
    # but a two-letter word alone tells nothing
    assert cat.search("giam ho") == []


def test_typo_of_long_word_is_forgiven_only_once() -> None:
    cat = Catalogue([proc("A", "Chứng thực chữ ký")])
    assert cat.search("chungg") and cat.search("chnug")
    assert cat.search("chnugg") == []


def test_within_one_edit() -> None:
    assert within_one_edit("khai", "khia")      # neighbours swapped
    assert within_one_edit("sinh", "sinhh")     # one letter more
    assert within_one_edit("sinh", "sin")       # one letter less
    assert within_one_edit("sinh", "sanh")      # one letter changed
    assert not within_one_edit("khai", "ihak")
    assert not within_one_edit("sinh", "sinhhh")
    assert not within_one_edit("khai", "khoa")


# -- field filter and look-ups -------------------------------------------------------------------


def test_field_filter(sample: Catalogue) -> None:
    everywhere = sample.search("chung nhan")
    assert len({p.field_code for p, _ in everywhere}) > 1
    only = sample.search("chung nhan", field="HKD")
    assert only and all(p.field_code == "HKD" for p, _ in only)
    assert sample.search("chung nhan", field="hkd") == only
    by_name = sample.search("ban sao", field="Chứng thực")
    assert by_name and all(p.field_code == "CHUNGTHUC" for p, _ in by_name)
    assert sample.search("ban sao", field="chung thuc") == by_name
    assert sample.search("khai sinh") and sample.search("khai sinh", field="XAYDUNG") == []
    assert sample.search("khai sinh", field="KHONGCO") == []
    assert sample.search("khai sinh", field="")[0][0].name == "Đăng ký khai sinh"


def test_get_by_field_and_fields(sample: Catalogue) -> None:
    birth = sample.search("dang ky khai sinh")[0][0]
    assert sample.get(birth.code) is birth
    assert sample.get(birth.code.lower()) is birth
    assert sample.get(" " + birth.code + " ") is birth
    assert sample.get("KHONG-CO") is None
    assert birth.code in sample and "KHONG-CO" not in sample
    civil = sample.by_field("HOTICH")
    assert birth in civil and all(p.field_code == "HOTICH" for p in civil)
    assert sample.by_field("hotich") == civil == sample.by_field("Hộ tịch")
    assert sample.by_field("KHONGCO") == []
    fields = {f.code: f for f in sample.fields()}
    assert fields["HOTICH"].name == "Hộ tịch"
    assert fields["HOTICH"].count == len(civil)


def test_duplicate_codes_are_refused() -> None:
    with pytest.raises(CatalogueImportError) as err:
        Catalogue([proc("A", "Một"), proc("a", "Hai")])
    assert err.value.issues[0].row == 2
    assert "trùng" in err.value.issues[0].message


def test_empty_catalogue_searches_to_nothing() -> None:
    cat = Catalogue()
    assert len(cat) == 0 and cat.fields() == [] and cat.search("khai sinh") == []


# -- junk never raises ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "", " ", "\t\n", "!!!???", "\x00" * 10_240,
        ("\x00\x1b[2J\ufffd%$#@" * 1200)[:10_240],
        "x" * 10_240,
        "zzzz qqqq wwww",
        "\ud800\udfff",
        "😀 " * 3000,
        " ".join(["a"] * 5000),
        "\u0301\u0303\u0309",
    ],
)
def test_empty_or_junk_query_gives_nothing(sample: Catalogue, query: str) -> None:
    assert sample.search(query) == []


@pytest.mark.parametrize("query", [None, 12, b"khai sinh", ["khai sinh"], 3.5])
def test_non_text_query_gives_nothing(sample: Catalogue, query: object) -> None:
    assert sample.search(query) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("limit", ["x", None, -1, 0])
def test_bad_limit_gives_nothing(sample: Catalogue, limit: object) -> None:
    assert sample.search("khai sinh", limit=limit) == []  # type: ignore[arg-type]


def test_junk_around_real_words_still_finds_them(sample: Catalogue) -> None:
    hits = sample.search("\x00\x01 khai sinh " + "q" * 500)
    assert hits[0][0].name == "Đăng ký khai sinh"
