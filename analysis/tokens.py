"""Normalisation and tokenisation as small composable steps, and the
per-word rules of the preprocessing pipeline.

The pipeline itself runs on a prepared corpus's arrays
(:mod:`analysis.pipeline`); its steps, in the order the waterfall reports
them (:data:`STEPS`):

1. ``tokenized``: curly quotes and apostrophes straightened, words found,
   each word NFKC-normalised and lowercased; word tokens keep internal hyphens, apostrophes and digits
   (``7-hydroxymitragynine``, ``kr8tom``); a possessive ``'s`` is removed.
2. ``outline excluded``: tokens of blocks left out of counts (the outline
   bullets, unless ``include_outline``).
3. ``reused text masked`` (optional, ``mask_reuse``).
4. ``lemmatised`` (optional): dictionary lemmas from simplemma.
5. ``phrases joined`` (optional): collocations such as ``chronic pain``
   joined into one term (learned from this corpus).
6. ``numbers dropped``, ``stopwords removed`` (gensim's maintained list, and
   clitics such as ``we'll``), ``short tokens dropped``, ``corpus stopwords
   removed`` (``extra_stopwords`` from the config).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np
from analysis.config import Settings
from analysis.errors import AnalysisError
from analysis.structure import FORMAT_CHARACTERS, NO_FORMAT

QUOTES = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u02bc": "'", "\u2032": "'", "\u0060": "'",
    "\u00b4": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-",
})
_QUOTE_CHARACTERS = re.compile("[" + re.escape("".join(map(chr, QUOTES))) + "]")
# A format character inside a word is part of the token as written and left out of its form.
_INSIDE = f"(?:[{FORMAT_CHARACTERS}]+|[{FORMAT_CHARACTERS}]*['-][{FORMAT_CHARACTERS}]*)"
TOKEN_PATTERN = r"[^\W_]+(?:" + _INSIDE + r"[^\W_]+)*"
_TOKEN = re.compile(TOKEN_PATTERN)
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")
_CLITIC = re.compile(r"^[a-z]+'(?:ll|re|ve|d|m|t)$|n't$")

EXCLUDED_ROLES_DEFAULT = ("outline",)


def excluded_roles(settings: Settings) -> tuple[str, ...]:
    """Block roles left out of every count: the outline, unless ``include_outline``."""
    return () if settings.include_outline else EXCLUDED_ROLES_DEFAULT


def normalize(text: str) -> str:
    """NFKC, straight quotes and hyphens, lowercase.

    >>> normalize("Kratom\u2019s \u201cROLE\u201d")
    'kratom\\'s "role"'
    """
    return unicodedata.normalize("NFKC", text).translate(QUOTES).lower()


def strip_possessive(token: str) -> str:
    """Remove a possessive ``'s`` (``kratom's`` -> ``kratom``)."""
    return token[:-2] if token.endswith("'s") and len(token) > 2 else token


def tokenize(text: str) -> list[str]:
    """Word tokens of ``text``: normalised, possessives removed; the same tokens the prepared
    corpus counts (quotes straightened, the word pattern, then NFKC and lowercase per token).

    >>> tokenize("Kratom\u2019s 7-hydroxymitragynine, kr8tom and anti-inflammatory effects.")
    ['kratom', '7-hydroxymitragynine', 'kr8tom', 'and', 'anti-inflammatory', 'effects']
    """
    return [normalize_token(t) for t in raw_tokens(straighten(text))]


def straighten(text: str) -> str:
    """Curly quotes, apostrophes and hyphens made straight, one character for one (offsets stay valid)."""
    return text.translate(QUOTES) if _QUOTE_CHARACTERS.search(text) else text


def raw_tokens(straight: str, start: int = 0, end: int | None = None) -> list[str]:
    """Word tokens of ``straight[start:end]`` as written (see :func:`normalize_token`)."""
    return _TOKEN.findall(straight, start, len(straight) if end is None else end)


@functools.lru_cache(maxsize=1 << 18)
def normalize_token(raw: str) -> str:
    """A token as written, normalised: NFKC, lowercase, possessive removed.

    >>> normalize_token("Kratom's"), normalize_token("Kra\u00adtom")
    ('kratom', 'kratom')
    """
    return strip_possessive(unicodedata.normalize("NFKC", raw.translate(NO_FORMAT)).lower())


_POSSESSIVE_AT_LINE_END = re.compile(r"(?<=[^\n])'s$", re.MULTILINE)


def normalize_tokens(raw: Sequence[str]) -> list[str]:
    """:func:`normalize_token` of each token, computed on all of them at once.

    The tokens hold no line break, so normalising and lowercasing them joined
    by line breaks gives each token's own result (a line break blocks both
    NFKC composition and the final-sigma rule of lowercasing).

    >>> normalize_tokens(["Kratom's", "ΣΟΦΟΣ", "ﬁne"])
    ['kratom', 'σοφος', 'fine']
    """
    if not raw:
        return []
    joined = _POSSESSIVE_AT_LINE_END.sub("", unicodedata.normalize("NFKC", "\n".join(raw).translate(NO_FORMAT)).lower())
    normalized = joined.split("\n")
    if len(normalized) != len(raw):  # a compatibility character made a line break: one at a time
        return [normalize_token(t) for t in raw]
    return normalized


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """Normalised word tokens of ``text`` with their character span in ``text``.

    >>> token_spans("Kratom\u2019s ROLE")
    [('kratom', 0, 8), ('role', 9, 13)]
    """
    return [(normalize_token(m.group()), m.start(), m.end()) for m in _TOKEN.finditer(straighten(text))]


def token_offsets(text: str) -> np.ndarray:
    """Start and end offsets (tokens x 2) of the word tokens of ``text``: the spans of
    :func:`token_spans` without normalising the tokens.

    >>> token_offsets("Kratom\u2019s ROLE").tolist()
    [[0, 8], [9, 13]]
    """
    found = [m.span() for m in _TOKEN.finditer(straighten(text))]
    return np.array(found, dtype=np.int64).reshape(len(found), 2)


def split_sentences(text: str) -> list[str]:
    """Split on sentence punctuation followed by white space, and on newlines."""
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def tokenize_sentences(text: str) -> list[list[str]]:
    """Tokens per sentence; empty sentences are dropped."""
    return [tokens for tokens in (tokenize(s) for s in split_sentences(text)) if tokens]


def maintained_stopwords(name: str, language: str = "en") -> frozenset[str]:
    """The maintained stopword list called ``name`` for ``language`` (an ISO 639-1 code).

    - ``auto``: gensim's list for English, stopwords-iso's for any other language;
    - ``gensim``: ``gensim.parsing.preprocessing.STOPWORDS`` (337 English words);
    - ``iso``: the stopwords-iso list of ``language`` (58 languages, shipped in the
      ``stopwordsiso`` package: nothing is downloaded);
    - ``none``: no list.

    Raises
    ------
    AnalysisError
        For a language stopwords-iso does not cover, naming the ones it does.
    """
    if name == "none":
        return frozenset()
    if name == "gensim" or (name == "auto" and language == "en"):
        return _gensim_stopwords()
    import stopwordsiso

    if not stopwordsiso.has_lang(language):
        raise AnalysisError(f"setting 'language' {language!r}: no stopword list for it in stopwords-iso (it has "
                            f"{', '.join(sorted(stopwordsiso.langs()))}); set stopwords = \"none\" to count every word")
    return frozenset(normalize(word) for word in stopwordsiso.stopwords(language))


@functools.cache
def _gensim_stopwords() -> frozenset[str]:
    """gensim's ``STOPWORDS``, read from its source: importing gensim for a word list costs 0.7 s."""
    import ast
    import importlib.util

    try:
        package = importlib.util.find_spec("gensim")  # locates gensim without importing it
        source = Path(package.submodule_search_locations[0], "parsing", "preprocessing.py").read_text(encoding="utf-8")
        assignment = next(node for node in ast.parse(source).body if isinstance(node, ast.Assign)
                          and [getattr(t, "id", None) for t in node.targets] == ["STOPWORDS"])
        return frozenset(ast.literal_eval(assignment.value.args[0]))
    except (AttributeError, IndexError, OSError, StopIteration, TypeError, ValueError, SyntaxError):
        from gensim.parsing.preprocessing import STOPWORDS  # a gensim whose source is laid out differently

        return frozenset(STOPWORDS)


