"""What a run's outputs depend on, decided without computing anything.

A ``figures`` run is determined by the corpus bytes, the settings, the
figures asked for, the versions of the packages that shape the output and
the package's own code. :func:`run_inputs` digests all of them; the manifest
records the digest, and :func:`outputs_current` tells whether an output
folder already holds exactly what a run with the same inputs would write, so
that an unchanged ``figures`` (or ``figures --check``) returns at once. This
module imports nothing heavy: the answer costs little more than starting
Python and hashing the corpus files.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Iterable

from analysis import __version__
from analysis.config import PATH_SETTINGS, RUN_SETTINGS, Settings

MANIFEST = "manifest.json"
PACKAGES = ("corpus-analysis", "charset-normalizer", "gensim", "matplotlib", "numpy", "pandas", "pyarrow", "scipy",
            "simplemma", "stopwordsiso", "tomotopy", "wordfreq")  # pyarrow writes the Parquet parts


def installed_versions() -> dict[str, str]:
    """Versions of the packages that shape the output, and the Python version (from package metadata)."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = __version__ if name == "corpus-analysis" else "not installed"
    return found


def import_tomotopy():
    """tomotopy, its AVX2 build (unless ``TOMOTOPY_ISA`` is set).

    Its results can differ between its SSE2 and AVX builds; the AVX2 build is
    chosen so that machines with AVX2 or AVX-512 agree.
    """
    os.environ.setdefault("TOMOTOPY_ISA", "avx2")
    import tomotopy

    return tomotopy


def tomotopy_build() -> str:
    """The SIMD build tomotopy uses in this process (``avx2``, ``sse2`` ...), or ``not installed``: it
    changes fitted topics, so manifests record it and a cluster's workers must match it."""
    try:
        return import_tomotopy().isa
    except ImportError:
        return "not installed"


def code_digest() -> str:
    """SHA-256 over the package's own source and data files: a change of code is a change of inputs."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".py", ".txt", ".js", ".css")):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def relative(path: Path | None, root: Path) -> str | None:
    """``path`` relative to ``root`` (POSIX), so manifests match across clones."""
    if path is None:
        return None
    return Path(os.path.relpath(Path(path).resolve(), root.resolve())).as_posix()


def portable_settings(settings: Settings, root: Path) -> dict:
    """Settings that shape the results, with paths relative to ``root``."""
    values = {k: v for k, v in settings.to_dict().items() if k not in RUN_SETTINGS}
    for key in PATH_SETTINGS:
        if key in values:
            values[key] = relative(getattr(settings, key), root)
    return values


def run_inputs(settings: Settings, file_hashes: dict[str, str], names: Iterable[str]) -> str:
    """The digest of everything a run of the figures ``names`` depends on."""
    root = settings.out.resolve().parent
    payload = {
        "corpus": file_hashes, "settings": portable_settings(settings, root), "figures": sorted(names),
        "packages": installed_versions(), "code": code_digest(),
    }
    labels = settings.topic_labels
    if labels is not None and labels.is_file():  # labels change the figures, not the fit
        payload["topic_labels"] = hashlib.sha256(labels.read_bytes()).hexdigest()
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()


def outputs_current(out: Path, inputs: str) -> bool:
    """True when ``out`` holds a complete run with these inputs, every file as its manifest records it."""
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict) or manifest.get("inputs") != inputs:
        return False
    recorded = dict(manifest.get("files", {}))
    for figure in manifest.get("figures", {}).values():
        recorded.update(figure.get("files", {}))
    for name, expected in recorded.items():
        try:
            if hashlib.sha256((out / name).read_bytes()).hexdigest() != expected:
                return False
        except OSError:
            return False
    return True
