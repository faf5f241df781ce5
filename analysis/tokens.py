"""Normalisation and tokenisation as small composable steps, plus the
preprocessing pipeline that turns blocks into terms and audits each step.

Order of the pipeline (each step is reported in the waterfall):

1. ``tokenized``: Unicode NFKC, curly quotes and apostrophes straightened,
   lowercased; word tokens keep internal hyphens, apostrophes and digits
   (``7-hydroxymitragynine``, ``kr8tom``); a possessive ``'s`` is removed.
2. ``outline excluded``: tokens of blocks left out of counts (the outline
   bullets, unless ``include_outline``).
3. ``lemmatised`` (optional): dictionary lemmas from simplemma.
4. ``phrases joined`` (optional): gensim ``Phrases`` joins collocations such as
   ``chronic pain`` into one term (learned from this corpus).
5. ``numbers dropped``, ``stopwords removed`` (gensim's maintained list, and
   clitics such as ``we'll``), ``short tokens dropped``, ``corpus stopwords
   removed`` (``extra_stopwords`` from the config).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping, Sequence

import pandas as pd

from analysis.config import Settings
from analysis.corpus import Corpus, Document
from analysis.structure import Block

_QUOTES = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u02bc": "'", "\u2032": "'", "\u0060": "'",
    "\u00b4": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-",
})
_TOKEN = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")
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
    return unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()


def strip_possessive(token: str) -> str:
    """Remove a possessive ``'s`` (``kratom's`` -> ``kratom``)."""
    return token[:-2] if token.endswith("'s") and len(token) > 2 else token


def tokenize(text: str) -> list[str]:
    """Word tokens of ``text``: normalised, possessives removed.

    >>> tokenize("Kratom\u2019s 7-hydroxymitragynine, kr8tom and anti-inflammatory effects.")
    ['kratom', '7-hydroxymitragynine', 'kr8tom', 'and', 'anti-inflammatory', 'effects']
    """
    return [strip_possessive(t) for t in _TOKEN.findall(normalize(text))]


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """Normalised word tokens of ``text`` with their character span in ``text``.

    >>> token_spans("Kratom\u2019s ROLE")
    [('kratom', 0, 8), ('role', 9, 13)]
    """
    straight = text.translate(_QUOTES)  # one character for one: spans stay valid
    return [
        (strip_possessive(unicodedata.normalize("NFKC", m.group()).lower()), m.start(), m.end())
        for m in _TOKEN.finditer(straight)
    ]


def split_sentences(text: str) -> list[str]:
    """Split on sentence punctuation followed by white space, and on newlines."""
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def tokenize_sentences(text: str) -> list[list[str]]:
    """Tokens per sentence; empty sentences are dropped."""
    return [tokens for tokens in (tokenize(s) for s in split_sentences(text)) if tokens]


def maintained_stopwords(name: str) -> frozenset[str]:
    """The maintained stopword list called ``name`` (``gensim`` or ``none``).

    ``gensim`` is ``gensim.parsing.preprocessing.STOPWORDS`` (337 English words).
    """
    if name == "none":
        return frozenset()
    from gensim.parsing.preprocessing import STOPWORDS

    return frozenset(STOPWORDS)


def is_clitic(token: str) -> bool:
    """Contractions such as ``we'll``, ``you're``, ``don't``: function words."""
    return bool(_CLITIC.search(token))


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