def is_clitic(token: str) -> bool:
    """Contractions such as ``we'll``, ``you're``, ``don't``: function words."""
    return bool(_CLITIC.search(token))


def word_flags(words: Sequence[str], stopwords: frozenset[str]) -> dict[str, np.ndarray]:
    """Per word: ``digit``, ``stopword``, ``clitic`` (as :func:`is_clitic`) and ``length``, as arrays.

    The vectorised form of the per-token tests, for whole vocabularies: each
    test is a C-level ``map`` over the words.

    >>> {k: v.tolist() for k, v in word_flags(["12", "the", "don't", "kratom"], frozenset({"the"})).items()}
    {'digit': [True, False, False, False], 'stopword': [False, True, False, False], 'clitic': [False, False, True, False], 'length': [2, 3, 5, 6]}
    """
    n = len(words)
    has_apostrophe = np.fromiter(map(str.__contains__, words, itertools.repeat("'")), dtype=bool, count=n)
    clitic = np.zeros(n, dtype=bool)
    candidates = np.flatnonzero(has_apostrophe)  # every clitic has an apostrophe
    clitic[candidates] = [is_clitic(words[i]) for i in candidates.tolist()]
    return {
        "digit": np.fromiter(map(str.isdigit, words), dtype=bool, count=n),
        "stopword": np.fromiter(map(stopwords.__contains__, words), dtype=bool, count=n),
        "clitic": clitic,
        "length": np.fromiter(map(len, words), dtype=np.int64, count=n),
    }


