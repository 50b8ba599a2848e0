"""Count the gold-translation words each system misses, by POS and named-entity type.

This is the analysis behind the paper's Figure 5. The gold translations are tagged with
a part-of-speech tag and a named-entity type per word. For every system and sentence,
each gold word that does not occur in the system's output counts as missed, under the
gold word's tags. Matching is by multiset: if the gold sentence has a word twice and the
output has it once, one occurrence is missed (the later one, so its tags are counted).
Both sides go through the same simple tokeniser and, by default, are case-folded.

Tagging is pluggable: ``TsvTagger`` reads a pre-tagged gold file (``token<TAB>POS<TAB>
NER`` lines, a blank line after each sentence), which needs no extra software;
``SpacyTagger`` tags with a spaCy pipeline when spaCy and that pipeline are installed.
The result is a TSV of counts (category by system) and a grouped bar chart.

Example:
    aiw-missed-words --tagged-gold test.es.tsv --system "MT only=mt_only.txt"
        --system "Uniform + AIW=uniform_aiw.txt" --out-tsv missed.tsv
        --out-png missed.png
"""

from __future__ import annotations

import abc
import argparse
import logging
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from fairseq_aiw.analysis._common import AnalysisInputError, read_lines, run_cli

logger = logging.getLogger(__name__)

TOKENIZERS = ("regex", "whitespace")
NO_ENTITY = "O"
_WORD_OR_SYMBOL = re.compile(r"\w+|[^\w\s]")
_IOB_PREFIX = re.compile(r"^[BIESLU]-")


class TaggedToken(NamedTuple):
    """One gold token, its part-of-speech tag and its entity type (``O``: none)."""

    text: str
    pos: str
    ner: str


class Tagger(abc.ABC):
    """Tags gold sentences with POS tags and named-entity types."""

    @abc.abstractmethod
    def tag(self, sentences: list[str]) -> list[list[TaggedToken]]:
        """Tags each sentence.

        Args:
            sentences: Gold sentences, one string each.

        Returns:
            One list of tokens per sentence, in the same order; ``ner`` is a bare
            entity type (``PER``, not ``B-PER``) or ``O``.
        """


def ner_category(tag: str) -> str:
    """Maps an IOB/BIOES tag such as ``B-PER`` to its type ``PER``; blank to ``O``."""
    tag = tag.strip()
    if tag in ("", "-", "_", NO_ENTITY):
        return NO_ENTITY
    return _IOB_PREFIX.sub("", tag)


class TsvTagger(Tagger):
    """Returns tags read from a pre-tagged gold file instead of running a tagger.

    The file has one ``token<TAB>POS<TAB>NER`` line per token and a blank line after
    each sentence (two blank lines in a row make an empty sentence); the final blank
    line may be omitted. NER tags may be plain types or IOB-prefixed.
    """

    def __init__(self, path: str | Path) -> None:
        """Reads and checks the file.

        Raises:
            AnalysisInputError: A line does not have three fields or has an empty
                token or POS tag; the message names the file and line.
        """
        self.path = Path(path)
        self.tagged = _read_tagged(self.path)

    @property
    def sentences(self) -> list[str]:
        """The gold sentences, rebuilt by joining each sentence's tokens with spaces."""
        return [" ".join(token.text for token in sent) for sent in self.tagged]

    def tag(self, sentences: list[str]) -> list[list[TaggedToken]]:
        """Returns the stored tags after checking they cover ``sentences``.

        Raises:
            AnalysisInputError: The file holds a different number of sentences.
        """
        if len(sentences) != len(self.tagged):
            raise AnalysisInputError(
                f"{self.path}: {len(self.tagged)} tagged sentences for "
                f"{len(sentences)} gold sentences"
            )
        differ = [
            i + 1
            for i, (text, sent) in enumerate(zip(sentences, self.tagged, strict=True))
            if "".join(text.split()) != "".join("".join(t.text.split()) for t in sent)
        ]
        if differ:
            logger.warning(
                "%s: tokens of %d sentence(s) do not spell the gold text (first: "
                "sentence %d); is it the same file?",
                self.path,
                len(differ),
                differ[0],
            )
        return self.tagged


def _read_tagged(path: Path) -> list[list[TaggedToken]]:
    """Parses a ``token<TAB>POS<TAB>NER`` file into sentences."""
    sentences: list[list[TaggedToken]] = []
    current: list[TaggedToken] = []
    for lineno, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            sentences.append(current)
            current = []
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not fields[0] or not fields[1]:
            raise AnalysisInputError(
                f"{path}:{lineno}: expected 'token<TAB>POS<TAB>NER', got {line!r}"
            )
        current.append(TaggedToken(fields[0], fields[1], ner_category(fields[2])))
    if current:
        sentences.append(current)
    return sentences


