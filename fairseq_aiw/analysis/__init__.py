"""Offline analyses of finished runs: scores, results table, AIW plots, missed words.

Each module here is a small command-line tool with a ``main(argv=None)`` entry point and
plain functions that can be called from Python. None of them imports fairseq or torch,
so they run on any machine that has numpy, matplotlib and sacrebleu. This file imports
nothing on purpose: load the module you need, e.g. ``fairseq_aiw.analysis.scoring``.
"""
