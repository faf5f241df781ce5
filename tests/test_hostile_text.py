"""Text that looks like text but is not what it seems: invisible characters inside words, other line
separators and control characters give the same tables as the clean text."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from analysis.config import Settings
from analysis.corpus import CorpusWarning
from analysis.results import Results
from analysis.structure import FORMAT_CHARACTERS


def _copy(seed: Path, target: Path, change) -> Path:
    target.mkdir(parents=True)
    for path in sorted(seed.glob("*.md")) + sorted(seed.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        (target / path.name).write_bytes(change(text).encode("utf-8"))
    return target


def _tables(corpus: Path, tmp_path: Path) -> tuple:
    results = Results(Settings(corpus=corpus, out=tmp_path / f"out-{corpus.name}", cache=False))
    summary = results.corpus_summary
    return results.corpus_terms, summary.drop(columns="doc_id"), results.terms.waterfall


def _same(first: tuple, second: tuple) -> None:
    for a, b in zip(first, second):
        assert a.reset_index(drop=True).equals(b.reset_index(drop=True))


def test_invisible_format_characters_inside_words_change_no_count(seed_corpus, tmp_path):
    """A soft hyphen, zero-width space or joiner, word joiner or stray BOM inside words: the same terms."""
    rng = np.random.default_rng(3)
    word = re.compile(r"[A-Za-z]{4,}")

    def sprinkle(text: str) -> str:
        def inside(match: re.Match) -> str:
            w = match.group()
            if rng.random() < 0.3:
                at = int(rng.integers(1, len(w)))
                return w[:at] + rng.choice(list(FORMAT_CHARACTERS)) * int(rng.integers(1, 3)) + w[at:]
            return w
        return word.sub(inside, text)

    clean = _copy(seed_corpus, tmp_path / "clean", lambda t: t)
    sprinkled = _copy(seed_corpus, tmp_path / "sprinkled", sprinkle)
    assert any(c in (sprinkled / p.name).read_text(encoding="utf-8") for p in clean.iterdir() for c in FORMAT_CHARACTERS)
    _same(_tables(clean, tmp_path), _tables(sprinkled, tmp_path))


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\u2028", "\u2029", "\x85"], ids=["CRLF", "CR", "LS", "PS", "NEL"])
def test_every_line_break_gives_the_tables_of_lf(seed_corpus, tmp_path, newline):
    """The outline bullets, headings and paragraphs are found the same whatever breaks the lines."""
    lf = _copy(seed_corpus, tmp_path / "lf", lambda t: t)
    other = _copy(seed_corpus, tmp_path / "other", lambda t: t.replace("\n", newline))
    _same(_tables(lf, tmp_path), _tables(other, tmp_path))


def test_control_characters_never_reach_the_tables(seed_corpus, tmp_path):
    """NUL, ESC, VT, DEL and C1 controls sprinkled over the text: removed when decoding, so the stored
    text, the tagged claims and the counts are those of the clean text."""
    controls = "\x00\x1b\x0b\x07\x7f\x9b"
    rng = np.random.default_rng(5)

    def soil(text: str) -> str:
        return "".join(c + (rng.choice(list(controls)) if c == " " and rng.random() < 0.2 else "") for c in text)

    clean = _copy(seed_corpus, tmp_path / "clean", lambda t: t)
    soiled = _copy(seed_corpus, tmp_path / "soiled", soil)
    planted = sum(sum(map(path.read_text(encoding="utf-8").count, controls)) for path in soiled.iterdir())
    with pytest.warns(CorpusWarning, match=f"{planted:,} control character\\(s\\) .* removed from 5 document"):
        soiled_tables = _tables(soiled, tmp_path)
    _same(_tables(clean, tmp_path), soiled_tables)
    results = Results(Settings(corpus=soiled, out=tmp_path / "out", cache=False, lenses=("health-claims",)))
    with pytest.warns(CorpusWarning, match="control character"):
        stored = "".join(document.text for document in results.prepared)
    assert not set(controls) & set(stored)
    assert not any(set(controls) & set(sentence) for sentence in results.claims["sentence"])
    assert results.prepared.reading_record()["control_characters"] == {"removed": planted, "documents": 5}


def test_dollar_signs_and_backslashes_in_terms_and_ids_are_drawn_as_written():
    """Mathtext would read '$5 and $10' as a formula and fail on '\\frac' or a lone '$': labels are literal."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from analysis import plots
    from analysis.export import figure_bytes

    terms = ["$5 and $10", "$\\frac{a}{$", "cost $", "$_$", "^caret"]
    data = pd.DataFrame({"term": terms, "count": [5, 4, 3, 2, 1], "tokens": 100,
                         "per_1000_tokens": [50.0, 40.0, 30.0, 20.0, 10.0], "rank": [1, 2, 3, 4, 5]})
    with plt.rc_context(plots.STYLE):
        ax = plots.plot_top_terms(data, n=5)
        for fmt in ("png", "svg", "pdf"):
            assert figure_bytes(ax.figure, fmt, 72)
    assert [label.get_text() for label in ax.get_yticklabels()] == terms
    plt.close(ax.figure)


