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

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pandas as pd

from analysis.claims.lexicons import (
    CATEGORIES,
    CLAIM_CATEGORIES,
    CUE_LISTS,
    MARKER_CATEGORIES,
    Lexicons,
    shipped_lexicons,
    word_matches,
)
from analysis.corpus import Document
from analysis.executor import Executor, LocalExecutor
from analysis.prepared import PreparedCorpus
from analysis.tokens import EXCLUDED_ROLES_DEFAULT, normalize, split_sentences, token_spans

CLAIM_COLUMNS = ["doc_id", "block", "block_role", "section", "sentence_index", "sentence", "category", "term",
                 "matched", "char_start", "polarity", "cue"]
_CLAUSE_PUNCT = re.compile(r"[,;:()\[\]\u2013\u2014]|\s-\s")
_LIST_ITEM_WORDS = 3
_HEDGE_REACH_BACK = 2
_UMBRELLA_LINKS = (("of",), ("like",), ("such", "as"), ("including",))
_UMBRELLA_GAP = 2
_TREATED_GAP = 3
_DOUBLE_NEGATION_GAP = 2

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


def _find(tokens: list[str], kinds: tuple[str, ...], lexicons: Lexicons) -> list[_Match]:
    """Every match of the entries of ``kinds`` in ``tokens``, overlapping ones included (by
    position, then in the order of ``kinds``)."""
    found = []
    known = lexicons.first_word_table(kinds)
    for i, entries in enumerate(map(known.get, tokens)):
        if entries is None:
            entries = lexicons.first_word_matches(kinds, tokens[i])
        for kind, entry in entries:
            n = len(entry.words)
            if n == 1 or (i + n <= len(tokens)
                          and all(word_matches(w, t) for w, t in zip(entry.words[1:], tokens[i + 1:i + n]))):
                found.append(_Match(i, i + n, kind, entry.term))
    return found


def _affixed(tokens: list[str], kinds: tuple[str, ...], lexicons: Lexicons) -> list[_Match]:
    """One-word terms behind a negating affix: ``non-addictive``, ``addiction-free``."""
    found = []
    known = lexicons.affixed_table(kinds)
    for i, token in enumerate(tokens):
        matches = known.get(token)
        if matches is None:
            matches = known[token] = tuple(_affix_matches(token, kinds, lexicons))
        found.extend(_Match(i, i + 1, kind, term, affix) for kind, term, affix in matches)
    return found


def _affix_matches(token: str, kinds: tuple[str, ...], lexicons: Lexicons) -> Iterator[tuple[str, str, str]]:
    """``(kind, term, affix)`` of the one-word terms that ``token`` holds behind a negating affix."""
    stems = [(token[len(p):], p) for p in lexicons.negation_prefixes if token.startswith(p) and len(token) > len(p)]
    stems += [(token[:-len(s)], s) for s in lexicons.negation_suffixes if token.endswith(s) and len(token) > len(s)]
    for stem, affix in stems:
        for match in _find([stem], kinds, lexicons):
            if match.length == 1:
                yield match.kind, match.term, affix


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


TAG_CHUNK = 500  # documents per task of the parallel tagger


def counted_sentences(corpus: Iterable[Document], excluded_roles: Iterable[str]):
    """``(doc, block, sentence_index, sentence)`` of every counted sentence, in reading order."""
    excluded = set(excluded_roles)
    for doc in corpus:
        for block in doc.blocks:
            if block.role in excluded:
                continue
            for index, sentence in enumerate(split_sentences(block.text)):
                yield doc, block, index, sentence


def tag_documents(lexicons: Lexicons, excluded_roles: tuple[str, ...], documents: list[Document]) -> list[list]:
    """The claim rows of ``documents`` (see :func:`tag_claims`)."""
    return [[doc.doc_id, block.index, block.role, block.section, index, sentence, *row]
            for doc, block, index, sentence in counted_sentences(documents, excluded_roles)
            for row in _sentence_rows(sentence, lexicons)]


def documents_of_range(prepared: PreparedCorpus, start: int, stop: int) -> list[Document]:
    """Documents ``start:stop`` of a prepared corpus, their text read where this runs."""
    texts = prepared.texts(range(start, stop))
    return [Document(prepared.doc_ids[d], texts[d], "") for d in range(start, stop)]


def _tag_range(prepared: PreparedCorpus, lexicons: Lexicons, excluded_roles: tuple[str, ...],
               bounds: tuple[int, int]) -> list[list]:
    """The claim rows of documents ``start:stop`` of a prepared corpus, whose text the worker reads itself."""
    return tag_documents(lexicons, excluded_roles, documents_of_range(prepared, *bounds))


def claims_frame(rows: list[list]) -> pd.DataFrame:
    """Claim rows (:func:`tag_documents`) as the table :func:`tag_claims` returns."""
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS).astype({"block": int, "sentence_index": int, "char_start": int})


def tag_claims(
    corpus: Iterable[Document], lexicons: Lexicons | None = None, *,
    excluded_roles: Iterable[str] = EXCLUDED_ROLES_DEFAULT, jobs: int = 1,
    progress: Callable[[Iterable], Iterable] | None = None, executor: Executor | None = None,
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
    executor : Executor, optional
        Where the chunks are tagged instead (:mod:`analysis.executor`). From a prepared corpus, the
        workers read their documents' text themselves.
    progress : callable, optional
        Wraps the chunks of documents as they are tagged (e.g. a tqdm bar).

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
    lexicons = lexicons if lexicons is not None else shipped_lexicons()
    executor = executor or LocalExecutor(jobs)
    excluded = tuple(excluded_roles)
    if isinstance(corpus, PreparedCorpus):
        n = corpus.n_documents
        parts = executor.map(_tag_range, [(i, min(i + TAG_CHUNK, n)) for i in range(0, n, TAG_CHUNK)],
                             progress=progress, common=(corpus, lexicons, excluded))
    else:
        documents = list(corpus)
        parts = executor.map(tag_documents, [documents[i:i + TAG_CHUNK] for i in range(0, len(documents), TAG_CHUNK)],
                             progress=progress, common=(lexicons, excluded))
    return claims_frame([row for part in parts for row in part])


def tag_text(text: str, lexicons: Lexicons | None = None) -> pd.DataFrame:
    """:func:`tag_claims` of a free text (every block counted), for trying rules out.

    >>> tag_text("Kratom may alleviate pain.")[["category", "term", "polarity"]].values.tolist()
    [['hedge', 'may', 'asserted'], ['benefit', 'alleviate', 'hedged']]
    """
    return tag_claims([Document("text", text, "text")], lexicons, excluded_roles=())


