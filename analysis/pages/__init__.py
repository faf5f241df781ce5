"""Interactive pages that work offline: ``topics.html`` (pyLDAvis) and ``explorer.html``.

Each page is one self-contained HTML file. Corpus text reaches it only as
JSON inside ``<script type="application/json">`` blocks, escaped so that no
text can end the block (:func:`analysis.pages.embed.script_safe_json`), and the
page's script puts it into the document as text (``textContent``), never as
markup.
"""

MAX_PAGE_CHARACTERS = 20_000_000
"""Characters of corpus text ``explorer.html`` embeds for its concordance and reader (about 3 million
words, a page of about 25 MB that a browser still searches in well under a second)."""
