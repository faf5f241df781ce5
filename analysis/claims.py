"""Health claims: what texts say about risks, benefits and advice, and how strongly.

Every sentence (:func:`analysis.tokens.split_sentences`) of the counted blocks
is matched against editable lexicons (``analysis/data/lexicons/*.txt``, see
:func:`load_lexicons`) on normalised tokens and simplemma lemmas, so case,
curly quotes, a possessive ``'s`` and inflections do not matter ("alleviates"
matches ``alleviate``). The outline bullets are left out by default: they
repeat the headings. Every occurrence of a lexicon term is one row of
:func:`tag_claims`:

- ``risk``, ``benefit``, ``advice``: claims, each with a polarity
  (``asserted``, ``hedged`` or ``negated``);
- ``hedge``, ``booster``: stance markers (Hyland 2005). They decide how
  strongly the claims of their clause are made, and :func:`hedging_density`
  counts them; their own polarity is always ``asserted``.

Matching
    Three layers are matched separately, and within each the longest match
    wins: cues (negations, reducers, pseudo-negations, scope breaks: "not only"
    beats "not"), claims (risk, benefit and advice terms compete, with their
    stop phrases: "hyperpigmentation treatment" is a benefit, not a risk) and
    markers ("believed to" is a hedge, not the booster "believe"). A claim term
    inside a cue is dropped ("risk" in "lower risk of").

Clauses
    A sentence is cut into clauses at ``, ; : ( ) [ ]`` and dashes, and before a
    scope break (but, however, although, while, which ...). A comma does not end
    the clause inside a list of terms: when a claim term ends right before it,
    one of the same category starts right after it (after an optional
    "and"/"or"), and that item is at most three words long or is the last one,
    introduced by "and"/"or" ("without sedation, euphoria, or respiratory
    issues seen with opioids" negates all three).

Polarity of a claim
    ``negated``: a negation cue (no, not, never, without, cannot, isn't ...) or
    a reducer (lower risk of, reduced risk of, free from, less ...) comes before
    the term in its clause, or the term carries a negating affix
    ("non-addictive", "addiction-free"). Two negation cues at most two words
    apart cancel each other: "not without risks" asserts the risks.

    ``hedged``: not negated, and a hedge in the same clause comes before the
    term ("may lead to dependence"), or after it within two words, not
    counting other terms of a list and "and"/"or", with no cue between (its
    subject: "side effects may occur", but not "caution due to variable effects
    and potential adverse reactions"). "can" counts as a hedge (possibility),
    so "can cause nausea" is hedged, like "could" and "may"; the tagger cannot
    tell possibility from ability ("individuals can navigate dosage").

    ``asserted``: otherwise. A booster does not change it ("clearly causes
    dependence" is asserted), but it is listed as the row's cue.

    Negation wins over hedging: "may not cause addiction" is negated.

Terms that are not claims of their own
    An umbrella term followed by of/like/such as/including and, within two
    words, a term of the same category gives only the specific term ("side
    effects such as nausea" gives nausea; "the risk of dependency" gives
    dependency). A risk term right after a benefit term in the same clause (at
    most three words between, no cue) is the condition the benefit acts on,
    not a risk ("relief from withdrawal effects").

Examples
--------
>>> table = tag_text("Kratom provides analgesia without addiction.")
>>> table[["category", "term", "polarity", "cue"]].values.tolist()
[['benefit', 'analgesia', 'asserted', ''], ['risk', 'addiction', 'negated', 'without']]
>>> table = tag_text("Kratom is not without its potential side effects.")
>>> table[["category", "term", "polarity", "cue"]].values.tolist()
[['hedge', 'potential', 'asserted', ''], ['risk', 'side effects', 'hedged', 'not without; potential']]

Known limits: who a claim is about is not resolved ("concerns over opioid ...
dependency risks" in a kratom article gives a dependence and a risk row); a
negation after the term is not
seen ("addiction is not a risk"); a hedge before a term reaches it anywhere
in the clause, also when it modifies something else ("potential side effects
and the risk of dependency" hedges dependency too).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.corpus import Document
from analysis.errors import AnalysisError
from analysis.parallel import map_in_processes
from analysis.prepared import chunked
from analysis.structure import ROLES
from analysis.tokens import EXCLUDED_ROLES_DEFAULT, normalize, split_sentences, token_spans, tokenize

CLAIM_CATEGORIES = ("risk", "benefit", "advice")
MARKER_CATEGORIES = ("hedge", "booster")
CATEGORIES = CLAIM_CATEGORIES + MARKER_CATEGORIES
POLARITIES = ("asserted", "hedged", "negated")
CUE_LISTS = ("negation", "reducer", "pseudo_negation", "scope_break")
LEXICON_FILES = {
    "risk": "risk.txt",
    "benefit": "benefit.txt",
    "advice": "advice.txt",
    "hedge": "hedges.txt",
    "booster": "boosters.txt",
    "negation": "negation.txt",
    "reducer": "risk_reducers.txt",
    "pseudo_negation": "pseudo_negation.txt",
    "scope_break": "scope_breaks.txt",
}
CLAIM_COLUMNS = ["doc_id", "block", "block_role", "section", "sentence_index", "sentence", "category", "term",
                 "matched", "char_start", "polarity", "cue"]
QUANTITY_COLUMNS = ["doc_id", "block", "block_role", "section", "sentence_index", "sentence", "text", "low", "high",
                    "unit", "kind", "char_start"]

_COMMENT = re.compile(r"(?:^|\s)#.*$")
_CLAUSE_PUNCT = re.compile(r"[,;:()\[\]\u2013\u2014]|\s-\s")
_LIST_ITEM_WORDS = 3
_HEDGE_REACH_BACK = 2
_UMBRELLA_LINKS = (("of",), ("like",), ("such", "as"), ("including",))
_UMBRELLA_GAP = 2
_TREATED_GAP = 3
_DOUBLE_NEGATION_GAP = 2


# -- lexicons -----------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One lexicon line.

    Attributes
    ----------
    words : tuple of str
        Normalised words matched in sequence; a word ending in ``*`` matches
        every token that starts with the rest.
    term : str
        The term a match is reported as; ``""`` for a stop phrase (it is
        matched, so it wins over shorter terms, and then dropped).
    """

    words: tuple[str, ...]
    term: str


