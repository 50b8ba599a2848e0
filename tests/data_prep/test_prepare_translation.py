"""Tests of data-prep/translation_corpus.py: entities, filter, splits, SGML, pairs."""

from __future__ import annotations

import logging
import tarfile
from pathlib import Path

import pytest

from .conftest import load_script
from .prepare_fixtures import FIXTURES, make_offline_dir

tc = load_script("translation_corpus")


def words(n: int) -> str:
    return " ".join(["w"] * n)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("It &apos;s", "It 's"),
        ("&quot; big &quot;", '" big "'),
        ("a &amp; b", "a & b"),
        ("&lt;b&gt;", "<b>"),
        ("&#91; x &#93; &#124;", "[ x ] |"),
        ("&amp;lt;", "&lt;"),  # decoded once
        ("&#x41;&#66;", "AB"),
        ("AT&T", "AT&T"),
        ("&nbsp; stays", "&nbsp; stays"),  # not an XML entity
    ],
)
def test_unescape_entities(text, expected):
    assert tc.unescape_entities(text) == expected


@pytest.mark.parametrize(
    "src_len, tgt_len, reason",
    [
        (1, 1, None),
        (0, 3, "too_short"),
        (3, 0, "too_short"),
        (250, 250, None),
        (251, 250, "too_long"),
        (250, 251, "too_long"),
        (2, 3, None),  # ratio exactly 1.5 is kept
        (3, 2, None),
        (2, 4, "length_ratio"),
        (4, 2, "length_ratio"),
        (10, 15, None),
        (10, 16, "length_ratio"),
    ],
)
def test_drop_reason(src_len, tgt_len, reason):
    config = tc.CleanConfig()
    assert tc.drop_reason(words(src_len), words(tgt_len), config) == reason


def test_drop_reason_long_word_and_no_ratio():
    config = tc.CleanConfig()
    long_word = "x" * 1001
    assert tc.drop_reason(f"a {long_word}", "a b", config) == "long_word"
    assert tc.drop_reason("a " + "x" * 1000, "a b", config) is None
    no_ratio = tc.CleanConfig(max_ratio=0)
    assert tc.drop_reason(words(1), words(200), no_ratio) is None
    assert tc.drop_reason(words(1), words(251), no_ratio) == "too_long"


def test_clean_pairs_counts_and_order():
    pairs = [
        ("a b", "c d"),
        ("", "x"),
        ("a", "b c d"),
        (words(300), words(300)),
        ("e", "f"),
    ]
    kept, counts = tc.clean_pairs(pairs, tc.CleanConfig())
    assert kept == [("a b", "c d"), ("e", "f")]
    assert counts == {
        "read": 5, "kept": 2, "too_short": 1, "length_ratio": 1, "too_long": 1
    }  # fmt: skip


@pytest.mark.parametrize(
    "n, n_valid, n_meta",
    [(0, 0, 0), (1, 1, 0), (2, 2, 0), (3, 2, 1), (9, 6, 3), (10, 7, 3),
     (11, 8, 3), (1553, 1036, 517)],
)  # fmt: skip
def test_split_two_to_one(n, n_valid, n_meta):
    pairs = [(f"s{i}", f"t{i}") for i in range(n)]
    valid, meta_valid = tc.split_two_to_one(pairs)
    assert (len(valid), len(meta_valid)) == (n_valid, n_meta)
    assert valid + meta_valid == pairs  # by position, nothing lost or reordered
    assert tc.split_two_to_one(pairs) == (valid, meta_valid)


SGML = """<srcset setid="newstest2099" srclang="any">
<doc sysid="ref" docid="a.1" genre="news" origlang="en">
<hl>
<seg id="1">Head line</seg>
</hl>
<p>
<seg id=2>Fish &amp; chips   cost &#163;5 .</seg>
<seg id='3' extra="x">  spaced\tout  </seg>
</p>
</doc>
<doc docid="b.2">
<seg id="1">Second doc</seg>
</doc>
</srcset>
"""


def test_read_sgml_segments():
    segments = tc.read_sgml(SGML.split("\n"), "x.sgm")
    assert [(s.docid, s.segid, s.text) for s in segments] == [
        ("a.1", "1", "Head line"),
        ("a.1", "2", "Fish & chips cost £5 ."),
        ("a.1", "3", "spaced out"),
        ("b.2", "1", "Second doc"),
    ]


DOC, END = '<doc docid="d">', "</doc>"


