"""Accent folding for Vietnamese text.

``fold`` turns any spelling of a Vietnamese phrase into one plain ASCII-ish key:
"Đăng ký khai sinh", "dang ky khai sinh", "DANG KY KHAI SINH" and "dăng ky khai sinh"
all fold to ``"dang ky khai sinh"``. It works on precomposed (NFC) and decomposed (NFD)
input alike, and the old and new tone placements ("hoà" / "hòa") fold the same.

``search_tokens`` goes one step further for matching: it splits the folded text into
words and spells the i/y variants of a syllable one way ("ký" / "kí" -> ``ki``), so an
index and a query built with it agree however the user was taught to spell.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "search_tokens", "normalize_token"]

# Letters that do not decompose under Unicode normalisation but that people type (or
# that converters produce) for the Vietnamese d-with-stroke: đ Đ, and the look-alikes
# ð Ð (Icelandic eth, common after a bad TCVN3/VNI conversion), ɖ Ɖ (African d).
_D_TABLE = str.maketrans({
    "\u0111": "d",
    "\u0110": "d",
    "\u00f0": "d",
    "\u00d0": "d",
    "\u0256": "d",
    "\u0189": "d",
})

# Anything that is not a letter or a digit (punctuation, symbols, control characters,
# underscores, every kind of space) separates words.
_SEPARATORS = re.compile(r"[\W_]+")

# A syllable made of an initial consonant (cluster) and a final "y" is spelled with "i"
# as well: ký/kí, lý/lí, mỹ/mĩ, quý/quí, hy/hi, tỷ/tỉ. Both are folded to the "i" form.
_Y_FINAL = re.compile(r"^(b|c|ch|d|g|gh|gi|h|k|kh|l|m|n|ng|ngh|nh|p|ph|qu|r|s|t|th|tr|v|x)y$")


def fold(text: str) -> str:
    """Fold ``text`` to lower-case, accent-free words separated by single spaces.

    Steps: đ/Đ (and look-alikes) -> d; case-fold; Unicode NFKD (a superset of NFD that
    also turns full-width letters and ligatures into plain ones); drop every combining
    mark (tones, breve, circumflex, horn); every run of punctuation, symbols, control
    characters and whitespace becomes one space; leading and trailing spaces go.

    Anything that is not a ``str`` folds to ``""``.
    """
    if not isinstance(text, str) or not text:
        return ""
    lowered = text.translate(_D_TABLE).casefold()
    decomposed = unicodedata.normalize("NFKD", lowered)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SEPARATORS.sub(" ", stripped).strip()


def normalize_token(token: str) -> str:
    """Spell one already folded word the way the search index does (y/i variants)."""
    if token.endswith("y") and _Y_FINAL.match(token):
        return token[:-1] + "i"
    return token


def search_tokens(text: str) -> list[str]:
    """Fold ``text`` and return its words as the search index spells them."""
    folded = fold(text)
    if not folded:
        return []
    return [normalize_token(t) for t in folded.split(" ")]