@dataclass(frozen=True)
class Lexicons:
    """The word lists the tagger uses, one tuple of :class:`Entry` per list.

    Build it with :func:`load_lexicons`. ``sources`` names the file each list
    was read from; ``negation_prefixes``/``negation_suffixes`` are the affix
    entries of the negation list (``non-``, ``-free``).
    """

    risk: tuple[Entry, ...]
    benefit: tuple[Entry, ...]
    advice: tuple[Entry, ...]
    hedge: tuple[Entry, ...]
    booster: tuple[Entry, ...]
    negation: tuple[Entry, ...]
    reducer: tuple[Entry, ...]
    pseudo_negation: tuple[Entry, ...]
    scope_break: tuple[Entry, ...]
    negation_prefixes: tuple[str, ...] = ()
    negation_suffixes: tuple[str, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)
    _by_first_word: dict = field(init=False, repr=False, compare=False)
    _candidates: dict = field(init=False, repr=False, compare=False)  # (list, token) -> entries

    def __post_init__(self) -> None:
        # Per list: entries by the lookup key of their first word, and entries starting with a wildcard.
        index = {}
        for name in LEXICON_FILES:
            keyed: dict[str, list[Entry]] = {}
            wildcards = []
            for entry in getattr(self, name):
                first = entry.words[0]
                if first.endswith("*"):
                    wildcards.append(entry)
                else:
                    keyed.setdefault(_lookup_key(first), []).append(entry)
            index[name] = (keyed, wildcards)
        object.__setattr__(self, "_by_first_word", index)
        object.__setattr__(self, "_candidates", {})

    def candidates(self, name: str, token: str) -> list[Entry]:
        """Entries of list ``name`` whose first word may match ``token`` (worked out once per token)."""
        found = self._candidates.get((name, token))
        if found is None:
            keyed, wildcards = self._by_first_word[name]
            keys = {token, _lookup_key(token)}
            found = [e for key in sorted(keys) for e in keyed.get(key, ())] + wildcards
            self._candidates[(name, token)] = found
        return found

    def sizes(self) -> pd.DataFrame:
        """Entries per list: ``list, file, terms, stop_phrases, source``."""
        rows = []
        for name, file in LEXICON_FILES.items():
            entries = getattr(self, name)
            stops = sum(not e.term for e in entries)
            extra = len(self.negation_prefixes) + len(self.negation_suffixes) if name == "negation" else 0
            rows.append([name, file, len(entries) - stops + extra, stops, self.sources.get(name, "")])
        return pd.DataFrame(rows, columns=["list", "file", "terms", "stop_phrases", "source"])


def _entry_words(phrase: str) -> tuple[str, ...]:
    """Normalised words of an entry; ``word*`` and affixes (``non-``, ``-free``) are kept as written."""
    words: list[str] = []
    for word in phrase.split():
        if len(word) > 1 and (word.endswith(("*", "-")) or word.startswith("-")):
            words.append(normalize(word))
        else:
            words.extend(tokenize(word))
    return tuple(words)


def parse_lexicon(text: str, source: str) -> tuple[Entry, ...]:
    """Read the entries of one lexicon file (format in its header comment).

    Parameters
    ----------
    text : str
        The file's text.
    source : str
        Its name, for error messages.

    Raises
    ------
    AnalysisError
        When a line cannot be read or the file has no entries.

    Examples
    --------
    >>> parse_lexicon("# risks\\naddictive = addiction\\nside effects\\n!opioid withdrawal", "risk.txt")
    (Entry(words=('addictive',), term='addiction'), Entry(words=('side', 'effects'), term='side effects'), \
Entry(words=('opioid', 'withdrawal'), term=''))
    """
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _COMMENT.sub("", raw).strip()
        if not line:
            continue
        stop = line.startswith("!")
        phrase, equals, term = line.lstrip("!").partition("=")
        words = _entry_words(phrase)
        if not words or (equals and (stop or not tokenize(term))):
            raise AnalysisError(
                f"{source}, line {number}: cannot read {raw.strip()!r} "
                "(expected words, 'words = term' or '!words')"
            )
        entries.append(Entry(words, "" if stop else " ".join(tokenize(term)) if equals else " ".join(words)))
    if not entries:
        raise AnalysisError(f"{source}: no entries (expected one term or phrase per line)")
    return tuple(entries)


def _read_lexicon(name: str, lexicon_dir: Path | None) -> tuple[tuple[Entry, ...], str]:
    file = LEXICON_FILES[name]
    user_file = lexicon_dir / file if lexicon_dir is not None else None
    try:
        if user_file is not None and user_file.exists():
            return parse_lexicon(user_file.read_text(encoding="utf-8"), str(user_file)), str(user_file)
        shipped = resources.files("analysis") / "data" / "lexicons" / file
        return parse_lexicon(shipped.read_text(encoding="utf-8"), f"analysis/data/lexicons/{file}"), "shipped"
    except (OSError, UnicodeDecodeError) as exc:
        where = user_file if user_file is not None and user_file.exists() else f"analysis/data/lexicons/{file}"
        reason = "not valid UTF-8" if isinstance(exc, UnicodeDecodeError) else exc.strerror or type(exc).__name__
        raise AnalysisError(f"{where}: cannot read lexicon ({reason})") from None


def load_lexicons(lexicon_dir: str | Path | None = None) -> Lexicons:
    """Load the tagger's word lists.

    Parameters
    ----------
    lexicon_dir : path, optional
        A folder of lexicon files named as in :data:`LEXICON_FILES`
        (``hedges.txt``, ``risk.txt`` ...). A file present there replaces the
        shipped list of the same name; the other lists stay as shipped.

    Returns
    -------
    Lexicons

    Raises
    ------
    AnalysisError
        When ``lexicon_dir`` is not a folder, or a file is unreadable, not
        UTF-8, empty or has a line that cannot be read (the message names the
        file and line).

    Examples
    --------
    >>> lexicons = load_lexicons()
    >>> Entry(("side", "effect"), "side effects") in lexicons.risk
    True
    """
    folder = Path(lexicon_dir) if lexicon_dir is not None else None
    if folder is not None and not folder.is_dir():
        expected = ", ".join(LEXICON_FILES.values())
        raise AnalysisError(f"{folder}: lexicon folder not found (expected a folder of {expected})")
    lists, sources = {}, {}
    for name in LEXICON_FILES:
        lists[name], sources[name] = _read_lexicon(name, folder)
    affixes = [e.words[0] for e in lists["negation"] if e.words[0].startswith("-") or e.words[0].endswith("-")]
    lists["negation"] = tuple(e for e in lists["negation"] if e.words[0] not in affixes)
    return Lexicons(
        **lists,
        negation_prefixes=tuple(a for a in affixes if a.endswith("-")),
        negation_suffixes=tuple(a for a in affixes if a.startswith("-")),
        sources=sources,
    )