def test_log_axes_label_powers_of_ten_as_plain_text(seed_results):
    """With mathtext off, the rank-frequency axes still read 10⁰, 10¹ ..., not '$\\mathdefault{10^{0}}$'."""
    import matplotlib.pyplot as plt

    from analysis.figures import make_figure

    fig, _ = make_figure("rank-frequency", seed_results)
    fig.canvas.draw()
    labels = [label.get_text() for label in fig.axes[0].get_xticklabels() + fig.axes[0].get_yticklabels()]
    assert "10⁰" in labels and "10⁻²" in labels and not any("$" in label for label in labels)
    plt.close(fig)


def _folder_with_impostors(root: Path) -> Path:
    root.mkdir()
    (root / "good.txt").write_text("A plain text about rivers and bridges.\n", encoding="utf-8")
    (root / "other.txt").write_text("Another plain text about towers.\n", encoding="utf-8")
    (root / "report.txt").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n")
    (root / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (root / "bundle.txt").write_bytes(b"\x1f\x8b\x08\x00" + bytes(40))
    (root / "~$draft.txt").write_text("an Office lock file", encoding="utf-8")
    (root / "desktop.ini").write_text("[.ShellClassInfo]", encoding="utf-8")
    return root


@pytest.mark.filterwarnings("default::analysis.corpus.CorpusWarning")
def test_files_that_are_not_text_are_skipped_with_a_warning_naming_them(tmp_path, capsys):
    from analysis.cli import main

    corpus = _folder_with_impostors(tmp_path / "impostors")
    assert main(["info", "--corpus", str(corpus), "--no-cache"]) == 0
    captured = capsys.readouterr()
    assert "documents: 2" in captured.out
    for name, kind in (("report.txt", "a PDF document"), ("photo.txt", "a PNG image"), ("bundle.txt", "a gzip file")):
        assert f"{corpus / name}: {kind}, not text, skipped" in captured.err
    assert "~$draft" not in captured.out + captured.err and "endobj" not in captured.out


@pytest.mark.filterwarnings("default::analysis.corpus.CorpusWarning")
def test_nul_bytes_without_a_bom_are_refused_in_one_line(tmp_path, capsys):
    from analysis.cli import main

    corpus = _folder_with_impostors(tmp_path / "impostors")
    (corpus / "wide.txt").write_bytes("Text saved as UTF-16 without its mark".encode("utf-16-le"))
    assert main(["info", "--corpus", str(corpus), "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert f"{corpus / 'wide.txt'}: NUL bytes (the first at byte 1): UTF-16 without a BOM?" in err
    assert "Traceback" not in err
    assert main(["info", "--corpus", str(corpus), "--no-cache", "--skip-undecodable"]) == 0
    assert "documents: 2" in capsys.readouterr().out


def test_a_few_stray_nul_bytes_in_text_are_control_characters_not_utf16(tmp_path):
    from analysis.corpus import Corpus

    root = tmp_path / "stray"
    root.mkdir()
    (root / "a.txt").write_bytes("Kratom\x00 and pain relief, as the\x00 articles say.\n".encode("utf-8"))
    with pytest.warns(CorpusWarning, match=r"2 control character\(s\) .* removed from 1 document"):
        documents = list(Corpus(root))
    assert documents[0].text == "Kratom and pain relief, as the articles say.\n"


def test_a_document_without_vocabulary_terms_gets_no_fake_topic_mixture(tmp_path):
    """A document whose words are all pruned (here: rare words, each in that one document only) has no
    mixture: NaN weights and n_vocab_terms 0 in doc_topics and unit_topics, a warning with the count, and
    no share in any group's mean, instead of exactly 1/K per topic."""
    import json

    from analysis import topics

    rng = np.random.default_rng(2)
    shared = "river bank water stone field market price trade road bridge light tower garden".split()
    path = tmp_path / "docs.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(40):
            words = " ".join(rng.choice(shared, size=60))
            out.write(json.dumps({"id": f"d{i:02d}", "text": words + ".", "desk": "ab"[i % 2]}) + "\n")
        out.write(json.dumps({"id": "odd", "text": "Zyxxa qwupt vrembo.", "desk": "a"}) + "\n")
    results = Results(Settings(corpus=path, out=tmp_path / "out", phrases=False, k=3, seeds=1, iterations=50,
                               unit="document", group_by="desk", no_above=1.0))
    with pytest.warns(topics.TopicWarning, match="1 of 41 documents have no term left after pruning"):
        model = results.topics.model
    table = topics.doc_topics(model)
    odd = table[table["doc_id"] == "odd"]
    assert odd["weight"].isna().all() and (odd["n_vocab_terms"] == 0).all()
    rest = table[table["doc_id"] != "odd"]
    assert rest["weight"].notna().all() and (rest["n_vocab_terms"] > 0).all()
    assert np.allclose(rest.groupby("doc_id")["weight"].sum(), 1.0)
    units = topics.unit_topics(model)
    assert units.loc[units["doc_id"] == "odd", "weight"].isna().all()
    by_group = results.group_topic_prevalence
    assert by_group.loc[by_group["group"] == "a", "documents"].eq(20).all()  # the odd one is in no mean
    assert by_group["prevalence"].notna().all()


def test_a_document_of_stopwords_only_is_named_not_silently_missing_from_the_mixtures(tmp_path):
    """A document with no term at all (stopwords and numbers only) is no LDA unit: it has no row in
    doc_topics, and a warning says so with its id, where before it was silently absent."""
    import json

    from analysis import topics

    rng = np.random.default_rng(3)
    shared = "river bank water stone field market price trade road bridge light tower garden".split()
    path = tmp_path / "docs.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(40):
            out.write(json.dumps({"id": f"d{i:02d}", "text": " ".join(rng.choice(shared, size=60)) + "."}) + "\n")
        out.write(json.dumps({"id": "hollow", "text": "The and of to it 12 is 1999."}) + "\n")
    results = Results(Settings(corpus=path, out=tmp_path / "out", phrases=False, k=3, seeds=1, iterations=50,
                               unit="document", no_above=1.0))
    with pytest.warns(topics.TopicWarning, match=r"1 of 41 documents have no term to fit topics on .* \('hollow'\)"):
        model = results.topics.model
    assert "hollow" not in set(topics.doc_topics(model)["doc_id"])


def test_priors_are_applied_as_recorded_or_refused(seed_corpus, tmp_path):
    """eta=asymmetric is refused before any work (gensim ended in a traceback); tomotopy's
    alpha=asymmetric is applied (it was a symmetric prior recorded as asymmetric)."""
    from analysis.cli import main

    assert main(["topics", "--corpus", str(seed_corpus), "--out", str(tmp_path / "o"), "--eta", "asymmetric"]) == 2
    settings = dict(corpus=seed_corpus, out=tmp_path / "out", k=3, seeds=1, iterations=30, unit="paragraph",
                    workers=1)
    symmetric = Results(Settings(**settings, alpha="symmetric")).topics.model
    asymmetric = Results(Settings(**settings, alpha="asymmetric")).topics.model
    assert not np.allclose(symmetric.unit_topic, asymmetric.unit_topic)


@pytest.mark.parametrize("name", ["/tmp/escaped.csv", "../escaped.csv", "sub/dir.csv", "..", "a b.csv", "é.csv"])
def test_the_writer_refuses_names_that_are_not_plain_file_names(tmp_path, name):
    from analysis.errors import AnalysisError
    from analysis.export import write_figures

    out = tmp_path / "out"
    with pytest.raises(AnalysisError, match="output names are plain file names"):
        write_figures({"fine.csv": b"a\n", name: b"b\n"}, out)
    assert not out.exists() and not (tmp_path / "escaped.csv").exists()
    assert not list(tmp_path.glob(".out-staging-*"))


def test_sigterm_ends_a_run_like_ctrl_c(seed_corpus, tmp_path):
    """SIGTERM: exit 143, the one-line message, the output folder as it was, no staging folder left."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    run = subprocess.Popen([sys.executable, "-m", "analysis", "figures", "--corpus", str(seed_corpus), "--out", str(out),
                            "--no-cache", "--jobs", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           cwd=tmp_path, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    time.sleep(4)  # reading, terms and the first fits: well before the output is written
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 143, err
    assert "terminated; nothing partial was written" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".out-staging-*"))


def test_a_terminated_write_puts_the_folder_back_and_a_killed_ones_staging_is_cleared(tmp_path, monkeypatch):
    from analysis import export
    from analysis.interrupt import Terminated

    out = tmp_path / "out"
    export.write_figures({"a.csv": b"old a\n", "b.csv": b"old b\n"}, out)
    dead = tmp_path / ".out-staging-999999999-x"  # a killed run's: no such process
    alive = tmp_path / f".out-staging-{__import__('os').getpid()}-y"
    dead.mkdir()
    alive.mkdir()
    real = Path.write_bytes
    calls = []

    def interrupted(self, data):
        calls.append(self)
        if len(calls) == 2:
            raise Terminated()
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", interrupted)
    with pytest.raises(Terminated):
        export.write_figures({"a.csv": b"new a\n", "b.csv": b"new b\n"}, out)
    monkeypatch.undo()
    assert (out / "a.csv").read_bytes() == b"old a\n" and (out / "b.csv").read_bytes() == b"old b\n"
    assert not dead.exists() and alive.exists()
    assert [p.name for p in tmp_path.glob(".out-staging-*")] == [alive.name]


def test_files_left_out_for_their_suffix_are_named_once(tmp_path):
    from analysis.corpus import CorpusWarning

    corpus = tmp_path / "mixed"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "a.txt").write_text("A text about rivers.\n", encoding="utf-8")
    for name in ("b.pdf", "c.docx", "d.html", "sub/e.gz"):
        (corpus / name).write_bytes(b"not read")
    (corpus / "Thumbs.db").write_bytes(b"junk")
    with pytest.warns(CorpusWarning) as caught:
        Results(Settings(corpus=corpus, out=tmp_path / "out", cache=False)).prepared
    messages = [str(w.message) for w in caught if "not read" in str(w.message)]
    assert messages == [f"{corpus}: 4 file(s) not read, not .txt/.md: 'b.pdf', 'c.docx', 'd.html', 'sub/e.gz'"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the swallowed one, on purpose
def test_a_sigterm_swallowed_by_a_finaliser_still_stops_the_write(tmp_path):
    """The handler's exception raised inside a finaliser is only reported by Python (it happened in CI, in a
    weak reference's callback): the remembered request stops the run before it writes."""
    import gc

    from analysis import interrupt
    from analysis.export import write_figures

    class Finalised:
        def __del__(self):
            interrupt.request_stop(15, None)

    try:
        Finalised()  # the Terminated raised in __del__ is reported and swallowed
        gc.collect()
        with pytest.raises(interrupt.Terminated):
            write_figures({"a.csv": b"a\n"}, tmp_path / "out")
        assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out-staging-*"))
    finally:
        interrupt.reset()


def test_a_swallowed_sigterm_prints_no_traceback(capsys):
    """The interpreter's report of a Terminated raised in a finaliser is silenced while a command runs."""
    import sys

    from analysis import interrupt

    reported = []
    quiet = interrupt.quiet_unraisable(reported.append)
    quiet(type("U", (), {"exc_value": interrupt.Terminated()})())
    quiet(type("U", (), {"exc_value": ValueError("other")})())
    assert [type(u.exc_value) for u in reported] == [ValueError]
    assert sys.unraisablehook is not quiet


def _script_corpus(root: Path, words: str) -> Path:
    root.mkdir(parents=True)
    (root / "a.txt").write_text(f"{words} {words} river water river\n\nwater river {words}\n", encoding="utf-8")
    (root / "b.txt").write_text(f"river water sea {words}\n", encoding="utf-8")
    return root


def _render_top_terms(corpus: Path, out: Path, capsys) -> tuple[str, dict]:
    import json

    from analysis.cli import main

    assert main(["figures", "--corpus", str(corpus), "--out", str(out), "--no-cache", "--only", "top-terms",
                 "--formats", "png,svg,pdf", "--dpi", "40"]) == 0
    return capsys.readouterr().err, json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_glyphs_no_font_has_are_one_warning_and_recorded_by_script(tmp_path, capsys, monkeypatch):
    """Ethiopic, which neither DejaVu Sans nor the usual CJK fallbacks cover: matplotlib warned once per
    glyph, per format and per measuring draw; the run says it once and the manifest keeps the scripts."""
    monkeypatch.chdir(tmp_path)
    err, manifest = _render_top_terms(_script_corpus(tmp_path / "ethiopic", "ሰላም ዓለም"), tmp_path / "out", capsys)
    assert "Glyph" not in err
    lines = [line for line in err.splitlines() if "no glyph" in line]
    assert lines == ["corpus-analysis: warning: 5 character(s) have no glyph in the installed fonts and are drawn "
                     "as boxes (Ethiopic: ለላምሰዓ) in top-terms; install a font that has them (e.g. Noto Sans CJK, "
                     "Symbola); the manifest records them under missing_glyphs"]
    assert manifest["missing_glyphs"] == {"Ethiopic": "ለላምሰዓ"}


def test_an_installed_font_with_the_glyphs_draws_them(tmp_path, capsys, monkeypatch):
    from analysis.plots.fonts import font_family

    if len(font_family()) == 1:
        pytest.skip("no CJK fallback font installed (.ci/run installs fonts-wqy-microhei)")
    monkeypatch.chdir(tmp_path)
    err, manifest = _render_top_terms(_script_corpus(tmp_path / "cjk", "東京 研究 テキスト"), tmp_path / "out", capsys)
    assert "no glyph" not in err and "missing_glyphs" not in manifest
