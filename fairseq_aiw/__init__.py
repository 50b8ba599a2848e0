"""fairseq_aiw: multitask NMT with Adaptive Importance Weighting, a fairseq plugin.

Importing the package registers with fairseq the task ``aiw_mtl``, the model
``aiw_lstm`` (architectures ``aiw_lstm_paper`` and ``aiw_lstm_tiny``) and the
criterion ``aiw_cross_entropy``; this is what ``--user-dir fairseq_aiw`` does.
"""

__version__ = "0.1.0"

from fairseq_aiw import criterion, model, task  # noqa: F401,E402  (registration)