@functools.lru_cache(maxsize=1)
def _shipped_lexicons() -> Lexicons:
    return load_lexicons()


# -- matching -----------------------------------------------------------------
@functools.lru_cache(maxsize=65536)
def _lemma(token: str) -> str:
    import simplemma

    return simplemma.lemmatize(token, lang="en").lower()


def _lookup_key(word: str) -> str:
    return word if "'" in word else _lemma(word)


def _word_matches(word: str, token: str) -> bool:
    """Same form, same prefix (``word*``) or same lemma; contractions ("isn't") only
    as written, since their lemma is the bare verb ("be")."""
    if word.endswith("*"):
        return token.startswith(word[:-1])
    return token == word or ("'" not in word and "'" not in token and _lemma(token) == _lemma(word))


@dataclass(frozen=True)
class _Match:
    start: int  # token indexes, end exclusive
    end: int
    kind: str  # a category or cue list name
    term: str  # "" for a stop phrase
    affix: str = ""  # a negating affix carried by the token ("non-")

    @property
    def length(self) -> int:
        return self.end - self.start


def _find(tokens: list[str], kinds: Iterable[str], lexicons: Lexicons) -> list[_Match]:
    """Every match of the entries of ``kinds`` in ``tokens``, overlapping ones included."""
    found = []
    for kind in kinds:
        for i, token in enumerate(tokens):
            for entry in lexicons.candidates(kind, token):
                n = len(entry.words)
                if i + n <= len(tokens) and all(_word_matches(w, t) for w, t in zip(entry.words, tokens[i:i + n])):
                    found.append(_Match(i, i + n, kind, entry.term))
    return found


def _affixed(tokens: list[str], kinds: Iterable[str], lexicons: Lexicons) -> list[_Match]:
    """One-word terms behind a negating affix: ``non-addictive``, ``addiction-free``."""
    found = []
    for i, token in enumerate(tokens):
        stems = [(token[len(p):], p) for p in lexicons.negation_prefixes if token.startswith(p) and len(token) > len(p)]
        stems += [(token[:-len(s)], s) for s in lexicons.negation_suffixes if token.endswith(s) and len(token) > len(s)]
        for stem, affix in stems:
            for match in _find([stem], kinds, lexicons):
                if match.length == 1:
                    found.append(_Match(i, i + 1, match.kind, match.term, affix))
    return found


def _longest_first(matches: list[_Match], order: tuple[str, ...]) -> list[_Match]:
    """Non-overlapping matches, the longest first (then the earliest, then by ``order``);
    stop phrases take part and are dropped afterwards."""
    ranked = sorted(matches, key=lambda m: (-m.length, m.start, order.index(m.kind)))
    taken: set[int] = set()
    kept = []
    for match in ranked:
        span = set(range(match.start, match.end))
        if not span & taken:
            taken |= span
            kept.append(match)
    return sorted((m for m in kept if m.term), key=lambda m: m.start)


@dataclass
class _Sentence:
    """A sentence's tokens, matches and clause of every token."""

    text: str
    spans: list[tuple[str, int, int]]
    cues: list[_Match]
    claims: list[_Match]
    markers: list[_Match]
    clause: list[int]

    def surface(self, start: int, end: int) -> str:
        """The text of tokens ``start`` to ``end`` (exclusive), as written."""
        return self.text[self.spans[start][1]:self.spans[end - 1][2]]


def _clauses(text: str, spans: list[tuple[str, int, int]], claims: list[_Match], breaks: list[_Match]) -> list[int]:
    """The clause number of every token (see the module docstring)."""
    n = len(spans)
    gaps = [text[spans[t - 1][2]:spans[t][1]] for t in range(1, n)]  # gaps[t - 1] is before token t
    hard = {t for t in range(1, n) if _CLAUSE_PUNCT.search(gaps[t - 1])}
    break_starts = {m.start for m in breaks}
    kind_starting = {m.start: m.kind for m in claims}
    kind_ending = {m.end: m.kind for m in claims}

    def continues_list(t: int) -> bool:
        conjunction = spans[t][0] in ("and", "or")
        first = t + 1 if conjunction else t
        end = next((u for u in range(first + 1, n) if u in hard or u in break_starts), n)
        same_kind = kind_ending.get(t) is not None and kind_ending.get(t) == kind_starting.get(first)
        return same_kind and (conjunction or end - first <= _LIST_ITEM_WORDS)

    clause, current = [0] * n, 0
    for t in range(1, n):
        comma_only = gaps[t - 1].strip() == ","
        if t in break_starts or (t in hard and not (comma_only and continues_list(t))):
            current += 1
        clause[t] = current
    return clause


def _drop_non_claims(claims: list[_Match], cues: list[_Match], tokens: list[str], clause: list[int]) -> list[_Match]:
    """Drop umbrella terms and treated conditions (see the module docstring)."""
    negators = [c for c in cues if c.kind in ("negation", "reducer")]
    kept = []
    for match in claims:
        umbrella = any(
            other.kind == match.kind and other.start > match.end
            and tuple(tokens[match.end:match.end + len(link)]) == link
            and other.start - (match.end + len(link)) <= _UMBRELLA_GAP
            and clause[other.start] == clause[match.start]
            for link in _UMBRELLA_LINKS for other in claims
        )
        treated = match.kind == "risk" and any(
            other.kind == "benefit" and other.end <= match.start and match.start - other.end <= _TREATED_GAP
            and clause[other.start] == clause[match.start]
            and not any(other.end <= c.start < match.start for c in negators)
            for other in claims
        )
        if not umbrella and not treated:
            kept.append(match)
    return kept


