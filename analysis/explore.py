"""Interactive views for JupyterLab: a live concordance, a topic browser, a document reader, sortable tables.

Each function takes a :class:`analysis.results.Results` and returns an
ipywidgets container. ipywidgets is the maintained choice here: these views
are compositions of standard controls (a text box, sliders, drop-downs,
HTML) over the package's own tables, which ipywidgets provides with no
front-end code of our own and no build step (JupyterLab 4 ships its widget
manager); anywidget is for widgets that need custom JavaScript, which none of
these does. Tables are shown sortable and searchable with itables, which
embeds DataTables in the notebook (offline).

Every view keeps its current table or text as attributes (``table``,
``count``, ``html`` ...), so that what a control changes can be read, and
tested, without a browser. The views compute nothing of their own: the
concordance is :func:`analysis.concordance.kwic`, the terms are
:func:`analysis.topics.topic_terms`, the passages and prevalence are the
tables the figures use.
"""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pandas as pd

from analysis import topics
from analysis.concordance import SORTS, kwic, match_offsets
from analysis.errors import AnalysisError
from analysis.export import atomic_write_bytes

ALL = "(all)"
SHOWN_LINES = 500  # concordance lines drawn; the table (and Export CSV) has every line


def _html_table(table: pd.DataFrame) -> str:
    """``table`` as escaped HTML (corpus text never becomes markup)."""
    return table.to_html(index=False, escape=True, border=0, na_rep="")


def _kwic_html(table: pd.DataFrame) -> str:
    """Concordance lines aligned on the match, escaped, in a scrolling box."""
    cell = '<td style="padding:1px 6px;{}">{}</td>'
    rows = "".join(
        "<tr>" + cell.format("color:#666", html.escape(r.doc_id)) + cell.format("color:#666", html.escape(r.role))
        + cell.format("text-align:right", html.escape(r.left))
        + cell.format("font-weight:bold;color:#a63603;white-space:nowrap", html.escape(r.match))
        + cell.format("text-align:left", html.escape(r.right)) + "</tr>"
        for r in table.itertuples())
    return f'<div style="max-height:28em;overflow:auto"><table style="border-collapse:collapse">{rows}</table></div>'


