"""Health claims: what texts say about risks, benefits and advice, and how strongly.

Every sentence (:func:`analysis.tokens.split_sentences`) of the counted blocks
is matched against editable lexicons (``analysis/data/lexicons/*.txt``, see
:func:`load_lexicons`) on normalised tokens and simplemma lemmas, so case,
curly quotes, a possessive ``'s`` and inflections do not matter ("alleviates"
matches ``alleviate``). The outline bullets are left out by default: they
repeat the headings. Every occurrence of a lexicon term, and every risk a
harm frame names (below), is one row of :func:`tag_claims`:

- ``risk``, ``benefit``, ``advice``: claims, each with a polarity
  (``asserted``, ``hedged`` or ``negated``);
- ``hedge``, ``booster``: stance markers (Hyland 2005). They decide how
  strongly the claims of their clause are made, and :func:`hedging_density`
  counts them; their own polarity is always ``asserted``.

Matching
    Three layers are matched separately, and within each the longest match
    wins: cues (negations, comparisons, pseudo-negations, goals, scope breaks:
    "not only" beats "not"), claims (risk, benefit and advice terms compete,
    with their stop phrases: "hyperpigmentation treatment" is a benefit, not a
    risk) and markers ("believed to" is a hedge, not the booster "believe"). A
    claim term inside a cue is dropped ("risk" in "lower risk of").

Clauses
    A sentence is cut into clauses at ``, ; : ( ) [ ]`` and dashes, and before a
    scope break (but, however, although, while, which ...). A comma does not end
    the clause inside a list: when the clause so far holds a claim term and one
    of the same category starts right after the comma (after an optional
    "and"/"or", a determiner or severity word, and one modifier: "can cause
    burping, a floral aftertaste and nausea"), and that item has at most three
    words besides claim terms and "and"/"or" before the next "and"/"or" that
    precedes a claim term ("numbness, nerve damage or frostnip on the
    fingers"), or is the last one, introduced by "and"/"or" ("without
    sedation, euphoria, or respiratory issues seen with opioids" negates all
    three; "may reduce pain, improve sleep, and ease anxiety" hedges all three).

Harm frames
    A verb of harm_frames.txt (cause, lead to, linked to, trigger ...) names
    risks that risk.txt need not list: each item of the noun-phrase list right
    after it is a risk, reported by its Human Phenotype Ontology name when
    phenotypes.txt lists it ("has been linked to a permanent loss of smell"
    gives ``anosmia``) and otherwise as written, its last word lemmatised
    ("can trigger gasp reflexes" gives ``gasp reflex``). Items are cut at
    commas and "and"/"or"; the list ends at other punctuation, a preposition,
    a conjunction, "be", a cue or marker word, or a verb in "-ed"; a leading
    determiner or severity word is left out. An item that the ontology does not
    name has at most three words, each with a letter, none a function word
    (but an inner "of"), and is not a lone "-ly" adverb.

    Not a frame: a verb that opens the sentence or follows a determiner
    ("Cause and effect", "find the cause"), or that a benefit term follows
    within four words ("led to small to moderate improvements"). When the
    frame's subject is a condition (a risk, benefit or phenotype before the
    frame in its clause, or among the first four words of its part of the
    sentence: the sentence, or the part after a scope break unless a pronoun
    opens it and so carries the subject over) it names nothing; when that
    part or the clause opens with a phenotype, the risk.txt terms of the list
    are the condition's symptoms and are dropped too ("Irritable bowel
    syndrome (IBS) causes cramping, bloating and irregular bowel habits"
    gives no risk; "Migraine is common, but kava can cause nausea" keeps
    nausea).

Polarity of a claim
    ``negated``: a negation cue (no, not, never, without, cannot, free from ...)
    comes before the term in its clause, or the term carries a negating affix
    ("non-addictive", "addiction-free"). Two negation cues at most two words
    apart cancel each other: "not without risks" asserts the risks.

    ``compared``: not negated, and a comparison cue (lower risk of, reduced
    risk of, less, fewer, without the same level of, not as ...) ends at most
    three words before the term, or before the list of terms it ends, in its
    clause, or "than" follows the term
    within two words ("safer than", "more effective than"), or the term sits in
    "as ... as" ("as effective as"), or "compared with/to" or "versus" follows
    it in its clause ("reduce symptoms compared with placebo"). "lower risk of addiction than opioids" is
    a comparison, not a denial: it still says there is a risk. A risk term
    that opens with a comparison cue and is followed by "than" compares the
    benefit it names: "less effective than metformin" gives the benefit
    ``effective``, compared ("may make warfarin less effective" stays a risk).

    ``hedged``: neither, and a hedge in the same clause comes before the term
    ("may lead to dependence"), or after it within two words, not counting
    other terms of a list and "and"/"or", with no cue between (its subject:
    "side effects may occur", but not "caution due to variable effects and
    potential adverse reactions"). A hedge that modifies a noun ("potential",
    "possible", "typical") does not reach past "and"/"or" and a determiner:
    "potential side effects and the risk of dependency" hedges side effects
    only.

    ``asserted``: otherwise. A booster does not change it ("clearly causes
    dependence" is asserted), but it is listed as the row's cue.

    Negation wins over comparison and comparison over hedging: "may not cause
    addiction" is negated, "may have fewer side effects" compared.

"can"
    "can" is a hedge when it states a possible event or harm ("can cause
    nausea", "side effects can occur"), not when it states an ability: a
    person's ("individuals can navigate dosage": stop phrases of hedges.txt) or
    a capacity to help, read from a benefit term that follows it in its clause
    before any risk term ("physical therapy can enhance muscle relaxation").

Directives
    An imperative opening the sentence or a clause (after a comma or a
    semicolon, with or without "and"/"so") is advice also when advice.txt
    does not list the phrase: a verb of imperatives.txt in its base form
    ("Limit sessions to 10 minutes"), or any verb after "never", "always" or
    "do not" ("Never plunge alone").

Terms that are not claims of their own
    "risk of" followed within two words by a specific risk is a frame: "the
    risk of dependency" gives dependency only (a general term before examples
    is a claim of its own: "side effects such as nausea" gives both). A risk
    term right after a benefit term in the same clause (at most three words
    between, no cue) is the condition the benefit acts on, not a risk ("relief
    from withdrawal effects"); so is a reduced risk that is not one of the
    subject's risks ("cut the risk of hip fractures" is a benefit; before a
    risk term, "reduce the risk of dependence", it is a comparison).
    "interaction" followed within four words by receptors, a system, a
    pathway, the brain, the body or a production is a mechanism, not a drug
    interaction ("its interaction with opioid receptors"). A risk term
    right after a comparator (opioids, NSAIDs, antidepressants ... in
    comparators.txt), or in a clause whose first three words hold one, is a
    risk of the comparator, not of the subject ("concerns over opioid side
    effects", "NSAIDs can cause stomach ulcers"). A benefit
    term at most three words after a goal cue (seek, aim to, investigate,
    search for ... in goals.txt) is a goal, not a claim ("for those seeking
    effective relief"). A term listed right after one dropped as a
    comparator's risk or a goal, with only "and"/"or" between, goes with it.
    A risk term that the document's title names after "for" is the condition
    the text treats, not a risk, anywhere in the document ("Melatonin for
    Insomnia": see :func:`title_conditions`).

Examples
--------
>>> table = tag_text("Kratom provides analgesia without addiction.")
>>> table[["category", "term", "polarity", "cue"]].values.tolist()
[['benefit', 'analgesia', 'asserted', ''], ['risk', 'addiction', 'negated', 'without']]
>>> table = tag_text("Kratom is not without its potential side effects.")
>>> table[["category", "term", "polarity", "cue"]].values.tolist()
[['hedge', 'potential', 'asserted', ''], ['risk', 'side effects', 'hedged', 'not without; potential']]
>>> tag_text("It has a lower risk of addiction than opioids.")[["term", "polarity", "cue"]].values.tolist()
[['addiction', 'compared', 'lower risk; than']]

Known limits: who a claim is about is resolved only by the rules above
("concerns over opioid ... dependency risks" in a kratom article gives a
dependence and a risk row; so does "True biotin deficiency is rare, but it
can cause thinning hair"); a negation after the term is not seen ("addiction
is not a risk"); the tagger reads no syntax, so scopes are approximated by
clauses, word distances and the rules above.
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
    DIRECTIVE_LISTS,
    MARKER_CATEGORIES,
    PHENOTYPE_LISTS,
    Lexicons,
    lemma,
    shipped_lexicons,
    word_matches,
)
from analysis.corpus import Document
from analysis.executor import Executor, LocalExecutor
from analysis.prepared import PreparedCorpus
from analysis.structure import Block
from analysis.tokens import (
    EXCLUDED_ROLES_DEFAULT,
    is_clitic,
    maintained_stopwords,
    normalize,
    split_sentences,
    token_spans,
)

CLAIM_COLUMNS = ["doc_id", "block", "block_role", "section", "sentence_index", "sentence", "category", "term",
                 "matched", "char_start", "polarity", "cue"]
_CLAUSE_PUNCT = re.compile(r"[,;:()\[\]\u2013\u2014]|\s-\s")
_LIST_ITEM_WORDS = 3
_HEDGE_REACH_BACK = 2
_FRAME_GAP = 2
_TREATED_GAP = 3
_DOUBLE_NEGATION_GAP = 2
_COMPARISON_REACH = 3  # words between a comparison cue and its claim
_COMPARATIVE_LINKS = ("than", "as")
_COMPARED_WITH = (("compared", "with"), ("compared", "to"), ("relative", "to"), ("versus",), ("vs",))
_COMPARATIVE_GAP = 2  # words between a claim term and "than"/"as"
_GOAL_REACH = 3
_CAPACITY_MODALS = ("can",)
_MODIFIER_HEDGES = ("potential", "possible", "typical")
_DETERMINERS = ("the", "a", "an", "its", "their", "his", "her", "this", "these", "those", "any")
_MECHANISM_WORDS = ("receptor", "receptors", "system", "systems", "pathway", "pathways", "neurotransmitter",
                    "neurotransmitters", "brain", "body", "production")
_MECHANISM_REACH = 4
_COMPARATOR_LEAD = 3  # a comparator within the first words of a clause is its subject
_TITLE_WORDS = 15
_SUBJECT_WORDS = 4  # a condition among a clause's first words is its subject
_PRONOUNS = ("it", "they", "this", "these", "that")
_FRAME_BENEFIT_REACH = 4  # a benefit this close after a frame makes it no harm frame
_PHRASE_ENDS = frozenset({  # words that end a noun phrase: prepositions, conjunctions, relatives, "be"
    "in", "on", "at", "after", "before", "during", "when", "if", "for", "from", "to", "that", "which", "who",
    "so", "because", "especially", "by", "with", "within", "than", "as", "over", "among", "into", "while",
    "until", "unless", "even", "but", "is", "are", "was", "were", "be"})
_PHRASE_LEADS = frozenset(_DETERMINERS + (  # determiners and severity words before a listed item
    "some", "other", "serious", "severe", "mild", "rare", "occasional", "permanent", "temporary", "dangerous"))

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


def _within(inner: _Match, outer: _Match) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end


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


def _gap(text: str, spans: list[tuple[str, int, int]], t: int) -> str:
    """The text between token ``t - 1`` and token ``t`` (``""`` before the first)."""
    return text[spans[t - 1][2]:spans[t][1]] if t else ""


def _punctuated(text: str, spans: list[tuple[str, int, int]]) -> set[int]:
    """The tokens that clause punctuation (``, ; : ( ) [ ]``, dashes) precedes."""
    return {t for t in range(1, len(spans)) if _CLAUSE_PUNCT.search(_gap(text, spans, t))}


def _clauses(text: str, spans: list[tuple[str, int, int]], claims: list[_Match], breaks: list[_Match]) -> list[int]:
    """The clause number of every token (see the module docstring)."""
    n = len(spans)
    hard = _punctuated(text, spans)
    break_starts = {m.start for m in breaks}
    kind_starting = {m.start: m.kind for m in claims}
    claimed = {u for m in claims for u in range(m.start, m.end)}

    def continues_list(t: int, clause_start: int) -> bool:
        conjunction = spans[t][0] in ("and", "or")
        first = t + 1 if conjunction else t
        # the item's claim term may follow a determiner and one modifier: "can cause burping, a floral aftertaste"
        while first < n - 1 and spans[first][0] in _PHRASE_LEADS and first not in kind_starting:
            first += 1
        if first not in kind_starting and first + 1 in kind_starting:
            first += 1
        # the item runs to the next "and"/"or" before a claim term ("nerve damage or frostnip on the fingers")
        end = next((u for u in range(first + 1, n) if u in hard or u in break_starts
                    or (spans[u][0] in ("and", "or") and u + 1 in kind_starting)), n)
        before = [m.kind for m in claims if clause_start <= m.start and m.end <= t]
        same_kind = bool(before) and before[-1] == kind_starting.get(first)
        other_words = [u for u in range(first, end) if u not in claimed and spans[u][0] not in ("and", "or")]
        return same_kind and (conjunction or len(other_words) <= _LIST_ITEM_WORDS)

    clause, current, clause_start = [0] * n, 0, 0
    for t in range(1, n):
        comma_only = _gap(text, spans, t).strip() == ","
        if t in break_starts or (t in hard and not (comma_only and continues_list(t, clause_start))):
            current += 1
            clause_start = t
        clause[t] = current
    return clause


def _drop_non_claims(claims: list[_Match], cues: list[_Match], tokens: list[str], clause: list[int]) -> list[_Match]:
    """Drop risk frames, treated and prevented conditions, mechanisms, comparators' risks and goals (see
    the module docstring)."""
    negators = [c for c in cues if c.kind in ("negation", "comparison")]
    goals = [c for c in cues if c.kind == "goal"]
    comparators = [c for c in cues if c.kind == "comparator"]
    kept: list[_Match] = []
    listed_from: _Match | None = None  # the last claim dropped as a comparator's risk or a goal
    for match in claims:
        same_clause = [m for m in claims if clause[m.start] == clause[match.start]]
        frame = match.term == "risk" and tokens[match.end:match.end + 1] == ["of"] and any(
            other.kind == "risk" and other.start > match.end and other.start - (match.end + 1) <= _FRAME_GAP
            for other in same_clause)
        treated = match.kind == "risk" and any(
            other.kind == "benefit" and other.end <= match.start and match.start - other.end <= _TREATED_GAP
            and not any(other.end <= c.start < match.start for c in negators)
            for other in same_clause
        )
        prevented = match.term == "reduce risk" and any(
            other.kind == "risk" and match.end <= other.start <= match.end + _FRAME_GAP for other in same_clause)
        mechanism = match.term == "interactions" and any(
            t in _MECHANISM_WORDS for t in tokens[match.end:match.end + _MECHANISM_REACH])
        about_comparator = match.kind == "risk" and any(
            c.end <= match.start and clause[c.start] == clause[match.start]
            and (match.start - c.end <= 1 or c.start - clause.index(clause[c.start]) < _COMPARATOR_LEAD)
            for c in comparators)
        goal = match.kind == "benefit" and any(
            g.end <= match.start and clause[g.start] == clause[match.start] and match.start - g.end <= _GOAL_REACH
            for g in goals)
        # an item listed right after a dropped one ("opioid side effects or dependency risks")
        listed = (listed_from is not None and listed_from.kind == match.kind
                  and all(t in ("and", "or") for t in tokens[listed_from.end:match.start]))
        if about_comparator or goal or treated or listed:
            listed_from = match
        elif not (frame or prevented or mechanism):
            kept.append(match)
    return kept


def _compared_benefit(match: _Match, tokens: list[str], cues: list[_Match], lexicons: Lexicons) -> _Match:
    """A risk term that opens with a comparison cue and is followed by "than" compares the benefit it
    names: "it is less effective than metformin" gives the benefit ``effective``, compared (but "may make
    warfarin less effective" is a risk)."""
    if match.kind != "risk" or tokens[match.end:match.end + 1] != ["than"]:
        return match
    cue = next((c for c in cues if c.kind == "comparison" and c.start == match.start and c.end < match.end), None)
    if cue is None:
        return match
    benefit = [m for m in _find(tokens[cue.end:match.end], ("benefit",), lexicons) if m.length == match.end - cue.end]
    return _Match(cue.end, match.end, "benefit", benefit[0].term) if benefit else match


def _function_word(token: str) -> bool:
    """A stopword (gensim's list) or a contraction: not part of a named harm."""
    return token in maintained_stopwords("gensim") or is_clitic(token)


def _frame_items(text: str, spans: list[tuple[str, int, int]], frame: _Match, stops: set[int]) -> list[list[int]]:
    """The token indexes of each item of the list right after ``frame``: items are cut at commas and
    "and"/"or", and the list ends at other punctuation, a :data:`_PHRASE_ENDS` word or a token in
    ``stops`` (cues and markers); leading determiners and severity words are left out of an item."""
    items: list[list[int]] = [[]]
    for t in range(frame.end, len(spans)):
        gap = _gap(text, spans, t).strip()
        word = spans[t][0]
        if (gap and (gap != "," or t == frame.end)) or word in _PHRASE_ENDS or t in stops:
            break
        if gap == "," or word in ("and", "or"):
            items.append([])
        if word not in ("and", "or") and (items[-1] or word not in _PHRASE_LEADS):
            items[-1].append(t)
    return [item for item in items if item]


def _opens_with(tokens: list[str], start: int, match: _Match) -> bool:
    """Whether ``match`` opens the stretch of tokens from ``start``, after determiners at most."""
    return match.start >= start and all(t in _DETERMINERS for t in tokens[start:match.start])


def _named_harm(tokens: list[str], item: list[int]) -> bool:
    """Whether a listed item can name a harm: words with a letter, no function word (but an inner "of")
    and not a lone "-ly" adverb ("cause you to believe", "cause tingling, particularly on ...")."""
    words = [tokens[t] for t in item]
    return all(any(c.isalpha() for c in w) for w in words) and not (len(words) == 1 and words[0].endswith("ly")) \
        and not any(_function_word(w) and not (w == "of" and 0 < i < len(words) - 1) for i, w in enumerate(words))


def _framed_risks(text: str, spans: list[tuple[str, int, int]], frames: list[_Match], claims: list[_Match],
                  phenotypes: list[_Match], cues: list[_Match], markers: list[_Match]
                  ) -> tuple[list[_Match], list[_Match]]:
    """``(risks, symptoms)``: the risks that harm frames name and risk.txt does not list, and the listed
    risks that describe a condition, not the subject's harm (see the module docstring)."""
    tokens = [t for t, _, _ in spans]
    claimed = {i for m in claims for i in range(m.start, m.end)}
    stops = {i for m in cues + markers for i in range(m.start, m.end)}
    condition_terms = [m for m in claims if m.kind in ("risk", "benefit")] + phenotypes
    # a clause after "but", "although" ... has a subject of its own, unless a pronoun carries the last one over
    # ("Migraine is common, but kava can cause ...", but "Deficiency is rare, but it can cause ...")
    breaks = [c.start for c in cues
              if c.kind == "scope_break" and c.end < len(tokens) and tokens[c.end] not in _PRONOUNS]
    punctuated = _punctuated(text, spans)
    found: dict[tuple[int, int], _Match] = {}
    symptoms: list[_Match] = []
    for frame in frames:
        if frame.start == 0 or tokens[frame.start - 1] in _DETERMINERS:
            continue  # a noun: "Cause and effect", "find the cause"
        if any(m.kind == "benefit" and frame.end <= m.start <= frame.end + _FRAME_BENEFIT_REACH for m in claims):
            continue  # "led to small to moderate improvements"
        items = _frame_items(text, spans, frame, stops)
        sentence_part = max([0] + [b for b in breaks if b <= frame.start])  # the clause, across commas
        clause = max([sentence_part] + [t for t in punctuated if t <= frame.start])
        if any(m.end <= frame.start and (m.start >= clause or sentence_part <= m.start < sentence_part + _SUBJECT_WORDS)
               for m in condition_terms):
            if any(_opens_with(tokens, start, m) for m in phenotypes for start in {sentence_part, clause}):
                listed = {t for item in items for t in item}
                symptoms += [m for m in claims if m.kind == "risk" and m.start in listed]
            continue
        for position, item in enumerate(items):
            phenotype = next((m for m in phenotypes if (m.start, m.end) == (item[0], item[-1] + 1)), None)
            if phenotype is None and position and tokens[item[0]].endswith("ed"):
                break  # a verb: the list has ended ("does not cause sedation and showed no potential")
            if any(t in claimed for t in item) or (phenotype is None and (
                    len(item) > _LIST_ITEM_WORDS or not _named_harm(tokens, item))):
                continue
            term = phenotype.term if phenotype is not None else " ".join(
                [tokens[t] for t in item[:-1]] + [lemma(tokens[item[-1]])])
            found.setdefault((item[0], item[-1] + 1), _Match(item[0], item[-1] + 1, "risk", term))
    return list(found.values()), symptoms


def _ability(marker: _Match, claims: list[_Match], clause: list[int]) -> bool:
    """Whether a "can" states a capacity, not a possibility: a benefit follows it in its clause before
    any risk ("physical therapy can enhance mobility"; but "can cause nausea" is a hedge)."""
    if marker.term not in _CAPACITY_MODALS:
        return False
    following = [m for m in claims if m.start >= marker.end and clause[m.start] == clause[marker.start]]
    return bool(following) and following[0].kind == "benefit"


def _directives(text: str, spans: list[tuple[str, int, int]], tokens: list[str], claims: list[_Match],
                lexicons: Lexicons) -> list[_Match]:
    """Advice given as an imperative that advice.txt does not list: a verb of imperatives.txt, or any verb
    after "never", "always" or "do not", opening the sentence or a clause after a comma or a semicolon,
    with or without "and"/"so" ("Never plunge alone, limit sessions to 10 minutes")."""
    claimed = {i for m in claims for i in range(m.start, m.end)}
    found = []
    for t in range(len(tokens)):
        gap, before = _gap(text, spans, t).strip(), _gap(text, spans, t - 1).strip() if t else ""
        opens = t == 0 or gap in (",", ";") or (tokens[t - 1] in ("and", "so") and not gap and before in (",", ";"))
        if not opens or t in claimed:
            continue
        lead = 2 if tokens[t:t + 2] == ["do", "not"] else 1 if tokens[t] in ("never", "always", "don't") else 0
        verb = t + lead
        if verb >= len(tokens) or verb in claimed or tokens[verb + 1:verb + 2] == ["of"]:
            continue
        # the base form only: "taken", "using", "saw" are no directives
        if lead or any(entry.term == tokens[verb]
                       for _, entry in lexicons.first_word_matches(DIRECTIVE_LISTS, tokens[verb])):
            found.append(_Match(t, verb + 1, "advice", " ".join(tokens[t:verb + 1])))
    return found


def _analyse(text: str, lexicons: Lexicons) -> _Sentence:
    spans = token_spans(text)
    tokens = [t for t, _, _ in spans]
    cues = _longest_first(_find(tokens, CUE_LISTS, lexicons), CUE_LISTS)
    claims = _longest_first(
        _find(tokens, CLAIM_CATEGORIES, lexicons) + _affixed(tokens, CLAIM_CATEGORIES, lexicons), CLAIM_CATEGORIES)
    # A claim term within a cue is part of it ("risk" in "lower risk of"); a negation within a longer claim
    # term is part of the term ("not" in the advice "do not combine").
    claims = [m for m in claims if not any(_within(m, c) for c in cues)]
    cues = [c for c in cues
            if not (c.kind == "negation" and any(_within(c, m) and m.length > c.length for m in claims))]
    claims = [_compared_benefit(m, tokens, cues, lexicons) for m in claims]
    markers = _longest_first(_find(tokens, MARKER_CATEGORIES, lexicons), MARKER_CATEGORIES)
    frames = [c for c in cues if c.kind == "harm_frame"]
    if frames:
        phenotypes = [m for m in _longest_first(_find(tokens, PHENOTYPE_LISTS, lexicons), PHENOTYPE_LISTS)
                      if not any(m.start < o.end and o.start < m.end for o in claims + cues)]
        risks, symptoms = _framed_risks(text, spans, frames, claims, phenotypes, cues, markers)
        claims = [m for m in claims if m not in symptoms] + risks
    claims = sorted(claims + _directives(text, spans, tokens, claims, lexicons), key=lambda m: m.start)
    clause = _clauses(text, spans, claims, [c for c in cues if c.kind == "scope_break"])
    claims = _drop_non_claims(claims, cues, tokens, clause)
    markers = [m for m in markers if not (m.kind == "hedge" and _ability(m, claims, clause))]
    return _Sentence(text, spans, cues, claims, markers, clause)


def _hedge_reaches(sentence: _Sentence, hedge: _Match, claim: _Match) -> bool:
    """A hedge in the claim's clause reaches it when it comes first, or when it follows
    within :data:`_HEDGE_REACH_BACK` words (other claim terms and "and"/"or" not
    counted) and no cue is between: "side effects may occur", but not "caution due
    to ... potential adverse reactions"."""
    if hedge.start < claim.start:
        return not (hedge.term in _MODIFIER_HEDGES and _own_determiner(sentence, hedge.end, claim.start))
    between = set(range(claim.end, hedge.start))
    claimed = {i for m in sentence.claims for i in range(m.start, m.end)}
    words = [i for i in between - claimed if sentence.spans[i][0] not in ("and", "or")]
    return len(words) <= _HEDGE_REACH_BACK and not any(c.start in between for c in sentence.cues)


def _own_determiner(sentence: _Sentence, start: int, end: int) -> bool:
    """Whether tokens ``start:end`` hold "and"/"or" and a determiner: a conjunct of its own, out of
    reach of a modifying hedge ("potential side effects and the risk of dependency")."""
    tokens = [t for t, _, _ in sentence.spans[start:end]]
    return any(a in ("and", "or") and b in _DETERMINERS for a, b in zip(tokens, tokens[1:]))


def _compared_after(sentence: _Sentence, claim: _Match) -> str:
    """The "than"/"as" that makes ``claim`` a comparison ("safer than", "as effective as"), or ``""``."""
    clause = sentence.clause[claim.start]
    end = min(claim.end + _COMPARATIVE_GAP + 1, len(sentence.spans))
    for t in range(claim.end, end):
        if sentence.clause[t] != clause:
            break
        word = sentence.spans[t][0]
        if word in _COMPARATIVE_LINKS and sentence.spans[t - 1][0] != "rather" and (
                word == "than" or _as_before(sentence, claim)):
            return sentence.surface(t, t + 1)
    return ""


def _compared_with(sentence: _Sentence, claim: _Match) -> str:
    """A "compared with"/"versus" later in the claim's clause ("reduce symptoms compared with placebo"),
    or ``""``."""
    words = [t for t, _, _ in sentence.spans]
    clause = sentence.clause[claim.start]
    for t in range(claim.end, len(words)):
        if sentence.clause[t] != clause:
            break
        for link in _COMPARED_WITH:
            if tuple(words[t:t + len(link)]) == link:
                return sentence.surface(t, t + len(link))
    return ""


def _as_before(sentence: _Sentence, claim: _Match) -> bool:
    """Whether "as" comes right before ``claim`` (the first half of "as effective as")."""
    return claim.start > 0 and sentence.spans[claim.start - 1][0] == "as"


def _list_start(sentence: _Sentence, claim: _Match) -> int:
    """Where the list of claim terms that ``claim`` ends begins: earlier terms of its clause joined to it
    by "and"/"or" alone ("sedation, euphoria, or respiratory depression")."""
    start = claim.start
    for other in sorted(sentence.claims, key=lambda m: -m.start):
        if other.end <= start and sentence.clause[other.start] == sentence.clause[claim.start] and all(
                t in ("and", "or") for t, _, _ in sentence.spans[other.end:start]):
            start = other.start
    return start


def _polarity(sentence: _Sentence, claim: _Match) -> tuple[str, str]:
    """``(polarity, cue)`` of one claim (see the module docstring)."""
    clause = sentence.clause[claim.start]
    same_clause = [m for m in sentence.cues + sentence.markers if sentence.clause[m.start] == clause]
    first = _list_start(sentence, claim)
    negators = [c for c in same_clause if c.kind in ("negation", "comparison") and c.end <= claim.start
                and (c.kind == "negation" or first - c.end <= _COMPARISON_REACH)]
    cancelled: list[tuple[_Match, _Match]] = []
    for first, second in zip(negators, negators[1:]):
        if first.kind == "negation" and second.start - first.end <= _DOUBLE_NEGATION_GAP \
                and not any(first in pair for pair in cancelled):
            cancelled.append((first, second))
    paired = {m for pair in cancelled for m in pair}
    active = [sentence.surface(c.start, c.end) for c in negators if c not in paired and c.kind == "negation"]
    compared = [sentence.surface(c.start, c.end) for c in negators if c not in paired and c.kind == "comparison"]
    if claim.affix:
        active.append(claim.affix)
    if link := _compared_after(sentence, claim) or _compared_with(sentence, claim):
        compared.append(link)
    double = [sentence.surface(a.start, b.end) for a, b in cancelled]
    hedges = [sentence.surface(m.start, m.end) for m in same_clause
              if m.kind == "hedge" and _hedge_reaches(sentence, m, claim)]
    boosters = [sentence.surface(m.start, m.end) for m in same_clause if m.kind == "booster"]
    if active:
        return "negated", "; ".join(normalize(c) for c in active)
    if compared:
        return "compared", "; ".join(normalize(c) for c in compared + hedges)
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


def block_sentences(blocks: Iterable[Block], excluded_roles: Iterable[str]):
    """``(block, sentence_index, sentence)`` of every counted sentence of a document's blocks."""
    excluded = set(excluded_roles)
    for block in blocks:
        if block.role not in excluded:
            for index, sentence in enumerate(split_sentences(block.text)):
                yield block, index, sentence


def counted_sentences(corpus: Iterable[Document], excluded_roles: Iterable[str]):
    """``(doc, block, sentence_index, sentence)`` of every counted sentence, in reading order."""
    for doc in corpus:
        for block, index, sentence in block_sentences(doc.blocks, excluded_roles):
            yield doc, block, index, sentence


def title_conditions(blocks: list[Block], lexicons: Lexicons) -> set[str]:
    """Risk terms that a document's title names as what its subject is for ("Melatonin for Insomnia and
    Jet Lag" gives insomnia): the conditions the text treats, not risks. The title is the first block
    when it is one line of at most :data:`_TITLE_WORDS` words without sentence punctuation at its end."""
    title = blocks[0].text.strip() if blocks else ""
    if not title or "\n" in title or len(title.split()) > _TITLE_WORDS or title[-1] in ".!?":
        return set()
    _, found, condition = title.lower().partition(" for ")
    return {m.term for m in _analyse(condition, lexicons).claims if m.kind == "risk"} if found else set()


def tag_documents(lexicons: Lexicons, excluded_roles: tuple[str, ...], documents: list[Document]) -> list[list]:
    """The claim rows of ``documents`` (see :func:`tag_claims`)."""
    rows = []
    for doc in documents:
        blocks = doc.blocks  # split once: the title and the sentences both come from them
        treated = title_conditions(blocks, lexicons)
        rows.extend([doc.doc_id, block.index, block.role, block.section, index, sentence, *row]
                    for block, index, sentence in block_sentences(blocks, excluded_roles)
                    for row in _sentence_rows(sentence, lexicons)
                    if not (row[0] == "risk" and row[1] in treated))
    return rows


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
        One row per term occurrence (and per risk a harm frame names), in reading order:

        - ``doc_id``, ``block`` (index in the document), ``block_role``,
          ``section``, ``sentence_index`` (in the block), ``sentence``;
        - ``category``: risk, benefit, advice, hedge or booster;
        - ``term``: the lexicon term (variants grouped, e.g. ``addictive`` ->
          ``addiction``; a framed risk's HPO name or its words, the last one
          lemmatised); ``matched``: the text as written; ``char_start``: its
          offset in ``sentence``;
        - ``polarity``: asserted, hedged, compared or negated (always
          asserted for hedges and boosters);
        - ``cue``: the words behind the polarity, normalised, ``; ``-separated
          (negation cues of a negated claim; comparison cues, "than"/"as" and
          hedges of a compared one; hedges of a hedged one; boosters of an
          asserted one; a cancelled double negation as ``not without``).

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