def _analyse(text: str, lexicons: Lexicons) -> _Sentence:
    spans = token_spans(text)
    tokens = [t for t, _, _ in spans]
    cues = _longest_first(_find(tokens, CUE_LISTS, lexicons), CUE_LISTS)
    cue_tokens = {i for c in cues for i in range(c.start, c.end)}
    claims = _longest_first(
        _find(tokens, CLAIM_CATEGORIES, lexicons) + _affixed(tokens, CLAIM_CATEGORIES, lexicons), CLAIM_CATEGORIES)
    claims = [m for m in claims if not cue_tokens & set(range(m.start, m.end))]
    markers = _longest_first(_find(tokens, MARKER_CATEGORIES, lexicons), MARKER_CATEGORIES)
    clause = _clauses(text, spans, claims, [c for c in cues if c.kind == "scope_break"])
    claims = _drop_non_claims(claims, cues, tokens, clause)
    return _Sentence(text, spans, cues, claims, markers, clause)


def _hedge_reaches(sentence: _Sentence, hedge: _Match, claim: _Match) -> bool:
    """A hedge in the claim's clause reaches it when it comes first, or when it follows
    within :data:`_HEDGE_REACH_BACK` words (other claim terms and "and"/"or" not
    counted) and no cue is between: "side effects may occur", but not "caution due
    to ... potential adverse reactions"."""
    if hedge.start < claim.start:
        return True
    between = set(range(claim.end, hedge.start))
    claimed = {i for m in sentence.claims for i in range(m.start, m.end)}
    words = [i for i in between - claimed if sentence.spans[i][0] not in ("and", "or")]
    return len(words) <= _HEDGE_REACH_BACK and not any(c.start in between for c in sentence.cues)


def _polarity(sentence: _Sentence, claim: _Match) -> tuple[str, str]:
    """``(polarity, cue)`` of one claim (see the module docstring)."""
    clause = sentence.clause[claim.start]
    same_clause = [m for m in sentence.cues + sentence.markers if sentence.clause[m.start] == clause]
    negators = [c for c in same_clause if c.kind in ("negation", "reducer") and c.end <= claim.start]
    cancelled: list[tuple[_Match, _Match]] = []
    for first, second in zip(negators, negators[1:]):
        if first.kind == "negation" and second.start - first.end <= _DOUBLE_NEGATION_GAP \
                and not any(first in pair for pair in cancelled):
            cancelled.append((first, second))
    paired = {m for pair in cancelled for m in pair}
    active = [sentence.surface(c.start, c.end) for c in negators if c not in paired]
    if claim.affix:
        active.append(claim.affix)
    double = [sentence.surface(a.start, b.end) for a, b in cancelled]
    hedges = [sentence.surface(m.start, m.end) for m in same_clause
              if m.kind == "hedge" and _hedge_reaches(sentence, m, claim)]
    boosters = [sentence.surface(m.start, m.end) for m in same_clause if m.kind == "booster"]
    if active:
        return "negated", "; ".join(normalize(c) for c in active)
    if hedges:
        return "hedged", "; ".join(normalize(c) for c in double + hedges)
    return "asserted", "; ".join(normalize(c) for c in double + boosters)


def _sentence_rows(text: str, lexicons: Lexicons) -> list[list]:
    """``category, term, matched, char_start, polarity, cue`` of every match in a sentence."""
    sentence = _analyse(text, lexicons)
    rows = []
    for match in sentence.claims + sentence.markers:
        polarity = _polarity(sentence, match) if match.kind in CLAIM_CATEGORIES else ("asserted", "")
        rows.append([match.kind, match.term, sentence.surface(match.start, match.end), sentence.spans[match.start][1],
                     *polarity])
    return sorted(rows, key=lambda r: (r[3], CATEGORIES.index(r[0])))


# -- tagging ------------------------------------------------------------------
_TAG_CHUNK = 500  # documents per task of the parallel tagger


def _sentences(corpus: Iterable[Document], excluded_roles: Iterable[str]):
    """``(doc, block, sentence_index, sentence)`` of every counted sentence, in reading order."""
    excluded = set(excluded_roles)
    for doc in corpus:
        for block in doc.blocks:
            if block.role in excluded:
                continue
            for index, sentence in enumerate(split_sentences(block.text)):
                yield doc, block, index, sentence


def tag_claims(
    corpus: Iterable[Document], lexicons: Lexicons | None = None, *,
    excluded_roles: Iterable[str] = EXCLUDED_ROLES_DEFAULT, jobs: int = 1,
) -> pd.DataFrame:
    """Every risk, benefit and advice claim and every hedge and booster, sentence by sentence.

    Parameters
    ----------
    corpus : iterable of Document
    lexicons : Lexicons, optional
        :func:`load_lexicons` (default: the shipped lists).
    excluded_roles : iterable of str, default ("outline",)
        Block roles left out (the outline repeats the headings).
    jobs : int, default 1
        Worker processes tagging chunks of documents; the table is the same for any number.

    Returns
    -------
    DataFrame
        One row per term occurrence, in reading order:

        - ``doc_id``, ``block`` (index in the document), ``block_role``,
          ``section``, ``sentence_index`` (in the block), ``sentence``;
        - ``category``: risk, benefit, advice, hedge or booster;
        - ``term``: the lexicon term (variants grouped, e.g. ``addictive`` ->
          ``addiction``); ``matched``: the text as written; ``char_start``: its
          offset in ``sentence``;
        - ``polarity``: asserted, hedged or negated (always asserted for
          hedges and boosters);
        - ``cue``: the words behind the polarity, normalised, ``; ``-separated
          (negation and reducer cues of a negated claim, hedges of a hedged one,
          boosters of an asserted one; a cancelled double negation as
          ``not without``).

    Examples
    --------
    >>> doc = Document("a", "Long-term use can lead to dependence. Kratom is clearly not addictive.", "a")
    >>> tag_claims([doc])[["sentence_index", "category", "term", "polarity", "cue"]].values.tolist()
    [[0, 'hedge', 'can', 'asserted', ''], [0, 'risk', 'dependence', 'hedged', 'can'], \
[1, 'booster', 'clearly', 'asserted', ''], [1, 'risk', 'addiction', 'negated', 'not']]
    """
    lexicons = lexicons if lexicons is not None else _shipped_lexicons()

    def tag(documents: list[Document]) -> list[list]:
        return [[doc.doc_id, block.index, block.role, block.section, index, sentence, *row]
                for doc, block, index, sentence in _sentences(documents, excluded_roles)
                for row in _sentence_rows(sentence, lexicons)]

    chunks = list(chunked(corpus, _TAG_CHUNK))
    rows = [row for part in map_in_processes(tag, chunks, jobs=jobs) for row in part]
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS).astype(
        {"block": int, "sentence_index": int, "char_start": int})


