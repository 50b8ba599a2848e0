"""Tests of data-prep/fetch.py and of the download list sources.tsv."""

from __future__ import annotations

import hashlib
import logging
import re

import pytest

from .conftest import load_script
from .prepare_fixtures import SOURCES

fetch = load_script("fetch")
tc = load_script("translation_corpus")


def test_sources_tsv_is_complete():
    sources = fetch.read_sources(SOURCES)
    groups = {}
    for source in sources:
        groups.setdefault(source.group, []).append(source.name)
        assert source.url.startswith("https://"), source.url
    assert set(groups) == {"en-vi", "en-tr", "en-es", "ner"}
    # every name the scripts look up is listed
    text = (SOURCES.parent / "translation_corpus.py").read_text()
    used = {m.replace("{year}", y) for m in re.findall(r'f?"(wmt\{year\}_test)"', text)
            for y in ("11", "12", "13", "16", "17", "18")}  # fmt: skip
    used |= {f"iwslt15_{s}_{lang}" for s in ("train", "tst2012", "tst2013")
             for lang in ("en", "vi")}  # fmt: skip
    used |= {"setimes2_en_tr", "europarl_v7_es_en"}
    names = {source.name for source in sources}
    assert used <= names
    prepare = (SOURCES.parent / "prepare.sh").read_text()
    assert '$2 == "conll2003"' in prepare and "conll2003" in names
    with_checksum = {s.name for s in sources if s.checksum != "-"}
    assert with_checksum == {f"wmt{y}_test" for y in (11, 12, 13, 16, 17, 18)}


@pytest.mark.parametrize(
    "row, message",
    [
        ("ner\tx\tx.zip\t-", "expected 5 tab-separated columns"),
        ("ner\tx\tx.zip\tmd5:123\thttps://a", "checksum must be"),
        ("ner\tx\tsub/x.zip\t-\thttps://a", "must be a plain name"),
        ("ner\tx\tx.zip\t-\thttps://a\nner\tx\ty.zip\t-\thttps://b", "repeated"),
    ],
)
def test_read_sources_rejects_bad_rows(tmp_path, row, message):
    path = tmp_path / "sources.tsv"
    path.write_text("# comment\n\n" + row + "\n")
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}:\d: .*{message}"):
        fetch.read_sources(path)


@pytest.fixture
def served(tmp_path):
    """Two files behind file:// URLs and a sources.tsv for them (group g)."""
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "a.txt").write_bytes(b"alpha\n")
    (remote / "b.tgz").write_bytes(b"beta\n")
    md5 = hashlib.md5(b"beta\n").hexdigest()
    sources = tmp_path / "sources.tsv"
    sources.write_text(
        f"g\ta\ta.txt\t-\t{(remote / 'a.txt').as_uri()}\n"
        f"g\tb\tb.tgz\tmd5:{md5}\t{(remote / 'b.tgz').as_uri()}\n"
        f"h\tc\tc.txt\t-\t{(remote / 'missing.txt').as_uri()}\n"
    )
    return remote, fetch.read_sources(sources)


def test_download_then_reuse(served, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    _, sources = served
    dest = tmp_path / "downloads"
    paths = fetch.fetch(sources, ["g"], dest, offline=False)
    assert paths == [dest / "a.txt", dest / "b.tgz"]
    assert (dest / "b.tgz").read_bytes() == b"beta\n"
    mtime = (dest / "b.tgz").stat().st_mtime_ns
    caplog.clear()
    fetch.fetch(sources, ["g"], dest, offline=False)
    assert (dest / "b.tgz").stat().st_mtime_ns == mtime
    assert "reusing" in caplog.text and "downloading" not in caplog.text


def test_bad_checksum_or_url_leaves_nothing(served, tmp_path):
    remote, sources = served
    (remote / "b.tgz").write_bytes(b"changed\n")
    dest = tmp_path / "downloads"
    with pytest.raises(ValueError, match=r"b.tgz.*: md5 is .*, sources.tsv says"):
        fetch.fetch(sources, ["g"], dest, offline=False)
    with pytest.raises(OSError, match=r"download of file://.*missing.txt failed"):
        fetch.fetch(sources, ["h"], dest, offline=False)
    assert sorted(p.name for p in dest.iterdir()) == ["a.txt"]  # no temporaries


def test_offline_checks_and_lists_missing(served, tmp_path):
    remote, sources = served
    with pytest.raises(FileNotFoundError) as err:
        fetch.fetch(sources, ["g", "h"], remote, offline=True)
    assert "c.txt <- file://" in str(err.value) and "a.txt <- " not in str(err.value)
    assert fetch.fetch(sources, ["g"], remote, offline=True) == [
        remote / "a.txt", remote / "b.tgz"
    ]  # fmt: skip
    (remote / "a.txt").write_bytes(b"")
    with pytest.raises(ValueError, match="a.txt: empty file"):
        fetch.fetch(sources, ["g"], remote, offline=True)
    with pytest.raises(ValueError, match="group 'x' is not in sources.tsv"):
        fetch.fetch(sources, ["x"], remote, offline=True)
