"""The committed figures/ folder must be what `corpus-analysis figures` makes now."""

from pathlib import Path

from analysis.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_committed_figures_are_current(monkeypatch, capsys):
    # Data CSVs, settings and corpus hashes are compared strictly; images byte for
    # byte when the manifest was made with the installed package versions.
    monkeypatch.chdir(ROOT)
    status = main(["figures", "--check"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "up to date" in out