def tag_text(text: str, lexicons: Lexicons | None = None) -> pd.DataFrame:
    """:func:`tag_claims` of a free text (every block counted), for trying rules out.

    >>> tag_text("Kratom may alleviate pain.")[["category", "term", "polarity"]].values.tolist()
    [['hedge', 'may', 'asserted'], ['benefit', 'alleviate', 'hedged']]
    """
    return tag_claims([Document("text", text, "text")], lexicons, excluded_roles=())


# -- quantities ---------------------------------------------------------------
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_TIMES_WORDS = {"once": 1, "twice": 2, "thrice": 3}
_UNITS = {  # spelling -> (unit, kind)
    **{s: ("gram", "dose") for s in ("g", "gram", "grams", "gm", "gms")},
    **{s: ("milligram", "dose") for s in ("mg", "milligram", "milligrams")},
    **{s: ("microgram", "dose") for s in ("mcg", "\u00b5g", "\u03bcg", "microgram", "micrograms")},
    **{s: ("kilogram", "dose") for s in ("kg", "kilogram", "kilograms")},
    **{s: ("milliliter", "dose") for s in ("ml", "milliliter", "milliliters", "millilitre", "millilitres")},
    **{s: ("teaspoon", "dose") for s in ("tsp", "teaspoon", "teaspoons")},
    **{s: ("tablespoon", "dose") for s in ("tbsp", "tablespoon", "tablespoons")},
    **{s: ("capsule", "dose") for s in ("capsule", "capsules")},
    **{s: ("tablet", "dose") for s in ("tablet", "tablets")},
    **{s: ("second", "duration") for s in ("second", "seconds", "sec", "secs")},
    **{s: ("minute", "duration") for s in ("minute", "minutes", "min", "mins")},
    **{s: ("hour", "duration") for s in ("hour", "hours", "hr", "hrs", "h")},
    **{s: ("day", "duration") for s in ("day", "days")},
    **{s: ("week", "duration") for s in ("week", "weeks", "wk", "wks")},
    **{s: ("month", "duration") for s in ("month", "months")},
    **{s: ("year", "duration") for s in ("year", "years", "yr", "yrs")},
    **{s: ("percent", "percentage") for s in ("%", "percent", "per cent")},
}
_PERIODS = {"day": "day", "daily": "day", "week": "week", "weekly": "week", "month": "month", "monthly": "month"}
_NUM = r"(?:\d+(?:\.\d+)?|(?:" + "|".join(_NUMBER_WORDS) + r")\b)"  # "eight h", never "eighth"
_UNIT = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
_OPEN_LOW = ("up to", "at most", "less than", "no more than", "under")
_OPEN_HIGH = ("more than", "over", "at least", "longer than", "greater than")
_AMOUNT = re.compile(
    rf"(?<![\w.\-])(?:(?P<qualifier>{'|'.join(_OPEN_LOW + _OPEN_HIGH + ('between',))})\s+)?"
    rf"(?P<low>{_NUM})(?:\s*(?:-|\u2013|to|and|or)\s*(?P<high>{_NUM}))?"
    rf"\s*(?P<unit>{_UNIT})(?![\w])",
    re.IGNORECASE,
)
_FREQUENCY = re.compile(
    rf"(?<![\w\-])(?:(?P<times>once|twice|thrice)|(?P<low>{_NUM})(?:\s*(?:-|\u2013|to|or)\s*(?P<high>{_NUM}))?\s+times)"
    r"\s+(?:(?:a|per|each|every)\s+)?(?P<period>day|daily|week|weekly|month|monthly)\b",
    re.IGNORECASE,
)
_INTERVAL = re.compile(
    rf"(?<![\w\-])every\s+(?P<low>{_NUM})(?:\s*(?:-|\u2013|to|or)\s*(?P<high>{_NUM}))?"
    r"\s*(?P<unit>hours?|hrs?|days?|weeks?)\b",
    re.IGNORECASE,
)


def _number(text: str | None) -> float:
    if text is None:
        return np.nan
    text = text.lower()
    return float(_NUMBER_WORDS[text]) if text in _NUMBER_WORDS else float(text)


def _sentence_quantities(sentence: str) -> list[list]:
    """``text, low, high, unit, kind, char_start`` of every quantity in a sentence."""
    found = []
    for match in _AMOUNT.finditer(sentence):
        low, high = _number(match["low"]), _number(match["high"] or match["low"])
        qualifier = (match["qualifier"] or "").lower()
        if match["high"] is None and qualifier in _OPEN_LOW:
            low = np.nan
        elif match["high"] is None and qualifier in _OPEN_HIGH:
            high = np.nan
        unit, kind = _UNITS[match["unit"].lower()]
        found.append([match.group(0), low, high, unit, kind, match.start()])
    for match in _FREQUENCY.finditer(sentence):
        low = _TIMES_WORDS[match["times"].lower()] if match["times"] else _number(match["low"])
        high = low if match["times"] else _number(match["high"] or match["low"])
        found.append([match.group(0), float(low), float(high), f"per {_PERIODS[match['period'].lower()]}",
                      "frequency", match.start()])
    for match in _INTERVAL.finditer(sentence):
        unit = _UNITS[match["unit"].lower()][0]
        found.append([match.group(0), _number(match["low"]), _number(match["high"] or match["low"]), unit,
                      "interval", match.start()])
    # Where matches overlap ("every 4 to 6 hours" holds "4 to 6 hours") the longest is kept.
    kept: list[list] = []
    for row in sorted(found, key=lambda r: (-len(r[0]), r[-1])):
        if all(row[-1] + len(row[0]) <= k[-1] or k[-1] + len(k[0]) <= row[-1] for k in kept):
            kept.append(row)
    return sorted(kept, key=lambda row: row[-1])