class Concordance(widgets.VBox):
    """A live KWIC: query, window, sort and filters by document, group and role.

    Attributes
    ----------
    query, window, sort, role, group, document, lemmas : ipywidgets controls
    table : DataFrame
        The lines shown, with the columns of :func:`analysis.concordance.kwic`
        (and ``group`` when the corpus is grouped).
    count : ipywidgets.HTML
        "N matches in M documents".
    """

    def __init__(self, results) -> None:
        self.results = results
        prepared = results.prepared
        self._group_of = None
        groups = []
        if results.group_column is not None:
            grouping = results.grouping
            names = np.array([*grouping.names, ""], dtype=object)
            self._group_of = dict(zip(grouping.doc_ids, names[grouping.of_document]))
            groups = grouping.names
        roles = sorted(prepared.blocks["role"].unique().tolist())
        self.query = widgets.Text(description="Search", placeholder="a word or a phrase", continuous_update=False)
        self.window = widgets.IntSlider(value=results.settings.window, min=0, max=20, description="Window")
        self.sort = widgets.Dropdown(options=list(SORTS), value="doc", description="Sort by")
        self.role = widgets.Dropdown(options=[ALL, *roles], description="Role")
        self.group = widgets.Dropdown(options=[ALL, *groups], description=results.group_column or "Group",
                                      disabled=not groups)
        self.document = widgets.Text(description="Document", placeholder="id contains", continuous_update=False)
        self.lemmas = widgets.Checkbox(value=True, description="other forms of the word (lemmas)")
        self.export_path = widgets.Text(value="kwic.csv", description="CSV file")
        self.export = widgets.Button(description="Export CSV")
        self.count = widgets.HTML()
        self.lines = widgets.HTML()
        self.table = pd.DataFrame()
        self._found: tuple | None = None
        for control in (self.query, self.window, self.sort, self.role, self.group, self.document, self.lemmas):
            control.observe(lambda change: self.refresh(), names="value")
        self.export.on_click(lambda button: self.save())
        super().__init__([
            widgets.HBox([self.query, self.window, self.sort]),
            widgets.HBox([self.role, self.group, self.document, self.lemmas]),
            widgets.HBox([self.export_path, self.export]), self.count, self.lines,
        ])

    def _matches(self) -> pd.DataFrame:
        key = (self.query.value, self.window.value, self.sort.value, self.lemmas.value)
        if self._found is None or self._found[0] != key:
            table = kwic(self.results.prepared, self.query.value, self.results.preprocessor, window=self.window.value,
                         sort=self.sort.value, lemmas=self.lemmas.value)
            if self._group_of is not None:
                table["group"] = table["doc_id"].map(self._group_of)
            self._found = key, table
        return self._found[1]

    def refresh(self) -> None:
        """Recompute the lines from the controls."""
        if not self.query.value.strip():
            self.table, self.count.value, self.lines.value = pd.DataFrame(), "", ""
            return
        try:
            table = self._matches()
        except AnalysisError as error:
            self.table, self.count.value, self.lines.value = pd.DataFrame(), html.escape(str(error)), ""
            return
        keep = np.ones(len(table), dtype=bool)
        if self.role.value != ALL:
            keep &= (table["role"] == self.role.value).to_numpy()
        if self.group.value != ALL and "group" in table:
            keep &= (table["group"] == self.group.value).to_numpy()
        if self.document.value:
            keep &= table["doc_id"].str.contains(self.document.value, regex=False).to_numpy()
        self.table = table[keep].reset_index(drop=True)
        more = f" (the first {SHOWN_LINES:,} shown; Export CSV writes all)" if len(self.table) > SHOWN_LINES else ""
        self.count.value = (f"<b>{len(self.table):,} matches in {self.table['doc_id'].nunique():,} documents</b>"
                            f"{more}")
        self.lines.value = _kwic_html(self.table.head(SHOWN_LINES))

    def save(self) -> Path:
        """Write the lines shown (every one) as CSV to the file named in ``export_path``."""
        path = Path(self.export_path.value)
        atomic_write_bytes(path, self.table.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        self.count.value += f" &middot; wrote {html.escape(str(path))}"
        return path


def kwic_browser(results) -> Concordance:
    """A live concordance of ``results``'s corpus (see :class:`Concordance`)."""
    return Concordance(results)


class TopicBrowser(widgets.VBox):
    """Pick a topic: its terms at a relevance slider, its label (editable, saved to the labels file), its top
    passages and its prevalence by group.

    Attributes
    ----------
    topic, relevance, label, save_label : ipywidgets controls
    terms : DataFrame
        The topic's top terms at the slider's lambda (:func:`analysis.topics.topic_terms`).
    passages : DataFrame
        Its top passages (:func:`analysis.topics.topic_evidence`).
    prevalence : DataFrame
        Its prevalence by group (empty without a grouping).
    """

    def __init__(self, results, *, n_terms: int = 15) -> None:
        self.results = results
        self.model = results.topics.model
        self.n_terms = n_terms
        self.labels_file = results.settings.topic_labels
        self.named = dict(self.model.named)
        self.automatic = topics.automatic_labels(self.model)  # what a blank label falls back to
        self.topic = widgets.Dropdown(options=self._options(), value=1, description="Topic")
        self.relevance = widgets.FloatSlider(value=results.settings.relevance_lambda, min=0, max=1, step=0.01,
                                             description="\u03bb", readout_format=".2f")
        self.label = widgets.Text(description="Label", continuous_update=False)
        self.save_label = widgets.Button(description="Save label")
        self.status = widgets.HTML()
        self.view = widgets.HTML()
        self.terms = self.passages = self.prevalence = pd.DataFrame()
        self.topic.observe(lambda change: self.refresh(), names="value")
        self.relevance.observe(lambda change: self.refresh(), names="value")
        self.save_label.on_click(lambda button: self.save())
        super().__init__([widgets.HBox([self.topic, self.relevance]), widgets.HBox([self.label, self.save_label]),
                          self.status, self.view])
        self.refresh()

    def _options(self) -> list[tuple[str, int]]:
        labels = {**self.automatic, **self.named}
        return [(f"{t}: {labels[t]}", t) for t in self.model.topic_ids]

    def refresh(self) -> None:
        """Redraw the selected topic."""
        t = self.topic.value
        automatic = self.automatic[t]
        self.label.value = self.named.get(t, automatic)
        terms = topics.topic_terms(self.model, self.n_terms, self.relevance.value, by="relevance")
        self.terms = terms.loc[terms["topic"] == t, ["rank", "term", "weight", "relevance", "term_count",
                                                     "topic_count"]].reset_index(drop=True)
        passages = self.results.evidence[0]
        self.passages = passages.loc[passages["topic"] == t, ["rank", "doc_id", "role", "weight", "excerpt"]]
        self.prevalence = pd.DataFrame()
        if self.results.group_column is not None:
            table = self.results.group_topic_prevalence
            self.prevalence = table.loc[table["topic"] == t, ["group", "documents", "prevalence", "low", "high"]]
        share = float(self.model.prevalence[t - 1])
        parts = [f"<p>{share:.1%} of tokens; automatic label: <i>{html.escape(automatic)}</i></p>",
                 f"<h4>Top terms at \u03bb = {self.relevance.value:.2f}</h4>",
                 _html_table(self.terms.round({"weight": 4, "relevance": 3, "topic_count": 1})),
                 "<h4>Top passages</h4>", _html_table(self.passages.round({"weight": 3}))]
        if len(self.prevalence):
            parts += [f"<h4>Prevalence by {html.escape(self.results.group_column)} (95% bootstrap interval)</h4>",
                      _html_table(self.prevalence.round({"prevalence": 3, "low": 3, "high": 3}))]
        self.view.value = "".join(parts)

    def save(self) -> Path:
        """Save the label in the box for the selected topic to the labels file (blank: automatic)."""
        t = self.topic.value
        label = " ".join(self.label.value.split())
        if label and label != self.automatic[t]:
            self.named[t] = label
        else:
            self.named.pop(t, None)
        atomic_write_bytes(self.labels_file, topics.labels_csv(self.model, self.named))
        self.topic.options = self._options()
        self.topic.value = t
        self.status.value = (f"Saved to {html.escape(str(self.labels_file))}: figures and tables use it from the "
                             "next run ('corpus-analysis figures', or a new Results).")
        return self.labels_file


def topic_browser(results, *, n_terms: int = 15) -> TopicBrowser:
    """A topic browser of ``results``'s reported model (see :class:`TopicBrowser`)."""
    return TopicBrowser(results, n_terms=n_terms)


class DocumentReader(widgets.VBox):
    """One document block by block, with its role, its topic mixture and highlighted matches of a term or of
    one of the claims tagger's categories (when the health-claims lens is on).

    Attributes
    ----------
    document, highlight, category : ipywidgets controls
    html : str
        The document as shown.
    marks : int
        Passages highlighted.
    """

    def __init__(self, results) -> None:
        self.results = results
        prepared = results.prepared
        self.doc_ids = list(prepared.doc_ids)
        claims = "health-claims" in results.settings.lenses
        categories = sorted(results.claims["category"].unique().tolist()) if claims else []
        self.document = widgets.Combobox(options=self.doc_ids[:10_000], value=self.doc_ids[0], description="Document",
                                         ensure_option=False, placeholder="a document id")
        self.highlight = widgets.Text(description="Highlight", placeholder="a word or a phrase",
                                      continuous_update=False)
        self.category = widgets.Dropdown(options=["(none)", *categories], description="Claims", disabled=not claims)
        self.view = widgets.HTML()
        self.html, self.marks = "", 0
        for control in (self.document, self.highlight, self.category):
            control.observe(lambda change: self.refresh(), names="value")
        super().__init__([widgets.HBox([self.document, self.highlight, self.category]), self.view])
        self.refresh()

    def _claim_spans(self, number: int, text: str) -> list[tuple[int, int]]:
        """Where the claims of the chosen category's terms are, in the document text."""
        claims = self.results.claims
        rows = claims[(claims["doc_id"] == self.doc_ids[number]) & (claims["category"] == self.category.value)]
        blocks = self.results.prepared.blocks
        first = int(np.flatnonzero(blocks["doc"].to_numpy() == number)[0])
        spans = []
        for row in rows.itertuples():
            start = int(blocks["start"].iat[first + int(row.block)])
            sentence = text.find(row.sentence, start)
            if sentence >= 0:
                spans.append((sentence + int(row.char_start), sentence + int(row.char_start) + len(row.matched)))
        return spans

    def refresh(self) -> None:
        """Redraw the document."""
        if self.document.value not in self.doc_ids:
            self.html, self.marks = "", 0
            self.view.value = "<p>No document with that id.</p>"
            return
        prepared = self.results.prepared
        number = self.doc_ids.index(self.document.value)
        text = prepared.texts([number])[number]
        spans: list[tuple[int, int]] = []
        if self.highlight.value.strip():
            try:
                spans = match_offsets(prepared, self.highlight.value, self.results.preprocessor, document=number)
            except AnalysisError:
                spans = []
        if self.category.value != "(none)":
            spans += self._claim_spans(number, text)
        spans.sort()
        self.marks = len(spans)
        model = self.results.topics.model
        parts = [f"<h3>{html.escape(self.document.value)}</h3>", self._mixture(model)]
        blocks = prepared.blocks
        rows = blocks[blocks["doc"] == number]
        excluded = set(self.results.preprocessor.excluded_roles)
        for row in rows.itertuples():
            inside = [(max(s, row.start), min(e, row.end)) for s, e in spans if s < row.end and e > row.start]
            shown, at = [], int(row.start)
            for s, e in inside:
                shown += [html.escape(text[at:s]), f"<mark>{html.escape(text[s:e])}</mark>"]
                at = e
            shown.append(html.escape(text[at:int(row.end)]))
            style = ' style="color:#777"' if row.role in excluded else ""
            parts.append(f'<p class="block"{style}><span style="background:#888;color:#fff;border-radius:3px;padding:0 4px;'
                         f'font-size:80%">{html.escape(row.role)}</span> {"".join(shown)}</p>')
        self.html = "".join(parts)
        self.view.value = self.html

    def _mixture(self, model) -> str:
        """The document's main topics (5 % or more of its tokens)."""
        mixture = topics.doc_topics(model, documents=[self.document.value])
        if not len(mixture) or mixture["weight"].isna().any():
            return "<p><i>No topic mixture (no vocabulary term).</i></p>"
        labels = topics.topic_labels(model)
        top = mixture.sort_values(["weight", "topic"], ascending=[False, True])
        return "<p>" + " &middot; ".join(f"Topic {r.topic} ({html.escape(labels[r.topic])}) {r.weight:.0%}"
                                         for r in top.itertuples() if r.weight >= 0.05) + "</p>"


def document_reader(results) -> DocumentReader:
    """A reader of ``results``'s documents (see :class:`DocumentReader`)."""
    return DocumentReader(results)


_ITABLES_READY = False


def table_view(table: pd.DataFrame, **options) -> None:
    """Show ``table`` as a sortable, searchable table (itables); ``options`` go to ``itables.show``.

    The first call in a kernel puts itables' JavaScript into the notebook (offline: nothing is loaded from
    the network), as ``itables.init_notebook_mode`` does, without making every DataFrame interactive.
    """
    import itables

    global _ITABLES_READY
    if not _ITABLES_READY:
        itables.init_notebook_mode(all_interactive=False, connected=False)
        _ITABLES_READY = True
    itables.show(table, connected=False, **options)
