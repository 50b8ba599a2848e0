#!/usr/bin/env bash
# Usage: examples/recipe.sh DATA_BIN RUN_DIR [RAW_DIR]
#
# Trains the paper's Table 1 configurations on DATA_BIN (made by data-prep/),
# decodes the main task's valid and test sets with beam search, scores them
# with sacrebleu (BLEU and chrF, with signatures) and collects a results table
# in RUN_DIR/results.md and RUN_DIR/results.tsv. RAW_DIR/translation holds the
# untokenised references (valid.<tgt>, test.<tgt>); without it the references
# are the binarised targets, detokenised.
#
# Interrupted? Run the same command again: finished configurations are
# skipped and fairseq-train resumes unfinished ones from checkpoint_last.pt.
#
# Environment (defaults are the paper's settings):
#   CONFIGS      configurations to run, in order (default: the seven of Table 1:
#                mt_only uniform biased exponential sigmoid biased_aiw uniform_aiw;
#                "constant" is also known)
#   AUX_TASKS    auxiliary task folders (default: every folder but translation)
#   ARCH_FLAGS   model flags (default: --arch aiw_lstm_paper)
#   TRAIN_FLAGS  extra fairseq-train flags, e.g. "--max-update 2000" for a quick run
#   MAX_EPOCH    epochs (default 25)    BATCH_SIZE  sentences per task batch (32)
#   BEAM         beam size (5)          LANG_TGT    target language (from DATA_BIN)
#   EXTRA_GEN    extra fairseq-generate flags
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
  sed -n '2p' "$0" | sed 's/^# //' >&2
  exit 2
fi
data="$1"
runs="$2"
raw="${3:-}"
[[ -d "$data/translation" ]] || { echo "error: $data/translation does not exist (DATA_BIN)" >&2; exit 1; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
user_dir="$(cd "$here/.." && pwd)/fairseq_aiw"

configs="${CONFIGS:-mt_only uniform biased exponential sigmoid biased_aiw uniform_aiw}"
if [[ -z "${AUX_TASKS:-}" ]]; then
  AUX_TASKS="$(find "$data" -mindepth 1 -maxdepth 1 -type d ! -name translation ! -name '.*' \
    -printf '%f\n' | sort | paste -sd, -)"
fi
read -r -a arch <<< "${ARCH_FLAGS:---arch aiw_lstm_paper}"
read -r -a extra_train <<< "${TRAIN_FLAGS:-}"
read -r -a extra_gen <<< "${EXTRA_GEN:-}"
tgt="${LANG_TGT:-$(ls "$data/translation" | sed -n 's/^train\.[^.-]*-\([^.]*\)\.[^.]*\.idx$/\1/p' | head -n 1)}"

schedule_flags() {
  case "$1" in
    mt_only)     echo "--schedule main_only --add-meta-valid-to-train" ;;
    uniform)     echo "--schedule uniform --add-meta-valid-to-train" ;;
    biased)      echo "--schedule biased --add-meta-valid-to-train" ;;
    constant)    echo "--schedule constant --add-meta-valid-to-train" ;;
    exponential) echo "--schedule exponential --add-meta-valid-to-train" ;;
    sigmoid)     echo "--schedule sigmoid --add-meta-valid-to-train" ;;
    biased_aiw)  echo "--schedule biased --aiw" ;;
    uniform_aiw) echo "--schedule uniform --aiw" ;;
    *) echo "error: unknown configuration '$1' in CONFIGS" >&2; return 1 ;;
  esac
}

train() {  # CONFIG DIR
  local flags aux=()
  flags="$(schedule_flags "$1")"
  [[ "$1" == mt_only ]] || aux=(--aux-tasks "$AUX_TASKS")
  # shellcheck disable=SC2086
  fairseq-train "$data" --user-dir "$user_dir" --task aiw_mtl \
    --main-task translation "${aux[@]}" $flags "${arch[@]}" \
    --criterion aiw_cross_entropy --optimizer adam --lr 0.001 --clip-norm 5 \
    --batch-size "${BATCH_SIZE:-32}" --max-epoch "${MAX_EPOCH:-25}" \
    --ddp-backend legacy_ddp --save-dir "$2" --no-epoch-checkpoints \
    --log-format simple --log-interval 50 --seed 1 "${extra_train[@]}" \
    2>&1 | tee -a "$2/train.log"
}

decode() {  # DIR SPLIT
  local out="$1/generate-$2.txt" ref=()
  fairseq-generate "$data" --user-dir "$user_dir" --task aiw_mtl \
    --path "$1/checkpoint_best.pt" --gen-subset "$2" --beam "${BEAM:-5}" \
    --batch-size 64 --post-process sentencepiece "${extra_gen[@]}" > "$out.tmp"
  mv "$out.tmp" "$out"
  [[ -n "$raw" && -f "$raw/translation/$2.$tgt" ]] && ref=(--ref "$raw/translation/$2.$tgt")
  mkdir -p "$1/scores"
  aiw-score "$out" "${ref[@]}" --out "$1/scores/$2.json"
}

mkdir -p "$runs"
for config in $configs; do
  dir="$runs/$config"
  if [[ -f "$dir/scores/test.json" ]]; then
    echo "== $config: done already ($dir/scores/test.json)"
    continue
  fi
  mkdir -p "$dir"
  echo "== $config: training in $dir"
  start=$(date +%s)
  train "$config" "$dir"
  echo "$config training took $(( $(date +%s) - start )) s" | tee -a "$runs/timings.txt"
  for split in valid test; do decode "$dir" "$split"; done
  if [[ -f "$dir/aiw_weights.tsv" ]]; then
    aiw-plot-weights "$dir/aiw_weights.tsv" --out "$dir/aiw_weights.png"
  fi
done

expected="$(echo "$configs" | tr -s ' ' ',')"
aiw-results "$runs" --expected "$expected" --markdown "$runs/results.md" --tsv "$runs/results.tsv"
cat "$runs/results.md"