@dataclass
class Waterfall:
    """Tokens and types left after each preprocessing step.

    ``affected[step]`` counts the tokens a step removed (or, for lemmas and
    phrases, the tokens it produced by changing others).
    """

    tokens: Counter = field(default_factory=Counter)
    types: dict[str, set] = field(default_factory=dict)
    affected: dict[str, Counter] = field(default_factory=dict)

    def record(self, step: str, tokens: Iterable[str], affected: Iterable[str] = ()) -> None:
        tokens = list(tokens)
        self.tokens[step] += len(tokens)
        self.types.setdefault(step, set()).update(tokens)
        self.affected.setdefault(step, Counter()).update(affected)

    def to_frame(self, steps: Iterable[str], top: int = 5) -> pd.DataFrame:
        """Tidy table: ``step, order, tokens, types, tokens_removed, top_affected``."""
        rows, previous = [], None
        for order, step in enumerate(steps):
            tokens = self.tokens.get(step, 0)
            affected = self.affected.get(step, Counter())
            top_items = sorted(affected.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
            rows.append({
                "step": step,
                "order": order,
                "tokens": tokens,
                "types": len(self.types.get(step, ())),
                "tokens_removed": 0 if previous is None else previous - tokens,
                "top_affected": "; ".join(f"{term} ({count})" for term, count in top_items),
            })
            previous = tokens
        return pd.DataFrame(rows, columns=["step", "order", "tokens", "types", "tokens_removed", "top_affected"])


@dataclass(frozen=True)
class ProcessedBlock:
    """A block with its tokens before filtering and its final terms.

    Attributes
    ----------
    doc_id : str
    block : Block
    included : bool
        False for blocks left out of counts (the outline by default).
    sentences : list of list of str
        Normalised tokens per sentence (after lemmas, before phrases and filters);
        what n-grams are counted from.
    terms : list of str
        The terms that are counted.
    """

    doc_id: str
    block: Block
    included: bool
    sentences: list[list[str]]
    terms: list[str]


class Preprocessor:
    """Turns documents into terms according to ``settings``.

    Call :meth:`fit` on the corpus first when phrases are on: gensim's
    ``Phrases`` learns the collocations from the corpus itself.

    Parameters
    ----------
    settings : Settings
    masks : mapping of str to list of (int, int), optional
        Character ranges of ``doc.text`` per document id to leave out of
        every term and topic analysis (reused boilerplate, see
        :attr:`analysis.reuse.Reuse.reused_char_ranges`): words overlapping
        a range are dropped, and the gap ends a sentence so no n-gram or
        phrase spans it. The waterfall reports the step.
    """

    def __init__(self, settings: Settings, masks: Mapping[str, Sequence[tuple[int, int]]] | None = None) -> None:
        self.settings = settings
        self.stopwords = maintained_stopwords(settings.stopwords) - {normalize(w) for w in settings.keep_words}
        self.extra_stopwords = frozenset(normalize(w) for w in settings.extra_stopwords)
        self.excluded_roles = excluded_roles(settings)
        self.phrases_: dict[tuple[str, str], float] | None = None
        self.masks = masks
        self._lemma_cache: dict[str, str] = {}

    @property
    def steps(self) -> tuple[str, ...]:
        """The steps this configuration runs, in order."""
        skip = set()
        if self.masks is None:
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

            lemma = simplemma.lemmatize(token, lang=self.settings.language).lower()
            self._lemma_cache[token] = lemma
        return lemma

    def _lemmatized(self, sentences: list[list[str]]) -> list[list[str]]:
        if not self.settings.lemmatize:
            return sentences
        return [[self.lemma(t) for t in s] for s in sentences]

    def base_sentences(self, text: str) -> list[list[str]]:
        """Tokenised sentences, lemmatised when the setting is on."""
        return self._lemmatized(tokenize_sentences(text))

    def _included_blocks(self, doc: Document) -> Iterator[tuple[Block, bool]]:
        for block in doc.blocks:
            yield block, block.role not in self.excluded_roles

    def _unmasked(self, doc: Document, block: Block) -> tuple[str, list[str]]:
        """The block text with masked words replaced by line breaks, and the masked words.

        Masks index ``doc.text``; the block's own text may lack a bullet
        marker or a line break, but it has the same words in the same order,
        so the words are matched by their index.
        """
        ranges = [(s, e) for s, e in (self.masks or {}).get(doc.doc_id, ()) if s < block.end and e > block.start]
        if not ranges:
            return block.text, []
        raw = token_spans(doc.text[block.start:block.end])
        hidden = {i for i, (_, s, e) in enumerate(raw)
                  if any(s + block.start < end and e + block.start > start for start, end in ranges)}
        chars = list(block.text)
        masked = []
        for i, (token, s, e) in enumerate(token_spans(block.text)):
            if i in hidden:
                chars[s:e] = "\n" * (e - s)
                masked.append(token)
        return "".join(chars), masked

    def fit(self, corpus: Iterable[Document]) -> "Preprocessor":
        """Learn multiword terms from the included blocks of ``corpus``.

        gensim's ``Phrases`` scores every adjacent word pair by normalised PMI;
        pairs with at least ``phrase_min_count`` occurrences and a score of at
        least ``phrase_threshold`` become terms, unless either word is a
        stopword or a number (``it is``, ``can be`` are not terms).
        """
        self.phrases_ = {}
        if not self.settings.phrases:
            return self
        from gensim.models.phrases import Phrases

        sentences = _Reiterable(lambda: (
            sentence
            for doc in corpus
            for block, included in self._included_blocks(doc) if included
            for sentence in self.base_sentences(self._unmasked(doc, block)[0])
        ))
        model = Phrases(
            sentences,
            min_count=self.settings.phrase_min_count,
            threshold=self.settings.phrase_threshold,
            scoring="npmi",
            delimiter=" ",
            connector_words=frozenset(),
        )
        for phrase, score in model.export_phrases().items():
            first, second = phrase.split(" ")
            if not any(self.is_function_word(w) for w in (first, second)):
                self.phrases_[(first, second)] = float(score)
        return self

    def is_function_word(self, token: str) -> bool:
        """Stopwords, clitics, numbers and too-short tokens: never the edge of a term or n-gram."""
        return token in self.stopwords or token.isdigit() or is_clitic(token) or len(token) < self.settings.min_token_length

    def join_phrases(self, sentence: list[str]) -> list[str]:
        """Join learned pairs in ``sentence``; where pairs overlap
        (``plant mitragyna speciosa``), the higher-scoring pair wins."""
        candidates = sorted(
            ((-self.phrases_[pair], i) for i, pair in enumerate(zip(sentence, sentence[1:])) if pair in self.phrases_)
        )
        taken: set[int] = set()
        starts: set[int] = set()
        for _, i in candidates:
            if i not in taken and i + 1 not in taken:
                taken.update((i, i + 1))
                starts.add(i)
        out, i = [], 0
        while i < len(sentence):
            if i in starts:
                out.append(f"{sentence[i]} {sentence[i + 1]}")
                i += 2
            else:
                out.append(sentence[i])
                i += 1
        return out

    def phrase_table(self) -> pd.DataFrame:
        """The learned multiword terms with their NPMI score: ``phrase, score``."""
        items = sorted(((" ".join(p), s) for p, s in (self.phrases_ or {}).items()), key=lambda kv: (-kv[1], kv[0]))
        return pd.DataFrame(items, columns=["phrase", "score"]).astype({"phrase": str, "score": float})

    def process(self, doc: Document, waterfall: Waterfall | None = None) -> Iterator[ProcessedBlock]:
        """Yield every block of ``doc`` with its tokens and terms.

        Parameters
        ----------
        doc : Document
        waterfall : Waterfall, optional
            Updated with what each step left and removed.
        """
        record = waterfall.record if waterfall is not None else (lambda *a, **k: None)
        for block, included in self._included_blocks(doc):
            raw = tokenize_sentences(block.text)
            flat_raw = [t for s in raw for t in s]
            record("tokenized", flat_raw)
            if not included:
                record("outline excluded", [], flat_raw)
                yield ProcessedBlock(doc.doc_id, block, False, raw, [])
                continue
            record("outline excluded", flat_raw)
            if self.masks is not None:
                text, masked = self._unmasked(doc, block)
                if masked:
                    raw = tokenize_sentences(text)
                    flat_raw = [t for s in raw for t in s]
                record("reused text masked", flat_raw, masked)
            sentences = self._lemmatized(raw)
            if self.settings.lemmatize:
                flat = [t for s in sentences for t in s]
                record("lemmatised", flat, [t for t, r in zip(flat, flat_raw) if t != r])
            terms = [t for s in sentences for t in s]
            if self.phrases_:
                joined = [t for s in sentences for t in self.join_phrases(s)]
                record("phrases joined", joined, [t for t in joined if " " in t])
                terms = joined
            terms = self._filter(terms, "numbers dropped", lambda t: not t.isdigit() or not self.settings.drop_numbers, record)
            terms = self._filter(terms, "stopwords removed", lambda t: t not in self.stopwords and not is_clitic(t), record)
            terms = self._filter(terms, "short tokens dropped", lambda t: len(t) >= self.settings.min_token_length, record)
            if self.extra_stopwords:
                terms = self._filter(terms, "corpus stopwords removed", lambda t: t not in self.extra_stopwords, record)
            yield ProcessedBlock(doc.doc_id, block, True, sentences, terms)

    @staticmethod
    def _filter(terms, step, keep, record) -> list[str]:
        kept, dropped = [], []
        for t in terms:
            (kept if keep(t) else dropped).append(t)
        record(step, kept, dropped)
        return kept

    def terms(self, text: str) -> list[str]:
        """Terms of a free text, processed like a corpus document."""
        return [t for block in self.process(Document("text", text, "text")) for t in block.terms]


class _Reiterable:
    """An iterable that calls ``factory`` afresh for each pass (gensim iterates twice)."""

    def __init__(self, factory) -> None:
        self.factory = factory

    def __iter__(self):
        return iter(self.factory())


def fitted_preprocessor(settings: Settings, corpus: Corpus | None = None, *,
                        masks: Mapping[str, Sequence[tuple[int, int]]] | None = None) -> Preprocessor:
    """A :class:`Preprocessor` fitted on the corpus of ``settings`` (``masks`` as in :class:`Preprocessor`)."""
    return Preprocessor(settings, masks).fit(corpus if corpus is not None else Corpus.from_settings(settings))
