#!/usr/bin/env python3
"""Download the corpus files that one step of ``prepare.sh`` needs, and check them.

The files and their locations are listed in ``sources.tsv`` (one row per file:
group, name, local file name, checksum, URL). Given one or more groups
(``en-vi``, ``en-tr``, ``en-es``, ``ner``), this script makes sure that every
file of those groups is present in a downloads folder:

* a file already there is kept as it is: it was checked when it arrived, since
  downloads are written under a temporary name and renamed only once checked;
* a missing file is downloaded from its URL, then checked;
* with ``--offline`` nothing is downloaded: the folder must already hold every
  file under the name of the ``file`` column (copied there by hand from a
  machine with network access); each is checked, and all missing files are
  listed with their URLs at once.

The check is the published checksum (``md5:`` or ``sha256:``) where there is one,
otherwise only that the file is not empty.

Example::

    fetch.py --sources data-prep/sources.tsv --dest work/downloads en-vi ner
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import logging
import os
import re
import shutil
import urllib.request
from pathlib import Path
from typing import Sequence

from prep_io import run_cli

logger = logging.getLogger(__name__)

COLUMNS = ("group", "name", "file", "checksum", "url")
_CHECKSUM_RE = re.compile(r"^(?:-|md5:[0-9a-f]{32}|sha256:[0-9a-f]{64})$")
_USER_AGENT = "fairseq_aiw-data-prep/0.1 (python urllib)"


@dataclasses.dataclass(frozen=True)
class Source:
    """One row of ``sources.tsv``; the fields are its columns."""

    group: str
    name: str
    file: str
    checksum: str
    url: str


def read_sources(path: Path) -> list[Source]:
    """Reads and checks ``sources.tsv``; ``#`` lines and blank lines are skipped.

    Raises:
        ValueError: naming ``path`` and the line, for a row with the wrong
            number of columns, a malformed checksum, a file name with a folder,
            or a repeated name or file.
    """
    sources, names, files = [], set(), set()
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        where = f"{path}:{number}"
        if len(fields) != len(COLUMNS):
            raise ValueError(f"{where}: expected {len(COLUMNS)} tab-separated columns")
        source = Source(*fields)
        if not _CHECKSUM_RE.match(source.checksum):
            raise ValueError(f"{where}: checksum must be -, md5:HEX or sha256:HEX")
        if "/" in source.file or source.file.startswith("."):
            raise ValueError(f"{where}: file {source.file!r} must be a plain name")
        if source.name in names or source.file in files:
            raise ValueError(f"{where}: name or file repeated")
        names.add(source.name)
        files.add(source.file)
        sources.append(source)
    return sources


def find_source(sources: Sequence[Source], name: str, where: Path) -> Source:
    """Returns the row called ``name``.

    Raises:
        ValueError: naming the sources file ``where``, if there is no such row.
    """
    for source in sources:
        if source.name == name:
            return source
    raise ValueError(f"{where}: no row named {name}")


def check_file(path: Path, source: Source) -> None:
    """Checks a file against its row's checksum (or for being non-empty).

    Raises:
        ValueError: naming the file, on an empty file or a checksum mismatch.
    """
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: empty file (from {source.url})")
    if source.checksum == "-":
        return
    algorithm, expected = source.checksum.split(":")
    digest = hashlib.new(algorithm)
    with open(path, "rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise ValueError(
            f"{path}: {algorithm} is {digest.hexdigest()}, sources.tsv says "
            f"{expected}; remove the file and fetch it again from {source.url}"
        )


def download(source: Source, dest: Path, timeout: float) -> None:
    """Downloads one file to ``dest`` via a temporary name, then checks it.

    Raises:
        OSError: naming the URL, if the download fails.
        ValueError: if the downloaded file fails :func:`check_file`.
    """
    tmp = dest.with_name(f".{dest.name}.tmp{os.getpid()}")
    request = urllib.request.Request(source.url, headers={"User-Agent": _USER_AGENT})
    logger.info("downloading %s", source.url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            with open(tmp, "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
        check_file(tmp, source)
        os.replace(tmp, dest)
    except OSError as err:
        raise OSError(f"download of {source.url} failed: {err}") from err
    finally:
        tmp.unlink(missing_ok=True)


def fetch(
    sources: Sequence[Source],
    groups: Sequence[str],
    dest_dir: Path,
    offline: bool,
    timeout: float = 60.0,
) -> list[Path]:
    """Makes sure every file of ``groups`` is in ``dest_dir`` (module docstring).

    Returns:
        The paths of the files, in ``sources.tsv`` order.

    Raises:
        ValueError: for a group with no rows, or a file that fails its check.
        FileNotFoundError: with ``offline``, listing every missing file.
    """
    known = {source.group for source in sources}
    for group in groups:
        if group not in known:
            raise ValueError(f"group {group!r} is not in sources.tsv ({known})")
    wanted = [source for source in sources if source.group in groups]
    if offline:
        missing = [s for s in wanted if not (dest_dir / s.file).is_file()]
        if missing:
            listing = "; ".join(f"{s.file} <- {s.url}" for s in missing)
            raise FileNotFoundError(f"--offline {dest_dir}: missing {listing}")
        for source in wanted:
            check_file(dest_dir / source.file, source)
        logger.info("%d files present and checked in %s", len(wanted), dest_dir)
        return [dest_dir / source.file for source in wanted]
    dest_dir.mkdir(parents=True, exist_ok=True)
    for source in wanted:
        path = dest_dir / source.file
        if path.exists():
            logger.info("reusing %s", path)
        else:
            download(source, path, timeout)
    return [dest_dir / source.file for source in wanted]


def build_parser() -> argparse.ArgumentParser:
    """Returns the command-line parser."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("groups", nargs="+", help="en-vi, en-tr, en-es, ner")
    parser.add_argument("--sources", required=True, help="the sources.tsv file")
    parser.add_argument("--dest", required=True, help="the downloads folder")
    parser.add_argument(
        "--offline", action="store_true", help="check --dest, download nothing"
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds without data per URL"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Runs the command line; raises on failure."""
    args = build_parser().parse_args(argv)
    sources = read_sources(Path(args.sources))
    fetch(sources, args.groups, Path(args.dest), args.offline, args.timeout)


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