class SpacyTagger(Tagger):
    """Tags with a spaCy pipeline: universal POS (``token.pos_``) and entity types."""

    def __init__(self, model: str) -> None:
        """Loads the pipeline; spaCy is imported only here.

        Args:
            model: An installed spaCy pipeline, e.g. ``es_core_news_sm``.

        Raises:
            AnalysisInputError: spaCy or the pipeline is not installed; the message
                says how to install it.
        """
        try:
            import spacy
        except ImportError as err:
            raise AnalysisInputError(
                f"--spacy-model {model}: spaCy is not installed; run 'pip install "
                f"spacy' and 'python -m spacy download {model}', or pass a pre-tagged "
                "file with --tagged-gold"
            ) from err
        try:
            self.nlp: Any = spacy.load(model)
        except OSError as err:
            raise AnalysisInputError(
                f"--spacy-model {model}: pipeline not installed; run "
                f"'python -m spacy download {model}'"
            ) from err

    def tag(self, sentences: list[str]) -> list[list[TaggedToken]]:
        """Tags each sentence; whitespace tokens are dropped."""
        return [
            [
                TaggedToken(t.text, t.pos_ or "X", t.ent_type_ or NO_ENTITY)
                for t in doc
                if not t.is_space
            ]
            for doc in self.nlp.pipe(sentences)
        ]


def tokenize(text: str, mode: str = "regex", case_sensitive: bool = False) -> list[str]:
    """Splits text into the units that are compared.

    Args:
        text: A sentence or a single gold token.
        mode: ``regex`` splits into runs of word characters and single other
            symbols ("l'eau," gives ``l ' eau ,``); ``whitespace`` splits on spaces
            only, for text already tokenised the same way on both sides.
        case_sensitive: If False, the units are case-folded.

    Returns:
        The units, in order.
    """
    if mode not in TOKENIZERS:
        raise AnalysisInputError(f"tokenizer {mode!r}: expected one of {TOKENIZERS}")
    units = text.split() if mode == "whitespace" else _WORD_OR_SYMBOL.findall(text)
    return units if case_sensitive else [u.casefold() for u in units]


@dataclass
class CategoryCounts:
    """Word counts per POS tag and per entity type (``O`` counts non-entities)."""

    pos: Counter[str] = field(default_factory=Counter)
    ner: Counter[str] = field(default_factory=Counter)
    total: int = 0

    def add(self, token: TaggedToken) -> None:
        """Counts one word under its tags."""
        self.pos[token.pos] += 1
        self.ner[token.ner] += 1
        self.total += 1


def gold_words(
    tagged: Sequence[TaggedToken], mode: str = "regex", case_sensitive: bool = False
) -> list[TaggedToken]:
    """Tokenises gold tokens like the output; each unit keeps its token's tags.

    A gold token that the tokeniser splits (``U.S.`` in ``regex`` mode) yields several
    units with the same tags; a token with no units (only spaces) yields none.
    """
    return [
        TaggedToken(unit, token.pos, token.ner)
        for token in tagged
        for unit in tokenize(token.text, mode, case_sensitive)
    ]


def missed_in_sentence(
    gold: Sequence[TaggedToken], hyp: Sequence[str]
) -> list[TaggedToken]:
    """Returns the gold words with no counterpart in the hypothesis (multiset match).

    Gold words are matched left to right, each consuming one occurrence in ``hyp``, so
    when a word is present fewer times than in the gold, its last occurrences are the
    missed ones.

    Args:
        gold: Gold words, already normalised by ``gold_words``.
        hyp: Hypothesis units from ``tokenize`` with the same settings.
    """
    available = Counter(hyp)
    missed = []
    for word in gold:
        if available[word.text] > 0:
            available[word.text] -= 1
        else:
            missed.append(word)
    return missed


