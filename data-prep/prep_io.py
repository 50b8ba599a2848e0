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

import contextlib
import logging
import os
import shutil
import sys
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO, Callable, Iterator, Mapping, Sequence

logger = logging.getLogger(__name__)

Pairs = list[tuple[str, str]]


def normalise_space(text: str) -> str:
    """Collapses every run of Unicode white space to one space and trims the ends.

    This includes line breaks of all kinds (``\\r``, ``\\x85``, ``\\u2028``) and
    no-break spaces, so the result is always a single line.
    """
    return " ".join(text.split())


@contextlib.contextmanager
def open_member(container: Path, name: str) -> Iterator[tuple[BinaryIO, str]]:
    """Opens the file called ``name`` in an archive or a directory tree.

    Args:
        container: a ``.tar``/``.tgz``/``.tar.gz`` or ``.zip`` archive, a
            directory (searched recursively), or a file whose own name is
            ``name``.
        name: the file's base name; its folder inside the archive does not
            matter, so releases that differ only in their top folder all work.

    Yields:
        A binary stream and a description ``container:member`` for messages.

    Raises:
        FileNotFoundError: if ``container`` or the member is missing.
        ValueError: if several members have that name, or the archive is broken.
    """
    if not container.exists():
        raise FileNotFoundError(f"{container}: no such file or directory")
    if container.is_file() and container.name == name:
        with open(container, "rb") as stream:
            yield stream, str(container)
        return
    if container.is_dir():
        found = sorted(p for p in container.rglob(name) if p.is_file())
        _check_one(found, container, name)
        with open(found[0], "rb") as stream:
            yield stream, str(found[0])
        return
    with _open_archive(container, name) as opened:
        yield opened


@contextlib.contextmanager
def _open_archive(container: Path, name: str) -> Iterator[tuple[BinaryIO, str]]:
    """Opens member ``name`` of a zip or tar archive (see :func:`open_member`)."""
    try:
        if zipfile.is_zipfile(container):
            with zipfile.ZipFile(container) as archive:
                members = [m for m in archive.namelist() if _base(m) == name]
                _check_one(members, container, name)
                with archive.open(members[0]) as stream:
                    yield stream, f"{container}:{members[0]}"
            return
        with tarfile.open(container) as archive:
            infos = [m for m in archive.getmembers() if m.isfile()]
            infos = [m for m in infos if _base(m.name) == name]
            _check_one(infos, container, name)
            stream = archive.extractfile(infos[0])
            assert stream is not None  # regular files always have one
            yield stream, f"{container}:{infos[0].name}"
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as err:
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


def read_member_lines(
    container: Path, name: str, limit: int | None = None
) -> tuple[list[str], str]:
    """Reads a file of :func:`open_member` as UTF-8 lines, split at ``\\n`` only.

    A ``\\r`` before the ``\\n`` and a byte-order mark are dropped; any other
    character is kept, so the line count is the one ``wc -l`` gives (plus an
    unterminated last line).

    Args:
        container: see :func:`open_member`.
        name: see :func:`open_member`.
        limit: read at most this many lines; ``None`` reads all.

    Returns:
        The lines, without line ends, and the ``container:member`` description.

    Raises:
        ValueError: naming the member and line, if a line is not UTF-8.
    """
    lines: list[str] = []
    with open_member(container, name) as (stream, where):
        for number, raw in enumerate(stream, 1):  # binary: splits at b"\n" only
            if limit is not None and number > limit:
                break
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise ValueError(f"{where}:{number}: not UTF-8 ({err})") from err
            line = line.removesuffix("\n").removesuffix("\r")
            lines.append(line.removeprefix("\ufeff") if number == 1 else line)
    return lines, where


def write_task(out_dir: Path, splits: Mapping[str, Pairs], src: str, tgt: str) -> None:
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


def aux_task_main(
    doc: str,
    flag: str,
    help_text: str,
    build: Callable[[Path, Path], None],
    argv: Sequence[str] | None,
) -> None:
    """Command line shared by the auxiliary-task scripts: ``FLAG PATH --out DIR``.

    Skips the work (and says so) when the task folder already exists.
    """
    import argparse

    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(flag, required=True, help=help_text)
    parser.add_argument("--out", required=True, help="task folder to write")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.exists():
        logger.info("%s exists; remove it to rebuild", out)
        return
    build(Path(getattr(args, flag.lstrip("-").replace("-", "_"))), out)


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
