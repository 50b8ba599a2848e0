"""Score a ``fairseq-generate`` output file with sacrebleu BLEU and chrF.

``fairseq-generate`` prints, for every test sentence with dataset index ``<id>``, lines
such as ``S-<id>`` (source), ``T-<id>`` (reference), ``H-<id>`` (hypothesis tokens) and
``D-<id>`` (detokenised hypothesis), in the order batches finish rather than by id. This
module puts them back in id order, takes the ``D-`` lines as the system output and the
``T-`` lines (or a plain reference file) as references, and writes the corpus scores and
their sacrebleu signatures as JSON, the format ``aiw-results`` collects.

Example:
    aiw-score runs/uniform_aiw/gen/test.txt --out runs/uniform_aiw/scores/test.json
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sacrebleu.metrics import BLEU, CHRF

from fairseq_aiw.analysis._common import AnalysisInputError, read_lines, run_cli

logger = logging.getLogger(__name__)

_LINE = re.compile(r"^([A-Z])-(\d+)\t(.*)$")


@dataclass
class _Entries:
    """Lines of one generate output, keyed by sentence id."""

    refs: dict[int, str] = field(default_factory=dict)
    hyps: dict[int, str] = field(default_factory=dict)
    sources: set[int] = field(default_factory=set)
    extra_hyps: int = 0  # D- lines beyond the first per id (--nbest > 1)


def _parse_line(entries: _Entries, path: Path, lineno: int, line: str) -> None:
    """Adds one line to ``entries``; lines that are not S/T/D entries are ignored."""
    match = _LINE.match(line)
    if match is None:
        return
    kind, sent_id, rest = match.group(1), int(match.group(2)), match.group(3)
    if kind == "S":
        entries.sources.add(sent_id)
    elif kind == "T":
        if sent_id in entries.refs:
            raise AnalysisInputError(
                f"{path}:{lineno}: second T- line for id {sent_id}; "
                "are two generate outputs concatenated?"
            )
        entries.refs[sent_id] = rest
    elif kind == "D":
        score, _, text = rest.partition("\t")
        try:
            float(score)
        except ValueError as err:
            raise AnalysisInputError(
                f"{path}:{lineno}: D- line has no numeric score: {line!r}"
            ) from err
        if sent_id in entries.hyps:
            entries.extra_hyps += 1  # n-best lists print the best hypothesis first
        else:
            entries.hyps[sent_id] = text


def _check_ids(entries: _Entries, path: Path, require_refs: bool) -> list[int]:
    """Returns the ids 0..N-1 after checking that none is missing a D- (or T-) line."""
    seen = set(entries.hyps) | set(entries.refs) | entries.sources
    if not entries.hyps:
        raise AnalysisInputError(
            f"{path}: no D- lines found; is this fairseq-generate output?"
        )
    ids = list(range(max(seen) + 1))
    gaps = [i for i in ids if i not in seen]
    if gaps:
        raise AnalysisInputError(
            f"{path}: missing sentence id(s) {_preview(gaps)} (ids must run from 0 to "
            f"{ids[-1]}); did generation skip inputs, e.g. with "
            "--skip-invalid-size-inputs-valid-test?"
        )
    no_hyp = [i for i in ids if i not in entries.hyps]
    if no_hyp:
        raise AnalysisInputError(f"{path}: no D- line for id(s) {_preview(no_hyp)}")
    no_ref = [i for i in ids if i not in entries.refs]
    if require_refs and no_ref:
        raise AnalysisInputError(
            f"{path}: no T- line for id(s) {_preview(no_ref)}; pass --ref FILE"
        )
    return ids


def _preview(ids: list[int], limit: int = 5) -> str:
    """Formats the first few ids of a list, e.g. ``3, 4, 9 and 2 more``."""
    shown = ", ".join(str(i) for i in ids[:limit])
    return shown if len(ids) <= limit else f"{shown} and {len(ids) - limit} more"


def read_generate_output(
    path: str | Path, require_refs: bool = True
) -> tuple[list[int], list[str], list[str]]:
    """Reads hypotheses and references from a ``fairseq-generate`` output file.

    Lines other than ``S-``, ``T-`` and ``D-`` entries (``H-``, ``P-``, log lines,
    the final BLEU line) are ignored. With ``--nbest`` > 1 the first ``D-`` line of each
    id, the best hypothesis, is kept.

    Args:
        path: The file ``fairseq-generate`` wrote to stdout.
        require_refs: If True, every id must have a ``T-`` line. If False, references
            are returned only when every id has one, else as an empty list.

    Returns:
        ``(ids, hyps, refs)``: ids ``0..N-1`` in order, the detokenised hypotheses in
        the same order, and the references in the same order (or ``[]``, see above).

    Raises:
        AnalysisInputError: The file is unreadable, an id in ``0..max`` is absent, an id
            lacks its ``D-`` (or required ``T-``) line, or a ``T-`` line is repeated.
    """
    path = Path(path)
    entries = _Entries()
    for lineno, line in enumerate(read_lines(path), start=1):
        _parse_line(entries, path, lineno, line)
    ids = _check_ids(entries, path, require_refs)
    if entries.extra_hyps:
        logger.info("%s: kept the best of n-best hypotheses per id", path)
    hyps = [entries.hyps[i] for i in ids]
    has_all_refs = all(i in entries.refs for i in ids)
    refs = [entries.refs[i] for i in ids] if has_all_refs else []
    return ids, hyps, refs


def score(
    hyps: Sequence[str], refs: Sequence[str], tokenize: str = BLEU.TOKENIZER_DEFAULT
) -> dict[str, Any]:
    """Computes corpus-level BLEU and chrF with sacrebleu, one reference per sentence.

    Args:
        hyps: System outputs, detokenised, one per sentence.
        refs: References aligned with ``hyps``.
        tokenize: The sacrebleu BLEU tokeniser (``13a`` by default); chrF works on
            characters and ignores it.

    Returns:
        ``{"bleu", "chrf", "bleu_signature", "chrf_signature", "n_sentences"}``; scores
        are on sacrebleu's 0-100 scale and unrounded.

    Raises:
        AnalysisInputError: The lists differ in length or are empty.
        ValueError: ``tokenize`` is not a sacrebleu tokeniser name.
    """
    if len(hyps) != len(refs):
        raise AnalysisInputError(f"{len(hyps)} hypotheses but {len(refs)} references")
    if not hyps:
        raise AnalysisInputError("nothing to score: no sentences")
    bleu, chrf = BLEU(tokenize=tokenize), CHRF()
    bleu_score = bleu.corpus_score(list(hyps), [list(refs)])
    chrf_score = chrf.corpus_score(list(hyps), [list(refs)])
    return {
        "bleu": bleu_score.score,
        "chrf": chrf_score.score,
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
        "n_sentences": len(hyps),
    }


def _warn_on_suspicious_text(hyps: Sequence[str], refs: Sequence[str]) -> None:
    """Logs a warning when the text looks like it skipped post-processing."""
    if any("@@ " in h or "\u2581" in h for h in hyps):
        logger.warning(
            "hypotheses contain BPE markers ('@@ ' or '\u2581'); "
            "was fairseq-generate run without --post-process / --remove-bpe?"
        )
    # T- lines are rebuilt from the target dictionary, so out-of-vocabulary words
    # come back as <<unk>> and unfairly lower the score.
    if any("<<unk>>" in r for r in refs):
        logger.warning(
            "references contain <<unk>>; pass the raw reference text with --ref FILE"
        )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aiw-score",
        description="Score a fairseq-generate output with sacrebleu BLEU and chrF "
        "and write the scores with their signatures as JSON.",
    )
    parser.add_argument("generate_output", help="file fairseq-generate wrote to stdout")
    parser.add_argument(
        "--ref",
        metavar="FILE",
        help="plain-text references, line i for sentence id i "
        "(default: the T- lines of the generate output)",
    )
    parser.add_argument(
        "--tokenize",
        default=BLEU.TOKENIZER_DEFAULT,
        choices=sorted(BLEU.TOKENIZERS),
        help="sacrebleu tokeniser for BLEU (default: %(default)s)",
    )
    parser.add_argument(
        "--out", metavar="JSON", help="write the scores here (default: stdout)"
    )
    parser.add_argument(
        "--write-hyp",
        metavar="FILE",
        help="also write the hypotheses, in id order, one per line",
    )
    return parser


def _load_refs(ref_path: str, n_hyps: int, hyp_path: str) -> list[str]:
    """Reads ``--ref`` and checks it has one line per hypothesis."""
    refs = read_lines(ref_path)
    if len(refs) != n_hyps:
        raise AnalysisInputError(
            f"--ref {ref_path}: {len(refs)} lines, but {hyp_path} has {n_hyps} "
            "hypotheses"
        )
    return refs


def _write_text(path: str | Path, lines: Sequence[str]) -> None:
    """Writes ``lines`` as UTF-8, one per line, creating parent directories."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(line + "\n" for line in lines)


def _main(argv: Sequence[str] | None) -> int:
    args = _build_parser().parse_args(argv)
    hyp_path = args.generate_output
    _, hyps, refs = read_generate_output(hyp_path, require_refs=args.ref is None)
    if args.ref is not None:
        refs = _load_refs(args.ref, len(hyps), hyp_path)
    _warn_on_suspicious_text(hyps, refs)
    result = score(hyps, refs, tokenize=args.tokenize)
    result["hyp_file"] = str(hyp_path)
    result["ref_file"] = str(args.ref if args.ref is not None else hyp_path)
    text = json.dumps(result, indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        _write_text(args.out, [text.rstrip("\n")])
    if args.write_hyp is not None:
        _write_text(args.write_hyp, hyps)
    logger.info(
        "%s: BLEU %.2f, chrF %.2f on %d sentences",
        hyp_path,
        result["bleu"],
        result["chrf"],
        result["n_sentences"],
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Runs ``aiw-score``; see ``aiw-score --help``.

    Args:
        argv: Command-line arguments without the program name (default: sys.argv).

    Returns:
        0 on success, 1 when an input file is unusable (the error is logged).
    """
    return run_cli(_main, argv, logger)


if __name__ == "__main__":
    sys.exit(main())
