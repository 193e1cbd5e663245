"""Benchmark of the procedure catalogue search (motcua.catalogue).

Builds a catalogue of 2,000 procedures (the shipped sample plus generated variations,
fixed seed), runs 1,000 varied queries (accented, unaccented, upper case, typos,
unfinished last word, keywords, field filter, junk) and prints p50/p99/max latency.

    .venv/bin/python bench/bench_procedure_search.py [--procedures 2000] [--queries 1000] [--seed 2025]

Target: p99 <= 30 ms on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import string
import sys
import time
from dataclasses import dataclass, replace

from motcua.catalogue import Catalogue, Document, Procedure

QUALIFIERS = [
    "có yếu tố nước ngoài",
    "cho người chưa thành niên",
    "lưu động",
    "tại khu vực biên giới",
    "trong trường hợp đặc biệt",
    "cho người đang cư trú ở nước ngoài",
    "liên quan đến tài sản chung của vợ chồng",
    "đối với người cao tuổi",
    "đối với người khuyết tật",
    "trên môi trường điện tử",
    "cho trẻ em bị bỏ rơi",
    "đối với hộ gia đình, cá nhân",
    "theo cơ chế liên thông",
    "khi có thay đổi thông tin",
    "cho đối tượng chính sách",
    "đối với công trình tạm",
    "thuộc diện ưu tiên",
    "cấp lại do bị mất",
    "điều chỉnh sau khi sáp nhập đơn vị hành chính",
    "đối với đất nông nghiệp",
]
EXTRA_FIELDS = [
    ("MOITRUONG", "Môi trường"),
    ("GIAODUC", "Giáo dục và đào tạo"),
    ("HTX", "Hợp tác xã"),
    ("NONGNGHIEP", "Nông nghiệp và phát triển nông thôn"),
    ("VANHOA", "Văn hóa, thể thao và du lịch"),
    ("YTE", "Y tế"),
    ("TONGIAO", "Tôn giáo"),
    ("THIDUA", "Thi đua, khen thưởng"),
]
EXTRA_DOCS = [
    "Tờ khai theo mẫu",
    "Bản sao giấy tờ chứng minh nơi cư trú",
    "Văn bản đề nghị của cơ quan, tổ chức",
    "Biên bản kiểm tra hiện trạng",
    "Giấy xác nhận của Ủy ban nhân dân cấp xã",
    "Bản vẽ sơ đồ vị trí",
    "Báo cáo tình hình hoạt động",
    "Danh sách thành viên",
]
JUNK_ALPHABET = string.ascii_letters + string.digits + string.punctuation + "\x00\x01\x07\x1b\u200b\ufffd"


def build_procedures(count: int, rng: random.Random) -> list[Procedure]:
    sample = list(Catalogue.load_sample())
    procedures = list(sample)
    i = 0
    while len(procedures) < count:
        i += 1
        base = rng.choice(sample)
        qualifiers = rng.sample(QUALIFIERS, k=rng.choice((1, 1, 2)))
        name = base.name + " " + " ".join(qualifiers)
        if rng.random() < 0.25:
            words = name.split()
            j = rng.randrange(1, len(words))
            words[0], words[j] = words[j], words[0]
            name = " ".join(words)
            name = name[0].upper() + name[1:]
        field_code, field_name = (
            rng.choice(EXTRA_FIELDS) if rng.random() < 0.3 else (base.field_code, base.field_name)
        )
        documents = list(base.documents) + [
            Document(name=d, original=1, copy=rng.randint(0, 2)) for d in rng.sample(EXTRA_DOCS, k=2)
        ]
        procedures.append(replace(
            base,
            code=f"GEN.{i:05d}",
            name=name,
            field_code=field_code,
            field_name=field_name,
            documents=documents,
        ))
    return procedures


def _strip_accents(text: str) -> str:
    from motcua.catalogue import fold
    return fold(text)


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    k = rng.randrange(len(word) - 1)
    kind = rng.choice(("swap", "drop", "double", "sub"))
    if kind == "swap":
        return word[:k] + word[k + 1] + word[k] + word[k + 2:]
    if kind == "drop":
        return word[:k] + word[k + 1:]
    if kind == "double":
        return word[:k] + word[k] + word[k:]
    return word[:k] + rng.choice("aeiouhnt") + word[k + 1:]


def build_queries(procedures: list[Procedure], count: int, rng: random.Random) -> list[tuple[str, str | None]]:
    fields = sorted({p.field_code for p in procedures})
    queries: list[tuple[str, str | None]] = []
    for _ in range(count):
        proc = rng.choice(procedures)
        words = proc.name.split()
        start = rng.randrange(max(1, len(words) - 3))
        part = words[start:start + rng.randint(2, 5)]
        kind = rng.random()
        if kind < 0.2:
            q = proc.name
        elif kind < 0.4:
            q = _strip_accents(" ".join(part))
        elif kind < 0.5:
            q = " ".join(part).upper()
        elif kind < 0.65:
            folded = _strip_accents(" ".join(part)).split()
            j = rng.randrange(len(folded))
            folded[j] = _typo(folded[j], rng)
            q = " ".join(folded)
        elif kind < 0.8:
            text = _strip_accents(" ".join(part))
            q = text[: max(1, len(text) - rng.randint(1, 3))]
        elif kind < 0.9:
            q = rng.choice(proc.keywords) if proc.keywords else " ".join(rng.sample(part, len(part)))
        elif kind < 0.95:
            q = _strip_accents(" ".join(rng.sample(part, len(part))))
        elif kind < 0.98:
            q = "".join(rng.choice(JUNK_ALPHABET) for _ in range(rng.randint(1, 60)))
        else:
            q = "".join(rng.choice(JUNK_ALPHABET) for _ in range(10_240))
        field = rng.choice(fields) if rng.random() < 0.1 else None
        queries.append((q, field))
    return queries


@dataclass(frozen=True)
class Summary:
    p50: float
    p90: float
    p99: float
    max: float
    mean: float

    @property
    def line(self) -> str:
        return (f"p50 {self.p50:.2f}  p90 {self.p90:.2f}  p99 {self.p99:.2f}  "
                f"max {self.max:.2f}  mean {self.mean:.2f}")


def summary(values: list[float]) -> Summary:
    xs = sorted(values)

    def pct(p: float) -> float:
        return xs[min(len(xs) - 1, max(0, int(round(p * len(xs))) - 1))]

    return Summary(statistics.median(xs), pct(0.90), pct(0.99), xs[-1], statistics.fmean(xs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procedures", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    procedures = build_procedures(args.procedures, rng)
    t0 = time.perf_counter()
    catalogue = Catalogue(procedures)
    build_ms = (time.perf_counter() - t0) * 1000
    queries = build_queries(procedures, args.queries, rng)

    for q, field in queries[:50]:  # warm-up
        catalogue.search(q, field=field)

    timings: list[float] = []
    cpu: list[float] = []
    empty = 0
    for q, field in queries:
        t = time.perf_counter()
        c = time.process_time()
        hits = catalogue.search(q, field=field)
        cpu.append((time.process_time() - c) * 1000)
        timings.append((time.perf_counter() - t) * 1000)
        empty += not hits
    wall = summary(timings)
    print(f"procedures: {len(catalogue)}  index build: {build_ms:.0f} ms")
    print(f"queries: {len(timings)}  with no result: {empty}")
    print("search latency ms (wall): " + wall.line)
    print("search time ms (CPU of this process): " + summary(cpu).line)
    if hasattr(os, "getloadavg"):
        print("load average during run: %.2f (%d CPUs)" % (os.getloadavg()[0], os.cpu_count() or 0))
    print(f"target p99 <= 30 ms (wall): {'met' if wall.p99 <= 30 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