def count_missed(
    gold: Sequence[Sequence[TaggedToken]],
    hyps: Sequence[str],
    mode: str = "regex",
    case_sensitive: bool = False,
) -> CategoryCounts:
    """Counts one system's missed gold words per POS tag and entity type.

    Args:
        gold: Tagged gold sentences (``Tagger.tag`` output).
        hyps: The system's output sentences, aligned with ``gold``.
        mode: Tokeniser for both sides, see ``tokenize``.
        case_sensitive: If False, words match regardless of case.

    Returns:
        Summed over sentences; ``total`` is the number of missed words.

    Raises:
        AnalysisInputError: ``gold`` and ``hyps`` differ in length.
    """
    if len(gold) != len(hyps):
        raise AnalysisInputError(
            f"{len(hyps)} hypotheses for {len(gold)} gold sentences"
        )
    counts = CategoryCounts()
    for tagged, hyp in zip(gold, hyps, strict=True):
        words = gold_words(tagged, mode, case_sensitive)
        for word in missed_in_sentence(words, tokenize(hyp, mode, case_sensitive)):
            counts.add(word)
    return counts


def count_gold(
    gold: Sequence[Sequence[TaggedToken]],
    mode: str = "regex",
    case_sensitive: bool = False,
) -> CategoryCounts:
    """Counts all gold words per category: what a system that outputs nothing misses."""
    return count_missed(gold, [""] * len(gold), mode, case_sensitive)


def _categories(counts: Counter[str]) -> list[str]:
    """Categories by descending gold count, ties by name."""
    return sorted(counts, key=lambda c: (-counts[c], c))


def to_tsv(gold: CategoryCounts, systems: dict[str, CategoryCounts]) -> str:
    """Renders the counts as TSV: one row per category, one column per system.

    Columns: ``group`` (``all``, ``pos`` or ``ner``), ``category``, ``gold`` (how many
    gold words carry the tag), then the missed count for each system. The ``all`` row
    holds the totals; categories follow by descending gold count.
    """
    names = list(systems)
    lines = ["\t".join(["group", "category", "gold", *names])]
    lines.append(
        "\t".join(
            ["all", "ALL", str(gold.total)] + [str(systems[n].total) for n in names]
        )
    )
    for group in ("pos", "ner"):
        gold_group: Counter[str] = getattr(gold, group)
        for category in _categories(gold_group):
            missed = [str(getattr(systems[n], group)[category]) for n in names]
            lines.append(
                "\t".join([group, category, str(gold_group[category]), *missed])
            )
    return "\n".join(lines) + "\n"


