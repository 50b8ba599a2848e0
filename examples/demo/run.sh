#!/usr/bin/env bash
# Usage: examples/demo/run.sh [--quick] [RUN_DIR]
#
# The shipped En-Vi demo corpus (data/demo: software messages from this
# system's gettext catalogs, and Brown POS tags as the auxiliary task) through
# the whole pipeline on CPU: binarise, train, decode, score, tabulate, plot.
#
#   --quick   MT only, Uniform and Uniform+AIW, 600 updates each (what
#             `make demo` runs); otherwise all seven configurations of
#             Table 1, 1,000 updates each.
#   RUN_DIR   default build/demo-quick with --quick, build/demo otherwise.
#
# A reduced model (DEMO_ARCH) trains with Adam at lr 0.004 (the paper: 0.001)
# for DEMO_UPDATES updates per configuration, validating every 200 updates.
# Re-running skips finished configurations.
set -euo pipefail
quick=0
if [[ "${1:-}" == "--quick" ]]; then quick=1; shift; fi
if [[ "${1:-}" == -* ]]; then sed -n '2p' "$0" | sed 's/^# //' >&2; exit 2; fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
suffix=""
[[ $quick == 1 ]] && suffix="-quick"
runs="${1:-$repo/build/demo$suffix}"
bin="$repo/build/data-bin/demo"
python="${PYTHON:-python}"

if [[ ! -f "$bin/translation/test.en-vi.vi.idx" ]]; then
  echo "== binarising data/demo/raw into $bin"
  "$python" "$repo/data-prep/binarize.py" --raw-dir "$repo/data/demo/raw" \
    --dest-dir "$bin" --main-task translation --vocab-size 8000 --workers 2
fi

if [[ $quick == 1 ]]; then
  export CONFIGS="${CONFIGS:-mt_only uniform uniform_aiw}"
fi
default_updates=1000
[[ $quick == 1 ]] && default_updates=600
updates="${DEMO_UPDATES:-$default_updates}"
export ARCH_FLAGS="${DEMO_ARCH:---arch aiw_lstm_paper --encoder-layers 2 --decoder-layers 2 --shared-encoder-layers 1 --shared-decoder-layers 1 --hidden-size 128 --embed-dim 128 --dropout 0.2}"
export TRAIN_FLAGS="--lr 0.004 --max-update $updates --validate-interval-updates 200 --save-interval-updates 200 --keep-interval-updates 1 --aiw-log-interval 50 ${TRAIN_FLAGS:-}"
export EXTRA_GEN="--max-len-a 1.5 --max-len-b 10 ${EXTRA_GEN:-}"
start=$(date +%s)
"$repo/examples/recipe.sh" "$bin" "$runs" "$repo/data/demo/raw"
echo
echo "demo took $(( $(date +%s) - start )) s; runs, logs and scores in $runs"
for png in "$runs"/*/aiw_weights.png; do
  [[ -f "$png" ]] && echo "AIW weights over training: $png"
done
