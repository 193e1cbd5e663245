"""The in-memory search index over a list of procedures.

Built once when a catalogue loads; read-only afterwards, so any number of threads may
search it at once. Everything a query needs is precomputed here:

* ``postings``: folded word -> {procedure number: weight of the best zone it occurs in}
  (name 3, code 3, keywords 2.5, field name 1.5, documents 1);
* ``deletes``: every word and every word with one letter removed -> the words it came
  from, so a mistyped query word finds the words within one edit (insertion, deletion,
  substitution or swap of two neighbouring letters) with a few dictionary look-ups;
* ``vocab``: the sorted words, for prefix look-ups of the word being typed;
* per procedure, the words of its name and keywords (for phrase checks and coverage).

See :meth:`SearchIndex.search` for the ranking rules.
"""

from __future__ import annotations

import bisect
import heapq
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final

from .model import Procedure
from .textfold import fold, normalize_token, search_tokens

__all__ = ["SearchIndex", "within_one_edit"]

log = logging.getLogger(__name__)

WEIGHT_NAME: Final = 3.0
WEIGHT_CODE: Final = 3.0
WEIGHT_KEYWORD: Final = 2.5
WEIGHT_FIELD: Final = 1.5
WEIGHT_DOCUMENT: Final = 1.0
MAX_WEIGHT: Final = 3.0

QUALITY_EXACT: Final = 1.0
QUALITY_FUZZY: Final = 0.7

#: A query longer than this is cut before folding (nobody types more; junk stays cheap).
MAX_QUERY_CHARS: Final = 256
#: Distinct query words considered; more are ignored.
MAX_QUERY_TOKENS: Final = 12
#: Query words longer than this are junk and ignored (no Vietnamese word comes close).
MAX_TOKEN_LEN: Final = 32
#: Query words at least this long may carry one typing mistake.
FUZZY_MIN_LEN: Final = 4
#: Shortest indexed word a mistyped query word may land on.
FUZZY_MIN_TARGET_LEN: Final = 3
#: At most this many words are tried for the word being typed (most frequent first);
#: fewer for a one- or two-letter start, which says little.
MAX_PREFIX_EXPANSIONS: Final = 400
PREFIX_EXPANSIONS_BY_LEN: Final[dict[int, int]] = {1: 24, 2: 80}

#: When no procedure matches most query words, half of them will do, if they are
#: at least this long (a lone "ho" or "xa" tells nothing).
FALLBACK_MIN_LEN: Final = 3
#: Above this many word pairs to look up, the phrase is checked procedure by procedure.
MAX_PAIR_LOOKUPS: Final = 2000

TIER_PHRASE: Final = 3
TIER_ALL: Final = 2
TIER_MOST: Final = 1


def within_one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one insertion, deletion, substitution
    or swap of two neighbouring characters (optimal string alignment distance <= 1)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        if len(diffs) == 2:
            i, j = diffs
            return j == i + 1 and a[i] == b[j] and a[j] == b[i]
        return False
    if la > lb:
        a, b = b, a
        la, lb = lb, la
    # b is a with one character inserted
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


def _one_deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


@dataclass(frozen=True, slots=True)
class _Entry:
    name_tokens: tuple[str, ...]
    # the name (first) and each keyword phrase, and word -> positions in each
    phrases: tuple[tuple[str, ...], ...]
    phrase_positions: tuple[dict[str, tuple[int, ...]], ...]
    code_key: str


def _positions(tokens: Sequence[str]) -> dict[str, tuple[int, ...]]:
    out: dict[str, list[int]] = {}
    for i, tok in enumerate(tokens):
        out.setdefault(tok, []).append(i)
    return {t: tuple(p) for t, p in out.items()}


