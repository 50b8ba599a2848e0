"""Builds an ``--offline`` downloads folder for prepare.sh from the text fixtures.

The fixtures under ``fixtures/prepare/`` are small corpora written by hand in
each upstream format. Upstream ships most of them inside archives, so the
archives are packed here, in a temporary folder, with the member paths and the
local file names the real downloads have (``sources.tsv``). The WMT archives
have published checksums, which the fixture archives cannot match; a copy of
``sources.tsv`` with the fixtures' md5 sums in their place is written beside
them.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
import zipfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "prepare"
SOURCES = Path(__file__).resolve().parents[2] / "data-prep" / "sources.tsv"
PTB = FIXTURES / "ptb"
AMR = FIXTURES / "amr"

_WMT = {  # archive name in sources.tsv -> member paths; files are under wmt/
    "wmt16_test": ["test/newstest2016-entr-src.en.sgm",
                   "test/newstest2016-entr-ref.tr.sgm"],
    "wmt17_test": ["test/newstest2017-entr-src.en.sgm",
                   "test/newstest2017-entr-ref.tr.sgm"],
    "wmt18_test": ["test/newstest2018-entr-src.en.sgm",
                   "test/newstest2018-entr-ref.tr.sgm"],
    "wmt11_test": ["newstest2011-src.en.sgm", "newstest2011-src.es.sgm"],
    "wmt12_test": ["test/newstest2012-src.en.sgm", "test/newstest2012-src.es.sgm"],
    "wmt13_test": ["test/newstest2013-src.en.sgm", "test/newstest2013-src.es.sgm"],
}  # fmt: skip
_CONLL_NAMES = {
    "eng.train": "train.txt",
    "eng.testa": "valid.txt",
    "eng.testb": "test.txt",
}


def read_rows(sources: Path = SOURCES) -> list[list[str]]:
    """Returns the data rows of a sources.tsv file as lists of columns."""
    lines = sources.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line and not line.startswith("#")]


def archive_members(name: str) -> dict[str, bytes]:
    """Returns ``{member path: bytes}`` of the archive called ``name``."""
    if name in _WMT:
        return {m: (FIXTURES / "wmt" / Path(m).name).read_bytes() for m in _WMT[name]}
    if name == "setimes2_en_tr":
        members = {p.name: p.read_bytes() for p in (FIXTURES / "setimes2").iterdir()}
        return {"README": b"SETIMES2 fixture\n", **members}
    if name == "europarl_v7_es_en":
        return {p.name: p.read_bytes() for p in (FIXTURES / "europarl").iterdir()}
    if name == "conll2003":
        folder = FIXTURES / "conll2003"
        return {new: (folder / old).read_bytes() for old, new in _CONLL_NAMES.items()}
    raise KeyError(name)


def write_archive(path: Path, members: dict[str, bytes]) -> None:
    """Writes a ``.zip`` or a gzipped tar, by the suffix of ``path``."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w") as archive:
            for member, data in members.items():
                archive.writestr(member, data)
        return
    with tarfile.open(path, "w:gz") as archive:
        for member, data in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def make_offline_dir(folder: Path, sources: Path = SOURCES) -> tuple[Path, Path]:
    """Writes every download of ``sources`` into ``folder`` from the fixtures.

    Returns:
        The folder, and the path of a sources.tsv whose published checksums
        are replaced by those of the fixture files.
    """
    folder.mkdir(parents=True)
    rows = []
    for group, name, file, checksum, url in read_rows(sources):
        path = folder / file
        if name.startswith("iwslt15_"):  # single files: iwslt15_tst2012_vi
            _, split, lang = name.split("_")
            shutil.copyfile(FIXTURES / "iwslt15.en-vi" / f"{split}.{lang}", path)
        else:
            write_archive(path, archive_members(name))
        if checksum != "-":
            checksum = "md5:" + hashlib.md5(path.read_bytes()).hexdigest()
        rows.append("\t".join((group, name, file, checksum, url)))
    test_sources = folder.parent / "sources.test.tsv"
    test_sources.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder, test_sources