def quantities(corpus: Iterable[Document], *, excluded_roles: Iterable[str] = EXCLUDED_ROLES_DEFAULT) -> pd.DataFrame:
    """Doses, durations, frequencies and percentages mentioned in the counted sentences.

    Numbers are digits (``1.5``) or number words (one to twenty); a range is
    written with ``-``, ``–``, ``to``, ``or`` or ``between ... and``. A single
    value after "up to", "at most", "less than", "under" has no lower bound,
    one after "more than", "over", "at least", "longer than" no upper bound
    (NaN); a qualified range keeps both bounds.

    Parameters
    ----------
    corpus : iterable of Document
    excluded_roles : iterable of str, default ("outline",)

    Returns
    -------
    DataFrame
        ``doc_id, block, block_role, section, sentence_index, sentence, text,
        low, high, unit, kind, char_start``. ``unit`` is singular (``gram``,
        ``month``, ``percent``, ``per day``); ``kind`` is ``dose`` (mass,
        volume, capsules), ``duration``, ``frequency`` ("twice daily",
        "3 times a week"), ``interval`` ("every 4 to 6 hours") or ``percentage``.

    Examples
    --------
    >>> doc = Document("a", "Start with 2 to 5 grams, up to 15 g, for three to six months; twice daily.", "a")
    >>> quantities([doc])[["text", "low", "high", "unit", "kind"]].values.tolist()
    [['2 to 5 grams', 2.0, 5.0, 'gram', 'dose'], ['up to 15 g', nan, 15.0, 'gram', 'dose'], \
['three to six months', 3.0, 6.0, 'month', 'duration'], ['twice daily', 2.0, 2.0, 'per day', 'frequency']]
    """
    rows = [
        [doc.doc_id, block.index, block.role, block.section, index, sentence, *row]
        for doc, block, index, sentence in _sentences(corpus, excluded_roles)
        for row in _sentence_quantities(sentence)
    ]
    return pd.DataFrame(rows, columns=QUANTITY_COLUMNS).astype(
        {"block": int, "sentence_index": int, "low": float, "high": float, "char_start": int})


# -- contradictions -----------------------------------------------------------
_SIDE_COLUMNS = ["doc_id", "block", "sentence_index", "block_role", "sentence", "polarity"]


def contradictions(claims: pd.DataFrame, *, categories: Iterable[str] = ("risk",)) -> pd.DataFrame:
    """Pairs of statements about the same term with opposite polarity.

    A statement is a sentence with a term and a polarity; a pair opposes a
    negated statement to an asserted or hedged one about the same term
    (lexicon groups apply: ``addictive`` and ``addiction`` are one term).

    Parameters
    ----------
    claims : DataFrame
        :func:`tag_claims`.
    categories : iterable of str, default ("risk",)
        Claim categories compared.

    Returns
    -------
    DataFrame
        ``category, term, scope`` (``within`` one document or ``across``
        two), then for each side ``doc_id_a, block_a, sentence_index_a,
        block_role_a, sentence_a, polarity_a`` and the same with ``_b``. Side
        ``a`` comes first in corpus order (document id, block, sentence), so a
        pair is listed once. Rows are ordered by category, term, scope
        (within first), then the positions of ``a`` and ``b``.

    Examples
    --------
    >>> docs = [Document("a", "Kratom is not addictive. Kratom may cause addiction.", "a"),
    ...         Document("b", "Addiction is a real concern.", "b")]
    >>> table = contradictions(tag_claims(docs))
    >>> table[["term", "scope", "doc_id_a", "polarity_a", "doc_id_b", "polarity_b"]].values.tolist()
    [['addiction', 'within', 'a', 'negated', 'a', 'hedged'], ['addiction', 'across', 'a', 'negated', 'b', 'asserted']]
    """
    columns = ["category", "term", "scope"] + [f"{c}_{side}" for side in "ab" for c in _SIDE_COLUMNS]
    statements = (
        claims[claims["category"].isin(list(categories))]
        .drop_duplicates(["category", "term", "doc_id", "block", "sentence_index", "polarity"])
        .sort_values(["category", "term", "doc_id", "block", "sentence_index", "polarity"])
    )
    rows = []
    for (category, term), group in statements.groupby(["category", "term"], sort=True):
        records = group[_SIDE_COLUMNS].to_dict("records")
        for a, b in itertools.combinations(records, 2):
            if (a["polarity"] == "negated") != (b["polarity"] == "negated"):
                scope = "within" if a["doc_id"] == b["doc_id"] else "across"
                rows.append([category, term, scope] + [a[c] for c in _SIDE_COLUMNS] + [b[c] for c in _SIDE_COLUMNS])
    table = pd.DataFrame(rows, columns=columns)
    positions = [f"{c}_{side}" for side in "ab" for c in ("doc_id", "block", "sentence_index")]
    table["scope"] = pd.Categorical(table["scope"], ["within", "across"])
    table = table.sort_values(["category", "term", "scope"] + positions, ignore_index=True)
    table["scope"] = table["scope"].astype(str)
    return table


SUMMARY_COLUMNS = ["category", "term", "scope", "doc_id_a", "doc_id_b", "pairs", "negated_a", "other_a",
                   "negated_b", "other_b"]


