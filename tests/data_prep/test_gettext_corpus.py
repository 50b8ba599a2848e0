"""Tests of data-prep/gettext_corpus.py on .mo files written by the test."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest

from .conftest import write_mo

CLEAN_CASES = [
    # (catalog text, expected plain text); each derived by hand from the rules
    ("Open", "Open"),
    ("%s: cannot open %s", "cannot open"),
    ("Cannot open file '%s'.", "Cannot open file."),
    ("Cannot open file “%s”: %s", "Cannot open file"),
    ("`%c': invalid symbolic mode operator", "invalid symbolic mode operator"),
    ("Copying %1$s to %2$s", "Copying to"),
    ("%(count)d files in %(dir)s", "files in"),
    ("read %lu bytes, wrote %-10zu", "read bytes, wrote"),
    ("Width %*d and %.*s here", "Width and here"),
    ("Use %<PRIu64> bytes", "Use bytes"),
    ("%B: linking 64-bit files", "linking 64-bit files"),
    ("Page %1 of %2", "Page of"),
    ("Hello {name}, welcome to {0}!", "Hello, welcome to!"),
    ("Value {0:>5} and {obj.attr!r} set", "Value and set"),
    ("Set ${HOME} or $PATH first", "Set or first"),
    ("Progress: 50% done", "Progress: 50% done"),
    ("100%% complete", "100% complete"),
    ("<b>Bold</b> &amp; <span weight='x'>big</span>", "Bold & big"),
    ("&lt;none&gt; and &#39;x&#39;", "<none> and 'x'"),
    ("_File", "File"),
    ("Save _As…", "Save As…"),
    ("&Open", "Open"),
    ("AT&T syntax", "AT&T syntax"),
    ("snake_case stays", "snake_case stays"),
    ("Tệp (_F)", "Tệp"),
    ("Line one\n  line two\t", "Line one line two"),
    ("(%s), alias: %s", "alias"),
    ("Value: %s", "Value"),
    ("%s", ""),
]


@pytest.mark.parametrize("text, expected", CLEAN_CASES)
def test_clean_message(gettext_corpus, text, expected):
    assert gettext_corpus.clean_message(text) == expected


FILTER_CASES = [
    # (src, tgt, config overrides, expected drop reason)
    ("Open", "Mở", {}, None),
    ("", "Mở", {}, "empty_after_cleaning"),
    ("Open", "", {}, "empty_after_cleaning"),
    ("--- 1.0 ---", "--- 1.0 ---", {}, "mostly_non_letters"),
    ("x 1 2 3 4", "y 1 2 3 4", {}, "mostly_non_letters"),
    ("GNU", "gnu", {}, "identical"),
    ("Open", "Mở", {"min_tokens": 2}, "too_short"),
    ("Open the file", "Mở tập tin", {"max_tokens": 2}, "too_long"),
    ("Open", "một hai ba", {}, None),  # ratio 3 is allowed
    ("Open", "một hai ba bốn", {}, "length_ratio"),
    ("Open", "một hai ba bốn", {"max_ratio": 0}, None),
    ("x 1 2 3 4", "y 1 2 3 4", {"min_letter_fraction": 0}, None),
]


@pytest.mark.parametrize("src, tgt, overrides, expected", FILTER_CASES)
def test_drop_reason(gettext_corpus, src, tgt, overrides, expected):
    config = gettext_corpus.FilterConfig(**overrides)
    assert gettext_corpus.drop_reason(src, tgt, config) == expected


def test_extract_pairs_dedups_keeping_first_and_counts_reasons(gettext_corpus):
    entries = [
        ("", "Content-Type: text/plain; charset=UTF-8\n"),
        ("Open", "Mở"),
        ("_Open", "_Mở ra"),  # same source once cleaned
        ("Close", ""),
        ("GNU", "GNU"),
        ("%s", "%s"),
        ("Save", "Lưu"),
    ]
    pairs, counts = gettext_corpus.extract_pairs(entries, gettext_corpus.FilterConfig())
    assert pairs == [("Open", "Mở"), ("Save", "Lưu")]
    assert dict(counts) == {
        "read": 7,
        "header": 1,
        "duplicate_source": 1,
        "untranslated": 1,
        "identical": 1,
        "empty_after_cleaning": 1,
        "kept": 2,
    }


@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_read_mo_matches_python_gettext(gettext_corpus, tmp_path, byteorder):
    entries = [
        ("Open", "Mở"),
        ("menu\x04Quit", "Thoát"),  # msgctxt "menu"
        ("%d file\x00%d files", "%d tập tin\x00%d các tập tin"),
    ]
    path = tmp_path / "x.mo"
    write_mo(path, entries, byteorder=byteorder)
    read = dict(gettext_corpus.read_mo(path))
    assert read == {
        "": "Content-Type: text/plain; charset=UTF-8\n",
        "%d file": "%d tập tin",
        "Open": "Mở",
        "Quit": "Thoát",
    }
    with open(path, "rb") as fh:
        catalog = gettext.GNUTranslations(fh)._catalog
    assert catalog["Open"] == read["Open"]
    assert catalog["menu\x04Quit"] == read["Quit"]
    assert catalog[("%d file", 0)] == read["%d file"]


def test_read_mo_uses_declared_charset(gettext_corpus, tmp_path):
    path = tmp_path / "latin.mo"
    write_mo(path, [("Open", "Öffnen")], charset="ISO-8859-1")
    assert ("Open", "Öffnen") in gettext_corpus.read_mo(path)


def test_read_mo_rejects_garbage_naming_the_file(gettext_corpus, tmp_path):
    path = tmp_path / "bad.mo"
    path.write_bytes(b"not a catalog at all, really")
    with pytest.raises(ValueError, match="bad.mo: not a .mo file"):
        gettext_corpus.read_mo(path)


def test_find_catalogs_sorted_and_by_domain(gettext_corpus, tmp_path):
    for name in ("zz", "aa", "mm"):
        write_mo(tmp_path / "vi" / "LC_MESSAGES" / f"{name}.mo", [])
    paths = gettext_corpus.find_catalogs(tmp_path, "vi", [])
    assert [p.name for p in paths] == ["aa.mo", "mm.mo", "zz.mo"]
    paths = gettext_corpus.find_catalogs(tmp_path, "vi", ["zz", "aa"])
    assert [p.name for p in paths] == ["aa.mo", "zz.mo"]
    with pytest.raises(FileNotFoundError, match="--domains"):
        gettext_corpus.find_catalogs(tmp_path, "vi", ["nope"])
    with pytest.raises(FileNotFoundError, match="no .mo files"):
        gettext_corpus.find_catalogs(tmp_path, "fr", [])


def make_pairs(n: int) -> list[tuple[str, str]]:
    return [(f"source {i}", f"target {i}") for i in range(n)]


def test_split_sizes_and_coverage(gettext_corpus):
    pairs = make_pairs(100)
    sizes = {"test": 10, "valid": 8, "meta_valid": 4}
    splits = gettext_corpus.split_pairs(pairs, sizes, seed=1)
    assert {k: len(v) for k, v in splits.items()} == {
        "train": 78,
        "valid": 8,
        "meta_valid": 4,
        "test": 10,
    }
    together = sorted(p for split in splits.values() for p in split)
    assert together == sorted(pairs)
    for split in splits.values():  # input order kept inside a split
        assert split == sorted(split, key=pairs.index)


def test_split_is_deterministic_and_order_free(gettext_corpus):
    pairs = make_pairs(50)
    sizes = {"test": 5, "valid": 4, "meta_valid": 2}
    first = gettext_corpus.split_pairs(pairs, sizes, seed=1)
    again = gettext_corpus.split_pairs(list(reversed(pairs)), sizes, seed=1)
    for name in first:
        assert sorted(first[name]) == sorted(again[name])
    other_seed = gettext_corpus.split_pairs(pairs, sizes, seed=2)
    assert sorted(other_seed["test"]) != sorted(first["test"])


def test_split_refuses_to_leave_no_training_data(gettext_corpus):
    with pytest.raises(ValueError, match="--test-size"):
        gettext_corpus.split_pairs(
            make_pairs(10), {"test": 5, "valid": 4, "meta_valid": 1}, seed=1
        )


def test_cli_extract_then_split(gettext_corpus, tmp_path):
    locale = tmp_path / "locale"
    write_mo(
        locale / "vi" / "LC_MESSAGES" / "b.mo",
        [(f"Message number {w}", f"Thông điệp số {w}") for w in "abcdefghij"],
    )
    write_mo(
        locale / "vi" / "LC_MESSAGES" / "a.mo",
        [("Message number a", "Tin nhắn a"), ("%s: %s", "%s: %s")],
    )
    out = tmp_path / "all"
    status = gettext_corpus.main(
        ["extract", "--locale-dir", str(locale), "--lang", "vi", "--out", str(out)]
    )
    assert status == 0
    src = Path(f"{out}.en").read_text(encoding="utf-8").splitlines()
    tgt = Path(f"{out}.vi").read_text(encoding="utf-8").splitlines()
    assert len(src) == len(tgt) == 10
    assert (src[0], tgt[0]) == ("Message number a", "Tin nhắn a")  # a.mo first
    assert (src[1], tgt[1]) == ("Message number b", "Thông điệp số b")
    split_dir = tmp_path / "split"
    argv = ["split", "--prefix", str(out), "--tgt", "vi", "--out-dir", str(split_dir)]
    sizes = ["--test-size", "3", "--valid-size", "2", "--meta-valid-size", "1"]
    assert gettext_corpus.main(argv + sizes) == 0
    counts = {
        p.name: len(p.read_text(encoding="utf-8").splitlines())
        for p in split_dir.iterdir()
    }
    assert counts == {
        "train.en": 4, "train.vi": 4, "valid.en": 2, "valid.vi": 2,
        "meta_valid.en": 1, "meta_valid.vi": 1, "test.en": 3, "test.vi": 3,
    }  # fmt: skip
    assert gettext_corpus.main(argv + ["--test-size", "10"]) == 1
