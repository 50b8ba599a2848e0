"""Tests of data-prep/amr_penman.py: Konstas et al. linearisation of AMR graphs."""

from __future__ import annotations

import shutil

import penman
import pytest

from .conftest import load_script
from .prepare_fixtures import AMR

amr = load_script("amr_penman")

# (graph, expected sequence); derived by hand from the rules in the module doc
LINEARISE_CASES = [
    ("(w / want-01 :ARG0 (b / boy) :ARG1 (g / go-02 :ARG0 b))",
     "want :ARG0 boy :ARG1 ( go :ARG0 boy )"),
    ("(r / rain-01)", "rain"),
    # inverse roles as written; senses of -91 frames stripped
    ("(p / person :ARG0-of (h / have-org-role-91 :ARG2 (o / official)))",
     "person :ARG0-of ( have-org-role :ARG2 official )"),
    # named entity: :wiki and :name go, the node becomes TYPE_name_K
    ('(c / city :wiki "New_York_City" :name (n / name :op1 "New" :op2 "York"))',
     "city_name_0"),
    # other edges of an entity node stay; the same name twice gets the same K,
    # a new name of the same type the next K, a name of another type its own 0
    ('(a / and :op1 (c / city :name (n / name :op1 "Rome") :mod (o / old))'
     ' :op2 (c2 / city :name (n2 / name :op1 "Paris"))'
     ' :op3 (c3 / city :name (n3 / name :op1 "Rome"))'
     ' :op4 (p / person :name (n4 / name :op1 "Rome")))',
     "and :op1 ( city_name_0 :mod old ) :op2 city_name_1 :op3 city_name_0"
     " :op4 person_name_0"),
    # re-entrancy to an entity; name ops in numeric order (op10 after op2)
    ('(s / say-01 :ARG0 (o / organization :name (n / name :op2 "B" :op10 "C"'
     ' :op1 "A")) :ARG1 (l / like-01 :ARG0 o))',
     "say :ARG0 organization_name_0 :ARG1 ( like :ARG0 organization_name_0 )"),
    # constants: polarity, numbers, strings with spaces, imperative
    ('(m / meet-03 :polarity - :mode imperative :quant 3 :time (d / date-entity'
     ' :time "5 pm" :year 2002))',
     "meet :polarity - :mode imperative :quant 3 :time ( date-entity :time 5_pm"
     " :year 2002 )"),
    # a name node that is not under an entity is an ordinary node
    ('(n / name :op1 "Bob")', "name :op1 Bob"),
]  # fmt: skip


@pytest.mark.parametrize("graph, expected", LINEARISE_CASES)
def test_linearise(graph, expected):
    assert amr.linearise(penman.parse(graph).node) == expected


@pytest.mark.parametrize(
    "concept, expected",
    [("want-01", "want"), ("have-org-role-91", "have-org-role"), ("boy", "boy"),
     ("date-entity", "date-entity"), ("slash-3", "slash")],
)  # fmt: skip
def test_strip_sense(concept, expected):
    assert amr.strip_sense(concept) == expected


@pytest.mark.parametrize(
    "value, expected",
    [('"Rome"', "Rome"), ('"New York"', "New_York"), ("-", "-"), ("2002", "2002"),
     ('""', '""'), ('"say \\"hi\\""', 'say_"hi"')],
)  # fmt: skip
def test_format_constant(value, expected):
    assert amr.format_constant(value) == expected


def block(graph: str, snt: str | None = "A sentence.") -> list[str]:
    head = ["# ::id x.1 ::date 2012-12-19T12:53:14"]
    head += [f"# ::snt {snt}"] if snt is not None else []
    return head + graph.split("\n") + [""]


def test_read_amr_skips_header_and_reads_metadata():
    lines = ["# AMR release (generated on Fri Oct 14, 2016); corpus: x", ""]
    lines += block("(b / boy)", snt="  The   boy. ") + block(
        '(c / city :name (n / name :op1 "(x"))'
    )
    assert amr.read_amr(lines, "f.txt") == [
        ("The boy.", "boy"),
        ("A sentence.", "city_name_0"),  # the "(" inside the string is no bracket
    ]


@pytest.mark.parametrize(
    "lines, message",
    [
        (block("(b / boy))"), "f.txt:1: not exactly one bracketed graph"),
        (block("(b / boy)\n(g / girl)"), "f.txt:1: not exactly one bracketed graph"),
        (block("(b / boy :ARG0 (g / g)"), "f.txt:1: not exactly one bracketed graph"),
        (block("(b / boy :ARG0)"), "f.txt:1: "),
        (block("junk"), "f.txt:1: not exactly one bracketed graph"),
        (block("(b / boy)", snt=None), "f.txt:1: graph without a '# ::snt' line"),
        (["", ""] + block("(b boy)"), "f.txt:3: "),
    ],
)  # fmt: skip
def test_read_amr_rejects_malformed(lines, message):
    with pytest.raises(ValueError) as err:
        amr.read_amr(lines, "f.txt")
    assert str(err.value).startswith(message)


def test_build_release_layout(tmp_path):
    amr.build(AMR, tmp_path / "amr")
    read = {
        p.name: p.read_text(encoding="utf-8").splitlines()
        for p in (tmp_path / "amr").iterdir()
    }
    assert read["train.en"] == [  # files in name order: bolt, then proxy
        "The boy wants to go.",
        "Paris and Rome are not rivals, Paris said.",
        "US officials held an expert group meeting in January 2002 in New York.",
        "Meet me at 5 pm.",
    ]
    assert read["train.amr"] == [
        "want :ARG0 boy :ARG1 ( go :ARG0 boy )",
        "say :ARG0 city_name_0 :ARG1 ( rival :polarity - :ARG0 ( and :op1 city_name_0"
        " :op2 city_name_1 ) )",
        "hold :ARG0 ( person :ARG0-of ( have-org-role :ARG1 country_name_0 :ARG2"
        " official ) ) :ARG1 ( meet :ARG0 ( person :ARG1-of expert :ARG2-of group ) )"
        " :time ( date-entity :year 2002 :month 1 ) :location city_name_0",
        "meet :mode imperative :ARG0 you :ARG1 i :time ( date-entity :time 5_pm )",
    ]
    assert read["valid.amr"] == ["visit :ARG0 person_name_0 :ARG1 country_name_0"]
    assert read["test.en"] == ["It is raining."]


def test_split_folders_directly_and_missing_training(tmp_path):
    shutil.copytree(AMR / "data" / "amrs" / "split" / "training", tmp_path / "training")
    amr.build(tmp_path, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "train.amr",
        "train.en",
    ]
    with pytest.raises(FileNotFoundError, match="no data/amrs/split/training"):
        amr.build(tmp_path / "out", tmp_path / "out2")


def test_broken_graph_fails_without_output(tmp_path, caplog):
    broken = tmp_path / "amr"
    shutil.copytree(AMR, broken)
    path = next((broken / "data" / "amrs" / "split" / "dev").glob("*.txt"))
    path.write_text(path.read_text().replace(':op1 "Jordan")))', ':op1 "Jordan"))'))
    out = tmp_path / "out"
    assert amr.run_cli(amr.main, ["--amr", str(broken), "--out", str(out)]) == 1
    assert f"{path}:3: not exactly one bracketed graph" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["amr"]