def contradiction_summary(claims: pd.DataFrame, *, categories: Iterable[str] = ("risk",)) -> pd.DataFrame:
    """:func:`contradictions` counted per term and pair of documents, without listing the sentence pairs.

    Parameters
    ----------
    claims : DataFrame
        :func:`tag_claims`.
    categories : iterable of str, default ("risk",)

    Returns
    -------
    DataFrame
        ``category, term, scope, doc_id_a, doc_id_b, pairs, negated_a, other_a, negated_b, other_b``:
        ``pairs`` opposed statements (one negated, one asserted or hedged) about ``term``, within one
        document (``doc_id_a == doc_id_b``) or across two (``doc_id_a`` first in document order);
        ``negated_*`` and ``other_*`` count each document's statements about the term. Most pairs
        first. Its rows add up to the rows of :func:`contradictions`, but its size grows with the
        documents that disagree, not with the sentences.

    Examples
    --------
    >>> docs = [Document("a", "Kratom is not addictive. Kratom may cause addiction.", "a"),
    ...         Document("b", "Addiction is a real concern. Addiction happens.", "b")]
    >>> contradiction_summary(tag_claims(docs))[["term", "scope", "doc_id_a", "doc_id_b", "pairs"]].values.tolist()
    [['addiction', 'across', 'a', 'b', 2], ['addiction', 'within', 'a', 'a', 1]]
    """
    statements = (
        claims[claims["category"].isin(list(categories))]
        .drop_duplicates(["category", "term", "doc_id", "block", "sentence_index", "polarity"])
        .assign(negated=lambda t: t["polarity"] == "negated")
    )
    per_doc = (statements.groupby(["category", "term", "doc_id"], sort=True)["negated"]
               .agg(negated="sum", total="count").reset_index())
    per_doc["other"] = per_doc["total"] - per_doc["negated"]
    within = per_doc[(per_doc["negated"] > 0) & (per_doc["other"] > 0)].assign(
        scope="within", doc_id_a=lambda t: t["doc_id"], doc_id_b=lambda t: t["doc_id"],
        pairs=lambda t: t["negated"] * t["other"], negated_a=lambda t: t["negated"], other_a=lambda t: t["other"],
        negated_b=lambda t: t["negated"], other_b=lambda t: t["other"])
    # Across: each document with a negated statement against each other document with another one.
    deniers = per_doc[per_doc["negated"] > 0]
    asserters = per_doc[per_doc["other"] > 0]
    across = deniers.merge(asserters, on=["category", "term"], suffixes=("_n", "_o"))
    across = across[across["doc_id_n"] != across["doc_id_o"]]
    first = across["doc_id_n"] < across["doc_id_o"]
    across = pd.DataFrame({
        "category": across["category"], "term": across["term"],
        "doc_id_a": across["doc_id_n"].where(first, across["doc_id_o"]),
        "doc_id_b": across["doc_id_o"].where(first, across["doc_id_n"]),
        "pairs": across["negated_n"] * across["other_o"],
    }).groupby(["category", "term", "doc_id_a", "doc_id_b"], sort=True)["pairs"].sum().reset_index()
    counts = per_doc.set_index(["category", "term", "doc_id"])[["negated", "other"]]
    for side in "ab":
        found = counts.reindex(pd.MultiIndex.from_frame(across[["category", "term", f"doc_id_{side}"]]))
        across[f"negated_{side}"] = found["negated"].to_numpy()
        across[f"other_{side}"] = found["other"].to_numpy()
    table = pd.concat([within, across.assign(scope="across")], ignore_index=True)
    table = table.reindex(columns=SUMMARY_COLUMNS)
    table = table.sort_values(["pairs", "category", "term", "scope", "doc_id_a", "doc_id_b"],
                              ascending=[False, True, True, True, True, True], ignore_index=True)
    return table.astype({c: int for c in ("pairs", "negated_a", "other_a", "negated_b", "other_b")})


# -- summaries ----------------------------------------------------------------
def framing(claims: pd.DataFrame, by: str = "doc") -> pd.DataFrame:
    """Risk and benefit claims by polarity, per document or per block role.

    Parameters
    ----------
    claims : DataFrame
        :func:`tag_claims`.
    by : {"doc", "role"}
        Group by ``doc_id`` or by ``block_role``.

    Returns
    -------
    DataFrame
        ``by, group, category, polarity, count, share``: every group x
        (risk, benefit) x (asserted, hedged, negated), zeros included;
        ``share`` is the count over the group's risk and benefit claims (0
        when it has none). Documents are sorted by id, roles in template order
        (summary, intro, heading, body, conclusion, ...).

    Examples
    --------
    >>> table = framing(tag_text("Kratom relieves pain. It may cause nausea."))
    >>> table[table["count"] > 0][["group", "category", "polarity", "count", "share"]].values.tolist()
    [['text', 'risk', 'hedged', 1, 0.5], ['text', 'benefit', 'asserted', 1, 0.5]]
    """
    if by not in ("doc", "role"):
        raise AnalysisError(f"by must be 'doc' or 'role', got {by!r}")
    column = "doc_id" if by == "doc" else "block_role"
    present = claims[column].unique().tolist()
    if by == "doc":
        groups = sorted(present)
    else:
        groups = sorted(present, key=lambda role: (ROLES.index(role) if role in ROLES else len(ROLES), role))
    counted = claims[claims["category"].isin(["risk", "benefit"])]
    counts = counted.groupby([column, "category", "polarity"]).size()
    index = pd.MultiIndex.from_product([groups, ["risk", "benefit"], list(POLARITIES)],
                                       names=["group", "category", "polarity"])
    table = counts.reindex(index, fill_value=0).rename("count").reset_index()
    totals = table.groupby("group", sort=False)["count"].transform("sum")
    table["share"] = (table["count"] / totals.where(totals > 0)).fillna(0.0)
    table.insert(0, "by", by)
    return table.astype({"count": int})


def word_counts(corpus: Iterable[Document], *, excluded_roles: Iterable[str] = EXCLUDED_ROLES_DEFAULT) -> pd.Series:
    """Word tokens (:func:`analysis.tokens.tokenize`) of each document's counted blocks.

    >>> word_counts([Document("a", "Kratom may help. It can't hurt.", "a")]).to_dict()
    {'a': 6}
    """
    excluded = set(excluded_roles)
    counts = {doc.doc_id: sum(len(tokenize(b.text)) for b in doc.blocks if b.role not in excluded) for doc in corpus}
    return pd.Series(counts, name="words", dtype=int).rename_axis("doc_id")


def hedging_density(claims: pd.DataFrame, words: Iterable[Document] | Mapping[str, int] | pd.Series) -> pd.DataFrame:
    """Hedges and boosters per 1,000 words, per document.

    Parameters
    ----------
    claims : DataFrame
        :func:`tag_claims`.
    words : iterable of Document, or mapping / Series doc_id -> word count
        The denominators: a corpus is counted with :func:`word_counts` (word
        tokens of the blocks the claims were tagged in, with the default
        excluded roles); pass counts yourself when the claims were tagged
        with other ``excluded_roles``.

    Returns
    -------
    DataFrame
        ``doc_id, marker, count, words, per_1000_words`` with ``marker`` in
        (hedge, booster); every document of ``words`` appears, zeros included.
        A multiword marker ("believed to") counts once.

    Examples
    --------
    >>> claims = tag_text("Kratom may help. It clearly can.")
    >>> hedging_density(claims, {"text": 7}).values.tolist()
    [['text', 'hedge', 2, 7, 285.7142857142857], ['text', 'booster', 1, 7, 142.85714285714286]]
    """
    counts = words if isinstance(words, (Mapping, pd.Series)) else word_counts(words)
    counts = pd.Series(counts, dtype=int)
    index = pd.MultiIndex.from_product([sorted(counts.index), list(MARKER_CATEGORIES)], names=["doc_id", "marker"])
    markers = claims[claims["category"].isin(MARKER_CATEGORIES)].groupby(["doc_id", "category"]).size()
    table = markers.rename_axis(["doc_id", "marker"]).reindex(index, fill_value=0).rename("count").reset_index()
    table["words"] = table["doc_id"].map(counts).astype(int)
    table["per_1000_words"] = (1000 * table["count"] / table["words"].where(table["words"] > 0)).fillna(0.0)
    return table.astype({"count": int})