def plot_missed(
    gold: CategoryCounts,
    systems: dict[str, CategoryCounts],
    out: str | Path,
    max_categories: int = 15,
) -> Path:
    """Draws grouped bars of missed words, a POS panel and an entity-type panel.

    Non-entity words (``O``) are left out of the entity panel; each panel shows at most
    ``max_categories`` categories, the most frequent in the gold.

    Args:
        gold: Gold counts (``count_gold``), which fix the category order.
        systems: Missed counts per system name, in legend order.
        out: Where to write the PNG; parent directories are created.
        max_categories: Upper limit on bars groups per panel.

    Returns:
        The path written.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    pos = _categories(gold.pos)[:max_categories]
    ner = [c for c in _categories(gold.ner) if c != NO_ENTITY][:max_categories]
    fig = Figure(figsize=(11.0, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2, width_ratios=[max(len(pos), 1), max(len(ner), 3)])
    _bars(axes[0], pos, {n: c.pos for n, c in systems.items()}, "by part of speech")
    _bars(axes[1], ner, {n: c.ner for n, c in systems.items()}, "by named-entity type")
    fig.suptitle("Gold words missed in the output (lower is better)")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=150, format="png")
    return Path(out)


def _bars(
    ax: Any, categories: list[str], counts: dict[str, Counter[str]], title: str
) -> None:
    """Draws one panel: a group of bars per category, one bar per system."""
    from matplotlib.ticker import MaxNLocator

    ax.set_title(title)
    if not categories:
        ax.text(0.5, 0.5, "none in the gold", ha="center", transform=ax.transAxes)
        ax.set_xticks([])
        return
    width = 0.8 / len(counts)
    for k, (name, counter) in enumerate(counts.items()):
        offsets = [i - 0.4 + width * (k + 0.5) for i in range(len(categories))]
        ax.bar(offsets, [counter[c] for c in categories], width=width, label=name)
    ax.set_xticks(range(len(categories)), categories, rotation=45, ha="right")
    ax.set_ylabel("missed words")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts are whole
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend()


def _parse_system(spec: str) -> tuple[str, str]:
    """Splits ``NAME=FILE`` (or a bare ``FILE``, named after its stem)."""
    name, sep, path = spec.partition("=")
    if not sep:
        return Path(spec).stem, spec
    if not name or not path:
        raise AnalysisInputError(f"--system {spec!r}: expected NAME=FILE")
    return name, path


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aiw-missed-words",
        description="Count the words of the gold translation that each system's "
        "output misses, grouped by POS tag and named-entity type (the paper's "
        "Figure 5). Lower is better.",
    )
    parser.add_argument(
        "--system",
        action="append",
        required=True,
        metavar="NAME=FILE",
        help="a system's detokenised output, one sentence per line, aligned with the "
        "gold; repeat for each system (a bare FILE is named after its stem)",
    )
    _add_gold_args(parser)
    _add_matching_and_output_args(parser)
    return parser


def _add_gold_args(parser: argparse.ArgumentParser) -> None:
    """Adds the flags that choose the gold text and its tagger."""
    tagging = parser.add_mutually_exclusive_group(required=True)
    tagging.add_argument(
        "--tagged-gold",
        metavar="TSV",
        help="pre-tagged gold: token<TAB>POS<TAB>NER lines, blank line after each "
        "sentence",
    )
    tagging.add_argument(
        "--spacy-model",
        metavar="NAME",
        help="tag the --gold file with this installed spaCy pipeline, "
        "e.g. es_core_news_sm (optional dependency)",
    )
    parser.add_argument(
        "--gold",
        metavar="FILE",
        help="gold translations, one per line (needed with --spacy-model; with "
        "--tagged-gold it is only checked against the tagged tokens)",
    )


def _add_matching_and_output_args(parser: argparse.ArgumentParser) -> None:
    """Adds the flags for word matching and for the outputs."""
    parser.add_argument(
        "--tokenizer",
        choices=TOKENIZERS,
        default="regex",
        help="how both sides are split into words (default: %(default)s: words and "
        "single symbols; whitespace: for text tokenised alike)",
    )
    parser.add_argument(
        "--case-sensitive", action="store_true", help="match words with their case"
    )
    parser.add_argument(
        "--out-tsv", metavar="FILE", help="counts TSV (default: stdout)"
    )
    parser.add_argument(
        "--out-png", metavar="FILE", help="also draw the bar chart here"
    )
    parser.add_argument(
        "--max-categories",
        metavar="N",
        type=int,
        default=15,
        help="most frequent categories shown per panel (default: %(default)s)",
    )


def _load_gold(args: argparse.Namespace) -> list[list[TaggedToken]]:
    """Tags the gold with the tagger the flags ask for."""
    if args.tagged_gold is not None:
        tagger = TsvTagger(args.tagged_gold)
        sentences = tagger.sentences if args.gold is None else read_lines(args.gold)
        return tagger.tag(sentences)
    if args.gold is None:
        raise AnalysisInputError("--spacy-model needs the gold text: pass --gold FILE")
    return SpacyTagger(args.spacy_model).tag(read_lines(args.gold))


def _main(argv: Sequence[str] | None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.max_categories < 1:
        parser.error(f"--max-categories {args.max_categories}: must be at least 1")
    specs = [_parse_system(spec) for spec in args.system]
    names = [name for name, _ in specs]
    if len(set(names)) != len(names):
        raise AnalysisInputError(f"--system: names must be unique, got {names}")
    gold = _load_gold(args)
    gold_source = args.gold or args.tagged_gold
    systems = {}
    for name, path in specs:
        hyps = read_lines(path)
        if len(hyps) != len(gold):
            raise AnalysisInputError(
                f"--system {name}={path}: {len(hyps)} lines, but {gold_source} has "
                f"{len(gold)} sentences"
            )
        systems[name] = count_missed(gold, hyps, args.tokenizer, args.case_sensitive)
        logger.info("%s: %d gold words missed", name, systems[name].total)
    gold_counts = count_gold(gold, args.tokenizer, args.case_sensitive)
    table = to_tsv(gold_counts, systems)
    if args.out_tsv is None:
        sys.stdout.write(table)
    else:
        Path(args.out_tsv).write_text(table, encoding="utf-8")
    if args.out_png is not None:
        plot_missed(gold_counts, systems, args.out_png, args.max_categories)
        logger.info("wrote %s", args.out_png)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Runs ``aiw-missed-words``; see ``aiw-missed-words --help``.

    Args:
        argv: Command-line arguments without the program name (default: sys.argv).

    Returns:
        0 on success, 1 when an input file or flag is unusable (the error is logged).
    """
    return run_cli(_main, argv, logger)


if __name__ == "__main__":
    sys.exit(main())