@pytest.mark.parametrize(
    "lines, message",
    [
        (['<seg id="1">x</seg>'], ":1: <seg> outside a <doc>"),
        ([DOC, "<seg>x</seg>", END], ":2: <seg> outside a <doc> or without an id"),
        ([DOC, '<seg id="1">text', END], ":2: unclosed <seg>"),
        ([DOC, '<seg id="1">a</seg>', '<seg id="1">b</seg>', END],
         ":3: two <seg> on one line, or a repeated id"),
        ([DOC, '<seg id="1">a</seg><seg id="2">b</seg>', END], ":2: two <seg>"),
        ([DOC, '<seg id="1">a</seg>'], ": <doc docid='d'> is never closed"),
        ([DOC, '<doc docid="e">'], ":2: <doc> inside <doc docid='d'>"),
        ([END], ":1: </doc> without a <doc>"),
        (['<doc genre="news">'], ":1: <doc> without a docid"),
        ([DOC, "loose text", END], ":2: not SGML: 'loose text'"),
        (['<srcset setid="s">', "</srcset>"], ": no <seg> found"),
    ],
)  # fmt: skip
def test_read_sgml_rejects_malformed(lines, message):
    with pytest.raises(ValueError) as err:
        tc.read_sgml(lines, "x.sgm")
    assert str(err.value).startswith("x.sgm" + message)


def test_pair_segments_checks_ids():
    src = tc.read_sgml(SGML.split("\n"), "src.sgm")
    assert tc.pair_segments(src, src, "src.sgm", "ref.sgm")[1] == (
        "Fish & chips cost £5 .", "Fish & chips cost £5 ."
    )  # fmt: skip
    ref = src[:1] + [tc.Segment("a.1", "9", "x")] + src[2:]
    with pytest.raises(ValueError, match=r"src.sgm and ref.sgm differ at segment 2"):
        tc.pair_segments(src, ref, "src.sgm", "ref.sgm")
    with pytest.raises(ValueError, match=r"differ at segment 4: .* vs None"):
        tc.pair_segments(src, src[:3], "src.sgm", "ref.sgm")


@pytest.fixture(scope="module")
def offline(tmp_path_factory) -> tuple[Path, Path]:
    return make_offline_dir(tmp_path_factory.mktemp("dl") / "offline")


def build(pair: str, offline, out: Path, **kwargs) -> dict[str, list[str]]:
    """Runs one builder; returns {"split.lang": lines} of the written folder."""
    folder, sources = offline
    files = tc.Downloads(folder, sources)
    tc.build(pair, files, out, tc.CleanConfig(), **kwargs)
    return {p.name: p.read_text(encoding="utf-8").splitlines() for p in out.iterdir()}


def test_en_vi(offline, tmp_path):
    got = build("en-vi", offline, tmp_path / "t")
    sizes = {name: len(lines) for name, lines in got.items()}
    assert sizes == {
        "train.en": 11, "train.vi": 11, "valid.en": 6, "valid.vi": 6,
        "meta_valid.en": 3, "meta_valid.vi": 3, "test.en": 4, "test.vi": 4,
    }  # fmt: skip
    tst2012 = (FIXTURES / "iwslt15.en-vi" / "tst2012.vi").read_text().splitlines()
    assert got["valid.vi"] == tst2012[:6]
    assert got["meta_valid.vi"] == tst2012[6:]
    assert got["meta_valid.en"][-1] == "That 's a good question ."
    assert got["train.en"][2:4] == [
        "It 's a very simple idea .",
        'We call it " the big picture " .',
    ]
    assert "Thank you ." not in got["train.en"]  # 3 vs 5 tokens: ratio 1.67
    assert "Music can bring people together ." not in got["train.en"]
    assert "" not in got["train.en"]
    again = build("en-vi", offline, tmp_path / "again")
    assert again == got  # deterministic


def test_en_tr(offline, tmp_path):
    got = build("en-tr", offline, tmp_path / "t")
    assert got["train.en"] == [
        "The government announced new measures on Monday.",
        "Officials said the plan would cost 2 million euros.",
        '"We are ready," the minister told reporters.',
        "Exports grew by 5% last year.",
        "Tourism remains the main source of income for the island.",
    ]  # dropped by ratio: 2 vs 5, 8 vs 5 and 17 vs 6 tokens
    assert len(got["train.tr"]) == 5
    assert got["valid.en"][2:] == [
        "Parents & teachers were told on Thursday evening.",
        "The bridge will open in June.",
        "It links the two sides of the city.",
    ]
    assert got["valid.tr"][3] == "Köprü haziranda açılacak."
    assert got["meta_valid.tr"] == [
        "Petrol fiyatları üçüncü gün de düştü.",
        'Analistler "sakin bir hafta" bekliyor.',
    ]
    assert (len(got["test.en"]), len(got["test.tr"])) == (3, 3)