# -- evaluation against hand labels ---------------------------------------------
GOLD_COLUMNS = ["doc_id", "sentence", "category", "term", "polarity", "split", "note"]


def match_gold(claims: pd.DataFrame, gold: pd.DataFrame) -> pd.DataFrame:
    """Line tagged rows up with hand-labelled ones, sentence by sentence.

    Parameters
    ----------
    claims : DataFrame
        :func:`tag_claims`.
    gold : DataFrame
        ``doc_id, sentence, category, term, polarity, split`` (see
        ``tests/data/claims_gold.md``): every claim and marker of each labelled
        sentence, ``term`` as written in the sentence (the k-th row with the
        same term is its k-th occurrence), and a row with category ``none``
        for a sentence with nothing to find.

    Returns
    -------
    DataFrame
        ``split, doc_id, sentence, category, gold_term, gold_polarity,
        tagged_term, tagged_polarity, status``: a tagged row and a gold row of
        the same sentence and category whose text spans overlap are a ``tp``
        (matched one to one, in text order); unmatched gold rows are ``fn``,
        unmatched tagged rows of labelled sentences ``fp``.

    Raises
    ------
    AnalysisError
        When a gold term is not found in its sentence.
    """
    rows = []
    tagged_by_sentence = {key: group for key, group in claims.groupby(["doc_id", "sentence"], sort=False)}
    for (doc_id, sentence), labels in gold.groupby(["doc_id", "sentence"], sort=False):
        split = labels["split"].iloc[0]
        tagged = tagged_by_sentence.get((doc_id, sentence), claims.iloc[0:0])
        seen: dict[str, int] = {}
        expected = []
        for label in labels[labels["category"] != "none"].itertuples():
            key = label.term.lower()
            occurrence = seen.get(key, 0)
            seen[key] = occurrence + 1
            starts = [m.start() for m in re.finditer(r"(?<!\w)" + re.escape(key) + r"(?!\w)", sentence.lower())]
            if occurrence >= len(starts):
                raise AnalysisError(
                    f"gold: {label.term!r} not found (occurrence {occurrence + 1}) in {doc_id}: {sentence!r}")
            expected.append((label, starts[occurrence], starts[occurrence] + len(label.term)))
        used: set[int] = set()
        for label, start, end in sorted(expected, key=lambda e: e[1]):
            hit = next((t for t in tagged.itertuples() if t.Index not in used and t.category == label.category
                        and t.char_start < end and start < t.char_start + len(t.matched)), None)
            if hit is None:
                rows.append([split, doc_id, sentence, label.category, label.term, label.polarity, "", "", "fn"])
            else:
                used.add(hit.Index)
                rows.append([split, doc_id, sentence, label.category, label.term, label.polarity, hit.term,
                             hit.polarity, "tp"])
        for t in tagged.itertuples():
            if t.Index not in used:
                rows.append([split, doc_id, sentence, t.category, "", "", t.term, t.polarity, "fp"])
    return pd.DataFrame(rows, columns=["split", "doc_id", "sentence", "category", "gold_term", "gold_polarity",
                                       "tagged_term", "tagged_polarity", "status"])


def _prf(tp: int, fp: int, fn: int) -> list:
    precision = tp / (tp + fp) if tp + fp else np.nan
    recall = tp / (tp + fn) if tp + fn else np.nan
    f1 = 2 * precision * recall / (precision + recall) if tp else (0.0 if fp + fn else np.nan)
    return [tp, fp, fn, precision, recall, f1]


def gold_scores(matches: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall and F1 of :func:`match_gold` per split and category.

    Returns
    -------
    DataFrame
        ``split, category, tp, fp, fn, precision, recall, f1`` for each
        split and ``all``, each category and ``all`` (micro-averaged).

    Examples
    --------
    >>> matches = pd.DataFrame({"split": ["dev"] * 3, "category": ["risk"] * 3, "status": ["tp", "tp", "fp"]})
    >>> scores = gold_scores(matches).query("category == 'risk' and split == 'dev'")
    >>> scores[["tp", "fp", "precision"]].to_dict("records")
    [{'tp': 2, 'fp': 1, 'precision': 0.6666666666666666}]
    """
    rows = []
    splits = sorted(matches["split"].unique()) + ["all"]
    for split in splits:
        in_split = matches if split == "all" else matches[matches["split"] == split]
        for category in list(CATEGORIES) + ["all"]:
            subset = in_split if category == "all" else in_split[in_split["category"] == category]
            status = subset["status"].value_counts()
            rows.append([split, category, *_prf(status.get("tp", 0), status.get("fp", 0), status.get("fn", 0))])
    return pd.DataFrame(rows, columns=["split", "category", "tp", "fp", "fn", "precision", "recall", "f1"]).astype(
        {"tp": int, "fp": int, "fn": int})


def polarity_scores(matches: pd.DataFrame, categories: Iterable[str] = ("risk", "benefit")) -> pd.DataFrame:
    """Polarity on the claims found correctly (the ``tp`` rows of :func:`match_gold`).

    Returns
    -------
    DataFrame
        ``split, polarity, tp, fp, fn, precision, recall, f1`` per split and
        ``all``, for each polarity and ``all``; the ``all`` row's precision,
        recall and F1 equal the polarity accuracy.
    """
    found = matches[(matches["status"] == "tp") & matches["category"].isin(list(categories))]
    rows = []
    for split in sorted(found["split"].unique()) + ["all"]:
        subset = found if split == "all" else found[found["split"] == split]
        right = subset["gold_polarity"] == subset["tagged_polarity"]
        for polarity in list(POLARITIES) + ["all"]:
            if polarity == "all":
                tp, fp, fn = int(right.sum()), int((~right).sum()), int((~right).sum())
            else:
                tp = int((right & (subset["gold_polarity"] == polarity)).sum())
                fp = int((~right & (subset["tagged_polarity"] == polarity)).sum())
                fn = int((~right & (subset["gold_polarity"] == polarity)).sum())
            rows.append([split, polarity, *_prf(tp, fp, fn)])
    return pd.DataFrame(rows, columns=["split", "polarity", "tp", "fp", "fn", "precision", "recall", "f1"]).astype(
        {"tp": int, "fp": int, "fn": int})
