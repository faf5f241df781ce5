"""What a folder corpus holds: the text files read, the files left out and why, links out of it.

One walk of the folder (:func:`list_folder`) classifies every entry without
opening a file:

- text files (``.txt``/``.md``) are read, unless they exceed the size limit;
- other suffixes, broken and looping symbolic links, FIFOs, devices and sockets
  are left out, each with its reason;
- hidden files and folders, editor backups, Office lock files and Windows'
  folder files are ignored without a word;
- symbolic links are followed (a folder only once), and those that lead out of
  the corpus folder are recorded with their real path.

A text file whose name is not valid UTF-8 is refused: it has no id that a
table, a figure or the manifest could hold.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from analysis.errors import AnalysisError

TEXT_SUFFIXES = (".txt", ".md")
METADATA_FILE = "metadata.csv"
NOT_TEXT_SUFFIX = f"not {'/'.join(TEXT_SUFFIXES)}"


@dataclass(frozen=True)
class Listing:
    """A folder corpus as found on disk (see :func:`list_folder`).

    Attributes
    ----------
    text : list of Path
        The text files to read, sorted by their path relative to the folder.
    left_out : dict of str to str
        Why each other file was not read, by relative path (``/`` separators), sorted;
        :data:`NOT_TEXT_SUFFIX` for a file left out for its suffix.
    outside : dict of str to str
        The real path of each symbolic link (a file, or a folder read through) that leads out of
        the corpus folder, by relative path.
    case_collisions : list of tuple of str
        Document ids that are equal when case is ignored (``A`` and ``a``): distinct here, one file
        on Windows and macOS.
    """

    text: list[Path]
    left_out: dict[str, str] = field(default_factory=dict)
    outside: dict[str, str] = field(default_factory=dict)
    case_collisions: list[tuple[str, ...]] = field(default_factory=list)


def is_ignored(relative: Path) -> bool:
    """Hidden files and folders, editor backup and lock files, Office lock files, Windows' folder files."""
    name = relative.name
    return (
        any(part.startswith(".") for part in relative.parts)
        or name.endswith("~")
        or name.startswith("~$")  # an Office lock file
        or name.lower() in {"thumbs.db", "desktop.ini"}
        or (name.startswith("#") and name.endswith("#"))
        or any(part in {"__pycache__", "node_modules"} for part in relative.parts)
    )


def shown_path(path: str | Path) -> str:
    """``path`` as printable text: bytes that are not UTF-8 are written ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"  # pragma: no cover - doors, ports and whiteouts of other systems


def _megabytes(size: int) -> str:
    return f"{size / 2**20:,.0f} MB" if size >= 2**20 else f"{size:,} bytes"


def list_folder(root: Path, *, max_file_bytes: int, metadata: Path | None = None) -> Listing:
    """Walk ``root`` once and say which files a folder corpus reads and which it leaves out.

    Parameters
    ----------
    root : Path
        The corpus folder.
    max_file_bytes : int
        Text files larger than this are left out (named, with their size) before they are read.
    metadata : Path, optional
        The metadata table, which is neither a document nor left out.

    Raises
    ------
    AnalysisError
        For a text file whose name is not valid UTF-8, named with its bytes escaped.
    """
    real_root = Path(os.path.realpath(root))
    root_stat = os.stat(root)
    visited = {(root_stat.st_dev, root_stat.st_ino)}
    text: list[tuple[str, Path]] = []
    left_out: dict[str, str] = {}
    outside: dict[str, str] = {}
    folders = [(root, Path())]
    while folders:
        folder, relative_folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            left_out[shown_path(relative_folder.as_posix())] = f"a folder that cannot be listed ({exc.strerror})"
            continue
        for entry in entries:
            relative = relative_folder / entry.name
            if is_ignored(relative):
                continue
            key = shown_path(relative.as_posix())
            try:
                status = entry.stat()  # follows links
            except OSError as exc:
                left_out[key] = ("a symbolic link that loops" if exc.errno == errno.ELOOP
                                 else "a broken symbolic link" if entry.is_symlink()
                                 else f"cannot be read ({exc.strerror})")
                continue
            path = Path(entry.path)
            if entry.is_symlink():
                real = Path(os.path.realpath(path))
                if real != real_root and real_root not in real.parents:
                    outside[key] = shown_path(real)
            if stat.S_ISDIR(status.st_mode):
                if (status.st_dev, status.st_ino) in visited:
                    left_out[key] = "a symbolic link to a folder already read"
                    outside.pop(key, None)
                else:
                    visited.add((status.st_dev, status.st_ino))
                    folders.append((path, relative))
            elif not stat.S_ISREG(status.st_mode):
                left_out[key] = f"{_special_kind(status.st_mode)}, not opened"
                outside.pop(key, None)
            elif path.suffix.lower() not in TEXT_SUFFIXES:
                if path != metadata and entry.name.lower() != METADATA_FILE:
                    left_out[key] = NOT_TEXT_SUFFIX
                outside.pop(key, None)
            elif key != relative.as_posix():
                raise AnalysisError(f"{shown_path(path)}: the file name is not valid UTF-8; rename the file")
            elif status.st_size > max_file_bytes:
                left_out[key] = (f"{_megabytes(status.st_size)}, above the size limit of "
                                 f"{_megabytes(max_file_bytes)} (max_file_mb)")
                outside.pop(key, None)
            else:
                text.append((key, path))
    text.sort()
    by_folded: dict[str, list[str]] = {}
    for key, path in text:
        doc_id = key[: len(key) - len(path.suffix)]
        by_folded.setdefault(doc_id.casefold(), []).append(doc_id)
    collisions = sorted(tuple(ids) for ids in by_folded.values() if len(set(ids)) > 1)
    return Listing([path for _, path in text], dict(sorted(left_out.items())), dict(sorted(outside.items())),
                   collisions)