@pytest.mark.parametrize("limit, n_train", [(150_000, 8), (9, 7), (2, 2)])
def test_en_es(offline, tmp_path, limit, n_train):
    got = build("en-es", offline, tmp_path / "t", europarl_pairs=limit)
    assert len(got["train.en"]) == len(got["train.es"]) == n_train
    assert got["train.en"][:2] == [
        "Resumption of the session",
        "I declare resumed the session of the European Parliament.",
    ]
    assert got["valid.es"] == [
        "Entra en vigor una nueva ley sobre residuos.",
        "Los municipios deberán reciclar más.",
    ]
    assert got["meta_valid.en"] == [
        "Rain returns to the north",
        "Temperatures will drop on Sunday.",
        "Snow is expected above 1,000 metres.",  # &#160; -> one space
    ]
    assert got["test.es"][1] == '"Es un día histórico", dijo el alcalde.'


def test_broken_sgml_names_file_and_writes_nothing(offline, tmp_path):
    folder, sources = offline
    broken = tmp_path / "offline"
    broken.mkdir()
    for path in folder.iterdir():
        (broken / path.name).symlink_to(path)
    (broken / "wmt17-test.tgz").unlink()
    ref = (FIXTURES / "wmt" / "newstest2017-entr-ref.tr.sgm").read_text()
    (tmp_path / "ref.sgm").write_text(ref.replace("</seg>", "", 1))
    with tarfile.open(broken / "wmt17-test.tgz", "w:gz") as archive:
        archive.add(FIXTURES / "wmt" / "newstest2017-entr-src.en.sgm",
                    "test/newstest2017-entr-src.en.sgm")  # fmt: skip
        archive.add(tmp_path / "ref.sgm", "test/newstest2017-entr-ref.tr.sgm")
    out = tmp_path / "raw" / "translation"
    with pytest.raises(
        ValueError, match=r"newstest2017-entr-ref.tr.sgm:3: unclosed <seg>"
    ):
        tc.build("en-tr", tc.Downloads(broken, sources), out, tc.CleanConfig())
    assert not (tmp_path / "raw").exists()  # nothing written, not even a temporary


def test_plain_line_counts_must_match(tmp_path):
    (tmp_path / "a.en").write_text("x\ny\n")
    (tmp_path / "a.vi").write_text("x\n")
    sources = tmp_path / "sources.tsv"
    sources.write_text(
        "en-vi\ta_en\ta.en\t-\thttps://example.org/a.en\n"
        "en-vi\ta_vi\ta.vi\t-\thttps://example.org/a.vi\n"
    )
    files = tc.Downloads(tmp_path, sources)
    with pytest.raises(ValueError, match=r"a.en has 2 lines but .*a.vi has 1"):
        files.plain(("a_en", "a.en"), ("a_vi", "a.vi"))


def test_main_skips_existing_output_and_names_missing_files(offline, tmp_path, caplog):
    folder, sources = offline
    out = tmp_path / "translation"
    out.mkdir()
    argv = ["en-vi", "--downloads", str(folder), "--sources", str(sources)]
    with caplog.at_level(logging.INFO):
        assert tc.run_cli(tc.main, argv + ["--out", str(out)]) == 0
    assert "exists; remove it to rebuild" in caplog.text
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = ["en-tr", "--downloads", str(empty), "--sources", str(sources)]
    assert tc.run_cli(tc.main, argv + ["--out", str(tmp_path / "t2")]) == 1
    assert f"{empty / 'setimes2.en-tr.txt.zip'}: no such file" in caplog.text
    assert not (tmp_path / "t2").exists()


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--max-tokens", "0"], "--max-tokens must be >= 1, got 0"),
        (["--europarl-pairs", "-5"], "--europarl-pairs must be >= 1, got -5"),
        (["--max-ratio", "0.5"], "--max-ratio must be 0 (off) or >= 1, got 0.5"),
    ],
)
def test_main_checks_flags(tmp_path, caplog, flags, message):
    argv = ["en-vi", "--downloads", str(tmp_path), "--out", str(tmp_path / "t")]
    assert tc.run_cli(tc.main, argv + flags) == 1
    assert message in caplog.text
