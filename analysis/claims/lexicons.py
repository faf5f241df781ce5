"""The claims lexicons: editable term lists, parsed once and indexed by lemma."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd

from analysis.errors import AnalysisError
from analysis.tokens import normalize, tokenize

CLAIM_CATEGORIES = ("risk", "benefit", "advice")
MARKER_CATEGORIES = ("hedge", "booster")
CATEGORIES = CLAIM_CATEGORIES + MARKER_CATEGORIES
POLARITIES = ("asserted", "hedged", "compared", "negated")
CUE_LISTS = ("negation", "comparison", "pseudo_negation", "goal", "comparator", "harm_frame", "scope_break")
PHENOTYPE_LISTS = ("phenotype",)
DIRECTIVE_LISTS = ("imperative",)
LEXICON_FILES = {
    "risk": "risk.txt",
    "benefit": "benefit.txt",
    "advice": "advice.txt",
    "hedge": "hedges.txt",
    "booster": "boosters.txt",
    "negation": "negation.txt",
    "comparison": "comparisons.txt",
    "pseudo_negation": "pseudo_negation.txt",
    "goal": "goals.txt",
    "comparator": "comparators.txt",
    "imperative": "imperatives.txt",
    "harm_frame": "harm_frames.txt",
    "phenotype": "phenotypes.txt",
    "scope_break": "scope_breaks.txt",
}
_COMMENT = re.compile(r"(?:^|\s)#.*$")

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
    comparison: tuple[Entry, ...]
    pseudo_negation: tuple[Entry, ...]
    goal: tuple[Entry, ...]
    comparator: tuple[Entry, ...]
    imperative: tuple[Entry, ...]
    harm_frame: tuple[Entry, ...]
    phenotype: tuple[Entry, ...]
    scope_break: tuple[Entry, ...]
    negation_prefixes: tuple[str, ...] = ()
    negation_suffixes: tuple[str, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)
    _by_first_word: dict = field(init=False, repr=False, compare=False)
    _first_matches: dict = field(init=False, repr=False, compare=False)  # lists -> token -> (list, entry)
    _affixed: dict = field(init=False, repr=False, compare=False)  # lists -> token -> (list, term, affix)

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
        object.__setattr__(self, "_first_matches", {})
        object.__setattr__(self, "_affixed", {})

    def candidates(self, name: str, token: str) -> list[Entry]:
        """Entries of list ``name`` whose first word may match ``token``."""
        keyed, wildcards = self._by_first_word[name]
        keys = {token, _lookup_key(token)}
        return [e for key in sorted(keys) for e in keyed.get(key, ())] + wildcards

    def first_word_matches(self, names: tuple[str, ...], token: str) -> tuple[tuple[str, Entry], ...]:
        """``(list, entry)`` for the entries of the lists ``names`` whose first word matches ``token``
        (:func:`word_matches`), list by list; worked out once per token (see :meth:`first_word_table`)."""
        known = self.first_word_table(names)
        found = known.get(token)
        if found is None:
            found = known[token] = tuple((name, e) for name in names for e in self.candidates(name, token)
                                         if word_matches(e.words[0], token))
        return found

    def first_word_table(self, names: tuple[str, ...]) -> dict[str, tuple[tuple[str, Entry], ...]]:
        """The tokens seen so far with their :meth:`first_word_matches` for ``names``."""
        return self._first_matches.setdefault(names, {})

    def affixed_table(self, names: tuple[str, ...]) -> dict[str, tuple[tuple[str, str, str], ...]]:
        """A memo, by token, of the one-word terms of ``names`` behind a negating affix (kept by the tagger)."""
        return self._affixed.setdefault(names, {})

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
    if folder is not None and (folder / "risk_reducers.txt").exists():  # its cues now give `compared`, not `negated`
        raise AnalysisError(f"{folder / 'risk_reducers.txt'}: renamed comparisons.txt (its cues now "
                            "make a claim 'compared', not 'negated'); rename the file to use it")
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
def shipped_lexicons() -> Lexicons:
    return load_lexicons()


@functools.lru_cache(maxsize=65536)
def lemma(token: str) -> str:
    """simplemma's English lemma of ``token``, lowercased (cached)."""
    import simplemma

    return simplemma.lemmatize(token, lang="en").lower()


def _lookup_key(word: str) -> str:
    return word if "'" in word else lemma(word)


def word_matches(word: str, token: str) -> bool:
    """Same form, same prefix (``word*``) or same lemma; contractions ("isn't") only
    as written, since their lemma is the bare verb ("be")."""
    if word.endswith("*"):
        return token.startswith(word[:-1])
    return token == word or ("'" not in word and "'" not in token and lemma(token) == lemma(word))
