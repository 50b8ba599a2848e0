#!/usr/bin/env bash
# Usage: examples/en-tr/run.sh [DATA_BIN] [RUN_DIR]
#
# The paper's seven en-tr configurations (Table 1) with its hyper-parameters:
# 3+3 LSTM layers of 512, dropout 0.3, Adam 0.001, 32 sentences per task batch,
# gradient clip 5, 25 epochs, best checkpoint by main-task valid perplexity.
# En-Vi and En-Tr share the top encoder layer and the bottom 2 decoder layers (aiw_lstm_paper).
#
# DATA_BIN defaults to what `data-prep/prepare.sh en-tr` writes; RUN_DIR to
# runs/en-tr. Quick run: TRAIN_FLAGS="--max-update 2000" MAX_EPOCH=1.
# Every variable of examples/recipe.sh (CONFIGS, ARCH_FLAGS, ...) applies.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="work-dirs/data/en-tr"
export ARCH_FLAGS="${ARCH_FLAGS:---arch aiw_lstm_paper}"
exec "$here/../recipe.sh" "${1:-$work/data-bin}" "${2:-runs/en-tr}" "$work/raw"
