"""Summaries of tagged claims: contradictions, framing, hedging density."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping

import pandas as pd

from analysis.claims.lexicons import CLAIM_CATEGORIES, MARKER_CATEGORIES, POLARITIES
from analysis.corpus import Document
from analysis.errors import AnalysisError
from analysis.structure import ROLES
from analysis.tokens import EXCLUDED_ROLES_DEFAULT, tokenize

_SIDE_COLUMNS = ["doc_id", "block", "sentence_index", "block_role", "sentence", "polarity"]


def contradictions(claims: pd.DataFrame, *, categories: Iterable[str] = ("risk",)) -> pd.DataFrame:
    """Pairs of statements about the same term with opposite polarity.

    A statement is a sentence with a term and a polarity; a pair opposes a
    negated statement to an asserted, hedged or compared one about the same
    term (lexicon groups apply: ``addictive`` and ``addiction`` are one term).
    A comparison still grants the claim ("a lower risk of addiction than
    opioids" grants a risk), so it opposes a denial ("without addiction").

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
    >>> from analysis.claims.tagger import tag_claims
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
        :func:`tag_claims`, or its :func:`statement_counts` (what a corpus tagged in parts keeps).
    categories : iterable of str, default ("risk",)

    Returns
    -------
    DataFrame
        ``category, term, scope, doc_id_a, doc_id_b, pairs, negated_a, other_a, negated_b, other_b``:
        ``pairs`` opposed statements (one negated, one asserted, hedged or compared) about ``term``, within one
        document (``doc_id_a == doc_id_b``) or across two (``doc_id_a`` first in document order);
        ``negated_*`` and ``other_*`` count each document's statements about the term. Most pairs
        first. Its rows add up to the rows of :func:`contradictions`, but its size grows with the
        documents that disagree, not with the sentences.

    Examples
    --------
    >>> from analysis.claims.tagger import tag_claims
    >>> docs = [Document("a", "Kratom is not addictive. Kratom may cause addiction.", "a"),
    ...         Document("b", "Addiction is a real concern. Addiction happens.", "b")]
    >>> contradiction_summary(tag_claims(docs))[["term", "scope", "doc_id_a", "doc_id_b", "pairs"]].values.tolist()
    [['addiction', 'across', 'a', 'b', 2], ['addiction', 'within', 'a', 'a', 1]]
    """
    per_doc = claims if "total" in claims.columns else statement_counts(claims, categories)
    per_doc = per_doc[per_doc["category"].isin(list(categories))].sort_values(["category", "term", "doc_id"])
    per_doc = per_doc.assign(other=per_doc["total"] - per_doc["negated"])
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


STATEMENT_COLUMNS = ["category", "term", "doc_id", "negated", "total"]
COUNT_COLUMNS = ["doc_id", "block_role", "category", "polarity", "count"]


def statement_counts(claims: pd.DataFrame, categories: Iterable[str] = CLAIM_CATEGORIES) -> pd.DataFrame:
    """Statements (a sentence with a term and a polarity) per category, term and document: ``category,
    term, doc_id, negated, total``, in that order. What :func:`contradiction_summary` reads; a document's
    counts come from its own rows, so the counts of chunks of whole documents are concatenated, not added.

    >>> from analysis.claims.tagger import tag_text
    >>> statement_counts(tag_text("Kratom is not addictive. It may cause addiction.")).values.tolist()
    [['risk', 'addiction', 'text', 1, 2]]
    """
    statements = (claims[claims["category"].isin(list(categories))]
                  .drop_duplicates(["category", "term", "doc_id", "block", "sentence_index", "polarity"])
                  .assign(negated=lambda t: t["polarity"] == "negated"))
    table = (statements.groupby(["category", "term", "doc_id"], sort=True)["negated"]
             .agg(negated="sum", total="count").reset_index())
    return table.astype({"negated": "int64", "total": "int64"})[STATEMENT_COLUMNS]


def claim_counts(claims: pd.DataFrame) -> pd.DataFrame:
    """Rows of :func:`tag_claims` counted per document, block role, category and polarity: ``doc_id,
    block_role, category, polarity, count``. What :func:`framing` and :func:`hedging_density` read; like
    :func:`statement_counts`, the counts of chunks of whole documents are concatenated.

    >>> from analysis.claims.tagger import tag_text
    >>> claim_counts(tag_text("Kratom may alleviate pain.")).values.tolist()
    [['text', 'paragraph', 'hedge', 'asserted', 1], ['text', 'paragraph', 'benefit', 'hedged', 1]]
    """
    keys = ["doc_id", "block_role", "category", "polarity"]
    return claims.groupby(keys, sort=False).size().rename("count").reset_index().astype({"count": "int64"})


def _counted(claims: pd.DataFrame) -> pd.DataFrame:
    """:func:`claim_counts` of ``claims``, unless it is such a table already."""
    return claims if "count" in claims.columns else claim_counts(claims)


def framing(claims: pd.DataFrame, by: str = "doc") -> pd.DataFrame:
    """Risk and benefit claims by polarity, per document or per block role.

    Parameters
    ----------
    claims : DataFrame
        :func:`tag_claims`, or its :func:`claim_counts`.
    by : {"doc", "role"}
        Group by ``doc_id`` or by ``block_role``.

    Returns
    -------
    DataFrame
        ``by, group, category, polarity, count, share``: every group x
        (risk, benefit) x (asserted, hedged, compared, negated), zeros included;
        ``share`` is the count over the group's risk and benefit claims (0
        when it has none). Documents are sorted by id, roles in template order
        (summary, intro, heading, body, conclusion, ...).

    Examples
    --------
    >>> from analysis.claims.tagger import tag_text
    >>> table = framing(tag_text("Kratom relieves pain. It may cause nausea."))
    >>> table[table["count"] > 0][["group", "category", "polarity", "count", "share"]].values.tolist()
    [['text', 'risk', 'hedged', 1, 0.5], ['text', 'benefit', 'asserted', 1, 0.5]]
    """
    if by not in ("doc", "role"):
        raise AnalysisError(f"by must be 'doc' or 'role', got {by!r}")
    column = "doc_id" if by == "doc" else "block_role"
    claims = _counted(claims)
    present = claims[column].unique().tolist()
    if by == "doc":
        groups = sorted(present)
    else:
        groups = sorted(present, key=lambda role: (ROLES.index(role) if role in ROLES else len(ROLES), role))
    counted = claims[claims["category"].isin(["risk", "benefit"])]
    counts = counted.groupby([column, "category", "polarity"])["count"].sum()
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
        :func:`tag_claims`, or its :func:`claim_counts`.
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
    >>> from analysis.claims.tagger import tag_text
    >>> claims = tag_text("Kratom may help. It clearly can.")
    >>> hedging_density(claims, {"text": 7}).values.tolist()
    [['text', 'hedge', 2, 7, 285.7142857142857], ['text', 'booster', 1, 7, 142.85714285714286]]
    """
    counts = words if isinstance(words, (Mapping, pd.Series)) else word_counts(words)
    counts = pd.Series(counts, dtype=int)
    index = pd.MultiIndex.from_product([sorted(counts.index), list(MARKER_CATEGORIES)], names=["doc_id", "marker"])
    claims = _counted(claims)
    markers = claims[claims["category"].isin(MARKER_CATEGORIES)].groupby(["doc_id", "category"])["count"].sum()
    table = markers.rename_axis(["doc_id", "marker"]).reindex(index, fill_value=0).rename("count").reset_index()
    table["words"] = table["doc_id"].map(counts).astype(int)
    table["per_1000_words"] = (1000 * table["count"] / table["words"].where(table["words"] > 0)).fillna(0.0)
    return table.astype({"count": int})


