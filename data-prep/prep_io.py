"""Reading and writing helpers shared by the corpus scripts of ``prepare.sh``.

The corpus scripts (``translation_corpus.py``, ``ner_conll.py``,
``parse_ptb.py``, ``amr_penman.py``) each turn one upstream corpus into a task
directory of raw text, ``RAW/<task>/<split>.<lang>``, that ``binarize.py``
reads. This module holds what they have in common:

* finding one file by name inside a downloaded archive (``.tgz``, ``.zip``) or a
  directory, and decoding it as UTF-8 lines, naming the archive and member in
  every error;
* making each line safe for the later steps: fairseq and SentencePiece read
  text files with universal newlines, so a stray carriage return or Unicode line
  separator inside a sentence would split it in two and break the alignment of
  the two sides; every run of white space therefore becomes one space;
* writing a whole task directory atomically: all files go to a hidden
  temporary directory that is renamed into place at the end, so a failure
  leaves no half-written task behind and a re-run starts the task afresh;
* the command-line wrapper that turns an error into a one-line message and
  exit status 1.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Callable, Mapping, Sequence

logger = logging.getLogger(__name__)

Pairs = list[tuple[str, str]]


def normalise_space(text: str) -> str:
    """Collapses every run of Unicode white space to one space and trims the ends.

    This includes line breaks of all kinds (``\\r``, ``\\x85``, ``\\u2028``) and
    no-break spaces, so the result is always a single line.
    """
    return " ".join(text.split())


def decode_lines(data: bytes, where: str) -> list[str]:
    """Decodes UTF-8 text and splits it at ``\\n`` only.

    A ``\\r`` before the ``\\n`` is dropped; any other character is kept, so the
    line count is the one ``wc -l`` gives (plus an unterminated last line).

    Args:
        data: the file's bytes.
        where: the file's name for error messages.

    Raises:
        ValueError: naming ``where``, if the bytes are not UTF-8.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{where}: not UTF-8 ({err})") from err
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_member(container: Path, name: str) -> tuple[bytes, str]:
    """Reads the file called ``name`` from an archive or a directory tree.

    Args:
        container: a ``.tar``/``.tgz``/``.tar.gz`` or ``.zip`` archive, a
            directory (searched recursively), or a file whose own name is
            ``name``.
        name: the file's base name; its folder inside the archive does not
            matter, so releases that differ only in their top folder all work.

    Returns:
        The bytes and a description ``container:member`` for messages.

    Raises:
        FileNotFoundError: if ``container`` or the member is missing.
        ValueError: if several members have that name, or the archive is broken.
    """
    if not container.exists():
        raise FileNotFoundError(f"{container}: no such file or directory")
    if container.is_file() and container.name == name:
        return container.read_bytes(), str(container)
    if container.is_dir():
        found = sorted(p for p in container.rglob(name) if p.is_file())
        _check_one(found, container, name)
        return found[0].read_bytes(), str(found[0])
    try:
        if zipfile.is_zipfile(container):
            with zipfile.ZipFile(container) as archive:
                members = [m for m in archive.namelist() if _base(m) == name]
                _check_one(members, container, name)
                return archive.read(members[0]), f"{container}:{members[0]}"
        with tarfile.open(container) as archive:
            infos = [m for m in archive.getmembers() if m.isfile()]
            infos = [m for m in infos if _base(m.name) == name]
            _check_one(infos, container, name)
            stream = archive.extractfile(infos[0])
            assert stream is not None  # regular files always have one
            return stream.read(), f"{container}:{infos[0].name}"
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as err:
        raise ValueError(f"{container}: unreadable archive ({err})") from err


def _base(member: str) -> str:
    """Returns the last component of an archive member's path."""
    return member.rstrip("/").rsplit("/", 1)[-1]


def _check_one(found: Sequence[object], container: Path, name: str) -> None:
    """Raises unless exactly one member called ``name`` was found."""
    if not found:
        raise FileNotFoundError(f"{container}: has no file named {name}")
    if len(found) > 1:
        raise ValueError(f"{container}: has {len(found)} files named {name}")


def read_member_lines(container: Path, name: str) -> tuple[list[str], str]:
    """Reads a member as UTF-8 lines; see :func:`read_member`, :func:`decode_lines`."""
    data, where = read_member(container, name)
    return decode_lines(data, where), where


def write_task(
    out_dir: Path, splits: Mapping[str, Pairs], src: str, tgt: str
) -> None:
    """Writes one task directory, ``out_dir/<split>.<src|tgt>``, atomically.

    Args:
        out_dir: must not exist yet; it appears only once every file is written.
        splits: the ``(source, target)`` pairs of each split.
        src: file suffix of the source side.
        tgt: file suffix of the target side.

    Raises:
        FileExistsError: if ``out_dir`` exists.
        ValueError: if a line holds a line break (an internal error: every
            corpus script normalises white space first).
    """
    if out_dir.exists():
        raise FileExistsError(f"{out_dir}: exists already")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(f".{out_dir.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        for split, pairs in splits.items():
            for side, lang in enumerate((src, tgt)):
                lines = [pair[side] for pair in pairs]
                if any("\n" in line or "\r" in line for line in lines):
                    raise ValueError(f"{split}.{lang}: a line holds a line break")
                text = "".join(line + "\n" for line in lines)
                (tmp / f"{split}.{lang}").write_text(text, encoding="utf-8")
        os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sizes = ", ".join(f"{split} {len(pairs)}" for split, pairs in splits.items())
    logger.info("wrote %s (%s pairs)", out_dir, sizes)


def run_cli(main: Callable[[Sequence[str] | None], None], argv=None) -> int:
    """Runs a script's ``main`` with logging set up; returns the exit status.

    Errors a user can cause (missing or malformed input files, bad flags) are
    logged as one line naming the file or flag, and give status 1.
    """
    logging.basicConfig(
        format="%(asctime)s | %(levelname)s | %(name)s | %(message)s",
        level=logging.INFO,
        stream=sys.stderr,
    )
    try:
        main(argv)
    except (OSError, ValueError) as err:
        logging.getLogger(main.__module__).error("%s", err)
        return 1
    return 0