STEPS = (
    "tokenized",
    "outline excluded",
    "reused text masked",
    "lemmatised",
    "phrases joined",
    "numbers dropped",
    "stopwords removed",
    "short tokens dropped",
    "corpus stopwords removed",
)


class Preprocessor:
    """The per-word rules of ``settings``: stopwords, lemmas, counted blocks.

    Decided once per word type; :mod:`analysis.pipeline` applies them to a
    prepared corpus.

    Parameters
    ----------
    settings : Settings
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.extra_stopwords = frozenset(normalize(w) for w in settings.extra_stopwords)
        self.excluded_roles = excluded_roles(settings)
        self._lemma_cache: dict[str, str] = {}

    @cached_property
    def stopwords(self) -> frozenset[str]:
        """The maintained list less ``keep_words`` (loaded on first use: importing gensim takes a second)."""
        return (maintained_stopwords(self.settings.stopwords, self.settings.language)
                - {normalize(w) for w in self.settings.keep_words})

    @property
    def steps(self) -> tuple[str, ...]:
        """The steps this configuration runs, in order."""
        skip = set()
        if not self.settings.mask_reuse:
            skip.add("reused text masked")
        if not self.settings.lemmatize:
            skip.add("lemmatised")
        if not self.settings.phrases:
            skip.add("phrases joined")
        if not self.extra_stopwords:
            skip.add("corpus stopwords removed")
        return tuple(s for s in STEPS if s not in skip)

    def lemma(self, token: str) -> str:
        """The dictionary lemma of a normalised token (simplemma), cached."""
        lemma = self._lemma_cache.get(token)
        if lemma is None:
            import simplemma

            try:
                lemma = simplemma.lemmatize(token, lang=self.settings.language).lower()
            except ValueError:
                raise AnalysisError(f"setting 'language' {self.settings.language!r}: simplemma has no lemmas for "
                                    "it; turn lemmatize off") from None
            self._lemma_cache[token] = lemma
        return lemma

    def function_word_mask(self, words: Sequence[str]) -> np.ndarray:
        """:meth:`is_function_word` of every word, as a boolean array."""
        flags = word_flags(words, self.stopwords)
        return flags["stopword"] | flags["digit"] | flags["clitic"] | (flags["length"] < self.settings.min_token_length)

    def is_function_word(self, token: str) -> bool:
        """Stopwords, clitics, numbers and too-short tokens: never the edge of a term or n-gram."""
        return token in self.stopwords or token.isdigit() or is_clitic(token) or len(token) < self.settings.min_token_length
