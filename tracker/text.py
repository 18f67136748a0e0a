"""Folding names for search and duplicate detection.

"Aïssatou N'Diaye", "AISSATOU NDIAYE" and "aissatou ndiaye" fold to the same
text; common transliteration variants (Mohamed / Mohammed / Muhammad,
Fatoumata / Fatimata) get the same phonetic key.

Names written in Arabic script are transliterated first (the consonants, and the
long vowels Arabic writes), without the definite article "ال" ("الزهراء" is
"zhra"): "محمد" has the phonetic key of "Mohamed", "Mohammed" and "Muhammad". Short
vowels are not written in Arabic, so the key of an Arabic name can only be
compared with the key of a Latin one, not its letters: search and the duplicate
rule compare keys across scripts (``search_fields``, ``participants.duplicates``).
"""

from __future__ import annotations

import functools
import re
import unicodedata

from rapidfuzz import fuzz

# Arabic letters to Latin, as usually transcribed in Morocco and West Africa
_ARABIC = str.maketrans(
    {
        "ا": "a", "أ": "a", "إ": "i", "آ": "a", "ب": "b", "ت": "t", "ث": "th", "ج": "j",
        "ح": "h", "خ": "kh", "د": "d", "ذ": "dh", "ر": "r", "ز": "z", "س": "s", "ش": "ch",
        "ص": "s", "ض": "d", "ط": "t", "ظ": "z", "ع": "a", "غ": "gh", "ف": "f", "ق": "k",
        "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h", "ة": "a", "و": "ou", "ي": "i",
        "ى": "a", "ئ": "i", "ؤ": "ou", "ء": "",
    }
)  # fmt: skip
# spelling variants that sound alike, applied in order on folded text
_SOUNDS = [
    (re.compile(r"ou"), "u"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"kh"), "k"),
    (re.compile(r"dj"), "j"),
    (re.compile(r"[ck]"), "k"),
    (re.compile(r"y"), "i"),
    (re.compile(r"h"), ""),
    (re.compile(r"(.)\1+"), r"\1"),
]
_VOWELS = re.compile(r"(?<=.)[aeiou]")
_REPEATS = re.compile(r"(.)\1+")
ARABIC_LETTERS = re.compile(r"[\u0600-\u06ff\u0750-\u077f]")
# the Arabic definite article, joined to the word it defines ("العلوي")
_ARABIC_ARTICLE = re.compile(r"(?<![\u0600-\u06ff])ال(?=[\u0600-\u06ff]{2})")
# its Latin transcriptions as a word of their own or before a hyphen: "El Alaoui", "Al-Zahra"
_LATIN_ARTICLE = re.compile(r"(?i)(?<![^\W\d_])(?:el|al)[\s\-'’]+(?=[^\W\d_]{2})")


def is_arabic(text: str | None) -> bool:
    """Say whether ``text`` holds a letter of the Arabic script."""
    return bool(text) and ARABIC_LETTERS.search(text) is not None


@functools.lru_cache(maxsize=65536)
def fold(text: str | None) -> str:
    """Lower-case ``text`` without accents, apostrophes or repeated spaces."""
    if not text:
        return ""
    text = _ARABIC_ARTICLE.sub("", text).translate(_ARABIC)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"['’`\-]", "", text.casefold())
    return re.sub(r"[^0-9a-z@.+ ]+", " ", text).strip()


@functools.lru_cache(maxsize=65536)
def phonetic_key(name: str | None) -> str:
    """Return a key equal for common spellings of one name (Mohamed ~ Muhammad)."""
    words = []
    for word in fold(_LATIN_ARTICLE.sub("", name or "")).split():
        for pattern, replacement in _SOUNDS:
            word = pattern.sub(replacement, word)
        words.append(_REPEATS.sub(r"\1", _VOWELS.sub("", word)))
    return " ".join(words)


def digits(text: str | None) -> str:
    """Return only the digits of ``text`` (phone numbers compare on their digits)."""
    return re.sub(r"\D", "", text or "")


#: phone numbers compare on their last digits: "+212 6 12 34 56 78" is "0612345678"
PHONE_KEY_DIGITS = 9
#: fewer digits than this is no phone number to compare (an extension, a typo)
PHONE_KEY_MIN_DIGITS = 8


def phone_key(phone: str | None) -> str:
    """Return the last 9 digits of a phone number, or "" when it has fewer than 8."""
    number = digits(phone)[-PHONE_KEY_DIGITS:]
    return number if len(number) >= PHONE_KEY_MIN_DIGITS else ""


