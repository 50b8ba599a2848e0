"""Helpers shared by the analysis tools: reading text files, errors, CLI plumbing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path


class AnalysisInputError(ValueError):
    """A user-supplied file or flag is unusable; the message names which one."""


def read_lines(path: str | Path) -> list[str]:
    """Reads a UTF-8 text file as a list of lines, without line terminators.

    Only a newline ends a line (a carriage return before it is dropped), so Unicode
    line separators such as U+2028 inside a sentence never change the line count.

    Args:
        path: The file to read.

    Returns:
        One string per line; a final line without a newline still counts.

    Raises:
        AnalysisInputError: The file is missing or is not valid UTF-8.
    """
    try:
        with open(path, encoding="utf-8", newline="\n") as f:
            return [line.rstrip("\n").rstrip("\r") for line in f]
    except FileNotFoundError as err:
        raise AnalysisInputError(f"{path}: file not found") from err
    except UnicodeDecodeError as err:
        raise AnalysisInputError(f"{path}: not valid UTF-8 ({err.reason})") from err


def setup_logging() -> None:
    """Sends log records of level INFO and above to stderr, unless already set up."""
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    # importing the package imports fairseq, whose hydra set-up can leave the
    # root logger at DEBUG; matplotlib's font search is noise at that level
    logging.getLogger("matplotlib").setLevel(logging.WARNING)


def run_cli(
    body: Callable[[Sequence[str] | None], int],
    argv: Sequence[str] | None,
    log: logging.Logger,
) -> int:
    """Runs a CLI body and turns input errors into a logged message and exit code 1.

    Args:
        body: Parses ``argv`` and does the work; returns the exit code.
        argv: Arguments without the program name; None means ``sys.argv[1:]``.
        log: The calling module's logger, which reports the error.

    Returns:
        The exit code: the body's own, or 1 after an input or file-system error.
    """
    setup_logging()
    try:
        return body(argv)
    except (AnalysisInputError, OSError) as err:
        log.error("%s", err)
        return 1