class SearchIndex:
    """Token index over ``procedures`` (kept in the given order; results refer to it by
    position)."""

    def __init__(self, procedures: Sequence[Procedure]) -> None:
        postings: dict[str, dict[int, float]] = {}
        entries: list[_Entry] = []
        token_cache: dict[str, tuple[str, ...]] = {}

        def tokens_of(text: str) -> tuple[str, ...]:
            cached = token_cache.get(text)
            if cached is None:
                cached = token_cache[text] = tuple(search_tokens(text))
            return cached

        def add(tokens: Sequence[str], doc: int, weight: float) -> None:
            for tok in tokens:
                row = postings.get(tok)
                if row is None:
                    postings[tok] = {doc: weight}
                elif row.get(doc, 0.0) < weight:
                    row[doc] = weight

        for doc, proc in enumerate(procedures):
            name_tokens = tokens_of(proc.name)
            keyword_phrases = [t for t in (tokens_of(k) for k in proc.keywords) if t]
            for document in proc.documents:
                add(tokens_of(document.name), doc, WEIGHT_DOCUMENT)
            add(tokens_of(proc.field_name), doc, WEIGHT_FIELD)
            add(tokens_of(proc.field_code), doc, WEIGHT_FIELD)
            for phrase in keyword_phrases:
                add(phrase, doc, WEIGHT_KEYWORD)
            add(tokens_of(proc.code), doc, WEIGHT_CODE)
            add(name_tokens, doc, WEIGHT_NAME)
            phrases = [name_tokens, *keyword_phrases]
            entries.append(_Entry(
                name_tokens=name_tokens,
                phrases=tuple(phrases),
                phrase_positions=tuple(_positions(p) for p in phrases),
                code_key=fold(proc.code),
            ))

        # words and neighbouring word pairs of names and keywords, for phrase checks
        unigrams: dict[str, set[int]] = {}
        pairs: dict[tuple[str, str], set[int]] = {}
        for doc, entry in enumerate(entries):
            for phrase in entry.phrases:
                for tok in phrase:
                    unigrams.setdefault(tok, set()).add(doc)
                for pair in zip(phrase, phrase[1:]):
                    pairs.setdefault(pair, set()).add(doc)

        deletes: dict[str, list[str]] = {}
        for tok in postings:
            if len(tok) < FUZZY_MIN_TARGET_LEN or len(tok) > MAX_TOKEN_LEN:
                continue
            deletes.setdefault(tok, []).append(tok)
            for key in _one_deletions(tok):
                deletes.setdefault(key, []).append(tok)

        self._postings = postings
        self._deletes = deletes
        self._phrase_words = unigrams
        self._phrase_pairs = pairs
        self._vocab = sorted(postings)
        self._entries = entries
        self._size = len(entries)
        log.debug("search index: %d procedures, %d words", self._size, len(postings))

    def __len__(self) -> int:
        return self._size

    # -- query word expansion -------------------------------------------------------

    def _fuzzy(self, word: str) -> dict[str, float]:
        found: dict[str, float] = {}
        for key in _one_deletions(word) | {word}:
            for cand in self._deletes.get(key, ()):
                if cand != word and cand not in found and within_one_edit(word, cand):
                    found[cand] = QUALITY_FUZZY
        return found

    def _prefixed(self, word: str) -> dict[str, float]:
        vocab = self._vocab
        lo = bisect.bisect_left(vocab, word)
        hi = bisect.bisect_left(vocab, word + "\U0010ffff", lo)
        cands = [t for t in vocab[lo:hi] if t != word]
        cap = PREFIX_EXPANSIONS_BY_LEN.get(len(word), MAX_PREFIX_EXPANSIONS)
        if len(cands) > cap:
            postings = self._postings
            cands = heapq.nlargest(cap, cands, key=lambda t: len(postings[t]))
        n = len(word)
        return {t: 0.5 + 0.4 * n / len(t) for t in cands}

    def _expand(self, word: str, typing: bool) -> dict[str, float]:
        """Indexed words that ``word`` stands for, each with a match quality in (0, 1]."""
        out: dict[str, float] = {}
        if word in self._postings:
            out[word] = QUALITY_EXACT
        elif len(word) >= FUZZY_MIN_LEN:
            out.update(self._fuzzy(word))
        if typing:
            for tok, quality in self._prefixed(word).items():
                if out.get(tok, 0.0) < quality:
                    out[tok] = quality
        return out

    def _word_hits(self, expansion: dict[str, float]) -> dict[int, float]:
        """Procedure -> best (zone weight x match quality) for one query word."""
        postings = self._postings
        if len(expansion) == 1:
            ((tok, quality),) = expansion.items()
            row = postings[tok]
            return row if quality == 1.0 else {d: w * quality for d, w in row.items()}
        best: dict[int, float] = {}
        get = best.get
        for tok, quality in expansion.items():
            for doc, weight in postings[tok].items():
                s = weight * quality
                if get(doc, 0.0) < s:
                    best[doc] = s
        return best

    @staticmethod
    def _candidates(
        hits: Sequence[dict[int, float]], need: int, allowed: Collection[int] | None,
    ) -> Collection[int]:
        """Procedures matched by at least ``need`` of the query words."""
        if need == len(hits):
            ordered = sorted(hits, key=len)
            found: Collection[int] = ordered[0].keys()
            for h in ordered[1:]:
                found = found & h.keys()
        else:
            counts: dict[int, int] = {}
            for h in hits:
                for doc in h:
                    counts[doc] = counts.get(doc, 0) + 1
            found = [d for d, c in counts.items() if c >= need]
        if allowed is not None:
            found = [d for d in found if d in allowed]
        return found

    def _phrase_candidates(self, phrase: Sequence[dict[str, float]]) -> tuple[set[int] | None, bool]:
        """Procedures that may hold ``phrase`` in their name or a keyword, and whether
        that set is exact (no further check needed). ``None`` when too costly to tell."""
        if len(phrase) == 1:
            found: set[int] = set()
            for tok in phrase[0]:
                found.update(self._phrase_words.get(tok, ()))
            return found, True
        result: set[int] | None = None
        checked_all = True
        pairs = self._phrase_pairs
        for left, right in zip(phrase, phrase[1:]):
            if len(left) * len(right) > MAX_PAIR_LOOKUPS:
                checked_all = False
                continue
            docs: set[int] = set()
            for a in left:
                for b in right:
                    hit = pairs.get((a, b))
                    if hit:
                        docs.update(hit)
            result = docs if result is None else result & docs
            if not result:
                return set(), True
        return result, checked_all and len(phrase) == 2

    # -- search ----------------------------------------------------------------------

    def search(
        self,
        query: str,
        limit: int = 20,
        allowed: Collection[int] | None = None,
    ) -> list[tuple[int, float]]:
        """Rank procedures for ``query``; returns ``(position, score)`` best first.

        Rules: every query word matches an indexed word exactly, or (the word being
        typed, i.e. the last one unless the query ends with a space) as a prefix, or
        (words of 4+ letters that are not themselves indexed) within one edit. A
        procedure qualifies when more than half of the distinct query words match it
        (when no procedure does, half of them is enough, counting only words of 3+
        letters).
        Score = tier + relevance (relevance in [0, 1)):

        * tier 3: the query words occur in order, side by side, in the name or a keyword
          (an exact phrase, allowing the typo and prefix rules), or the query is the code;
        * tier 2: every query word matches somewhere (name, code, keywords, field, documents);
        * tier 1: most query words match.

        Relevance favours matches in names over documents, exact over fuzzy words, and
        names that the query covers more fully (so "Đăng ký khai sinh" comes before
        "Đăng ký khai sinh kết hợp nhận cha, mẹ, con" for "dang ky khai sinh").
        Ties keep catalogue order.
        """
        if limit <= 0 or not isinstance(query, str) or not self._size:
            return []
        raw = query[:MAX_QUERY_CHARS]
        typing = bool(raw) and not raw[-1].isspace() and len(query) <= MAX_QUERY_CHARS
        folded = fold(raw)
        if not folded:
            return []
        words = [normalize_token(w) for w in folded.split(" ")]
        if len(words[-1]) > MAX_TOKEN_LEN:
            typing = False
        words = [w for w in words if len(w) <= MAX_TOKEN_LEN]
        distinct = list(dict.fromkeys(words))
        if len(distinct) > MAX_QUERY_TOKENS:
            distinct = distinct[:MAX_QUERY_TOKENS]
            kept = set(distinct)
            words = [w for w in words if w in kept]
            typing = False
        if not distinct:
            return []
        last = words[-1]

        expansions = {w: self._expand(w, typing and w == last) for w in distinct}
        hits = [self._word_hits(expansions[w]) for w in distinct]
        n = len(distinct)

        # procedures matching most words; when none does, those matching half of them
        allowed_set = None
        if allowed is not None:
            allowed_set = allowed if isinstance(allowed, (set, frozenset)) else set(allowed)
        candidates = self._candidates(hits, n // 2 + 1, allowed_set)
        if not candidates and n % 2 == 0:
            telling = [h for w, h in zip(distinct, hits) if len(w) >= FALLBACK_MIN_LEN]
            if len(telling) >= n // 2:
                candidates = self._candidates(telling, n // 2, allowed_set)
        if not candidates:
            return []

        # an upper bound of each score, cheaply: tier 3 is assumed for procedures that
        # match every word and may hold the phrase (checked exactly only for those that
        # can still reach the top)
        phrase_sets = [expansions[w] for w in words]
        maybe_phrase, phrase_exact = self._phrase_candidates(phrase_sets)
        entries = self._entries
        max_total = n * MAX_WEIGHT
        bounded: list[tuple[float, int, int, float]] = []  # (-upper bound, doc, tier, part)
        for doc in candidates:
            if entries[doc].code_key == folded:
                bounded.append((-(TIER_PHRASE + 0.999), doc, TIER_PHRASE, -1.0))
                continue
            matched = [h[doc] for h in hits if doc in h]
            if len(matched) < n:
                tier = TIER_MOST
            elif maybe_phrase is None or doc in maybe_phrase:
                tier = TIER_PHRASE
            else:
                tier = TIER_ALL
            part = 0.55 * sum(matched) / max_total
            bounded.append((-(tier + part + 0.44), doc, tier, part))
        bounded.sort()

        anchor = min(range(len(phrase_sets)), key=lambda k: len(phrase_sets[k]))
        union: set[str] = set()
        for exp in expansions.values():
            union.update(exp)
        top: list[tuple[float, int]] = []  # min-heap of (score, -doc)
        for neg_bound, doc, tier, part in bounded:
            if len(top) >= limit and -neg_bound < top[0][0]:
                break
            if part < 0:
                score = -neg_bound
            else:
                entry = entries[doc]
                if tier == TIER_PHRASE and not phrase_exact and not _has_phrase(entry, phrase_sets, anchor):
                    tier = TIER_ALL
                name = entry.name_tokens
                coverage = sum(1 for t in name if t in union) / len(name) if name else 0.0
                score = tier + min(part + 0.44 * coverage, 0.998)
            item = (score, -doc)
            if len(top) < limit:
                heapq.heappush(top, item)
            elif item > top[0]:
                heapq.heapreplace(top, item)
        top.sort(reverse=True)
        return [(-neg_doc, score) for score, neg_doc in top]


def _has_phrase(entry: _Entry, phrase: Sequence[Collection[str]], anchor: int) -> bool:
    """True when the name or a keyword has a run whose k-th word is in ``phrase[k]``."""
    m = len(phrase)
    for tokens, positions in zip(entry.phrases, entry.phrase_positions):
        length = len(tokens)
        if length < m:
            continue
        for tok in phrase[anchor]:
            for p in positions.get(tok, ()):
                start = p - anchor
                if 0 <= start and start + m <= length and all(
                    tokens[start + k] in phrase[k] for k in range(m)
                ):
                    return True
    return False