@functools.lru_cache(maxsize=65536)
def _name_fields(given_name: str, family_name: str) -> tuple[str, str]:
    names = f"{given_name} {family_name}"
    return fold(names), name_key(names)


@functools.lru_cache(maxsize=65536)
def name_key(full_name: str) -> str:
    """Return the phonetic key of a full name, its words sorted: "Ndiaye Awa" = "Awa N'Diaye"."""
    return " ".join(sorted(phonetic_key(full_name).split()))[:240]


def sound_token(word: str, *, of_script: bool | None = None) -> str:
    """Return the search token of one name word's phonetic key, marked with its script.

    ``=md=`` for a word written in Arabic ("محمد"), ``~md~`` for one in Latin letters
    ("Mohamed"): a search in one script finds names of the other by these tokens, and
    names of its own script by their letters. ``of_script`` asks for the token the
    other script's words carry (what a search looks for).
    """
    key = phonetic_key(word)
    if not key:
        return ""
    arabic = is_arabic(word)
    if of_script is not None:
        arabic = not arabic
    return f"={key}=" if arabic else f"~{key}~"


def search_fields(
    given_name: str,
    family_name: str,
    code: str,
    phone: str | None,
    email: str | None,
    other_name: str | None = None,
) -> dict[str, str]:
    """Return the derived columns of a participant that search and duplicate checks read.

    ``search_text`` (folded names, the name in the other script, code, phone digits,
    e-mail, then the phonetic token of each name word, see ``sound_token``),
    ``name_key`` (the phonetic key that blocks the duplicate check) and ``phone_key``.
    Every path that writes participants (the ORM hook, the importer, the synthetic
    generator) uses it. Names repeat across thousands of people, so their folded form
    and key are cached.
    """
    folded, key = _name_fields(given_name or "", family_name or "")
    words = f"{given_name or ''} {family_name or ''} {other_name or ''}".split()
    sounds = " ".join(dict.fromkeys(t for t in map(sound_token, words) if t))
    parts = (folded, fold(other_name), fold(code), digits(phone), fold(email), sounds)
    return {
        "search_text": " ".join(part for part in parts if part),
        "name_key": key,
        "phone_key": phone_key(phone),
    }


def name_similarity(a: str, b: str, at_least: float = 0.0) -> float:
    """Return how alike two full names are, 0..1, after folding; word order ignored.

    The better of the folded spellings' and the phonetic keys' similarity (the
    normalised Indel distance, as difflib's ratio). With ``at_least``, a pair that
    cannot reach it returns 0.0 as soon as that is known: a bulk duplicate check
    compares each row with every name of the same birth date.
    """
    fa, fb = _sorted_words(a), _sorted_words(b)
    if not fa or not fb:
        return 0.0
    cutoff = at_least * 100
    plain = fuzz.ratio(fa, fb, score_cutoff=cutoff)
    ka, kb = phonetic_key(fa), phonetic_key(fb)
    sounds = fuzz.ratio(ka, kb, score_cutoff=cutoff) if ka and kb else 0.0
    return max(plain, sounds) / 100


@functools.lru_cache(maxsize=65536)
def _sorted_words(name: str) -> str:
    return " ".join(sorted(fold(name).split()))


# Characters no stored text may hold: C0 controls but tab and line feed, DEL, the C1
# controls, and lone surrogates (no encoding can store them). The importer and every
# form refuse them, so that what one accepts, the other accepts too.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_PHONE = re.compile(r"\+?[0-9 ().\-/]{6,}")


def has_control_characters(text: str) -> bool:
    """Say whether ``text`` holds a character no stored text may hold (NUL, ESC, ...)."""
    return _CONTROL.search(text) is not None


#: what a name shown to people may not hold: controls (Cc), format characters (Cf: the
#: bidirectional overrides, embeddings, isolates and marks, the soft hyphen, the BOM),
#: surrogates, line and paragraph separators
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: format characters some scripts need inside a word: zero-width non-joiner and joiner
_JOINERS = frozenset("\u200c\u200d")


def visible_text(text: str) -> str:
    """Return ``text`` without invisible characters that change how the rest reads.

    A right-to-left override (U+202E) shows "report\u202excs.csv" as "reportvsc.scx";
    such characters are dropped by their Unicode category, not from a list, so that
    none is forgotten. Arabic letters stay, and so do the joiners (U+200C, U+200D).
    """
    return "".join(c for c in text if c in _JOINERS or unicodedata.category(c) not in _INVISIBLE)


def is_phone_number(text: str) -> bool:
    """Say whether ``text`` is a phone number as written: at least 6 digits, spaces, + ( ) . - /."""
    return _PHONE.fullmatch(text) is not None and sum(c.isdigit() for c in text) >= 6
