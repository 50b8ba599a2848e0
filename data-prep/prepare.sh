#!/usr/bin/env bash
# Usage: data-prep/prepare.sh [OPTIONS] en-vi|en-tr|en-es
#
# Builds the paper's data for one language pair: the main task (translation)
# and the auxiliary tasks ner, parse and amr, binarised with one joint
# SentencePiece BPE model and one dictionary, ready for
#   fairseq-train DEST --user-dir fairseq_aiw --task aiw_mtl \
#     --main-task translation --aux-tasks ner,parse,amr ...
#
# Options (the environment variable in brackets sets the same thing):
#   --work-dir DIR      downloads and raw text [WORK_DIR]; default work-dirs/data/PAIR
#   --dest DIR          binarised data [DEST_DIR]; default WORK_DIR/data-bin
#   --ptb PATH          Penn Treebank WSJ .mrg files (LDC99T42) [PTB];
#                       without it the parse task is skipped
#   --amr PATH          AMR 2.0 release root (LDC2017T10) [AMR];
#                       without it the amr task is skipped
#   --conll PATH        CoNLL-2003 English folder or .zip to use instead of
#                       downloading one [CONLL]
#   --offline DIR       read the downloads from DIR, named as in sources.tsv,
#                       and download nothing [OFFLINE]
#   --vocab-size N      SentencePiece vocabulary, an upper bound [VOCAB_SIZE]; 40000
#   --max-tokens N      drop training pairs with a longer side [MAX_TOKENS]; 250
#   --max-ratio R       drop training pairs whose longer side has more than R
#                       times the tokens of the shorter; 0 = off [MAX_RATIO]; 1.5
#   --europarl-pairs N  en-es: train on the first N Europarl pairs
#                       [EUROPARL_PAIRS]; 150000
#   --workers N         threads/processes for binarising [WORKERS]; 1
#   --sources FILE      the download list [SOURCES]; default data-prep/sources.tsv
#   --raw-only          stop after writing the raw text
#   -h, --help          show this text
# PYTHON (default: python) must have sentencepiece, fairseq, nltk and penman.
#
# Steps, each skipped when its output exists:
#   1. fetch.py               WORK_DIR/downloads/ (files of missing raw tasks only)
#   2. translation_corpus.py  WORK_DIR/raw/translation/
#   3. ner_conll.py           WORK_DIR/raw/ner/
#   4. parse_ptb.py           WORK_DIR/raw/parse/  (with --ptb)
#   5. amr_penman.py          WORK_DIR/raw/amr/    (with --amr)
#   6. binarize.py            DEST/, its tasks listed in DEST/tasks.txt
# Every output is written under a temporary name and renamed once complete, so
# a failed step leaves nothing half-written and a re-run resumes where it
# stopped. To change the tasks or options of a built DEST, remove DEST (and the
# raw task folders concerned).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() { sed -n '2p' "$0" | sed 's/^# //' >&2; }
die() { echo "prepare.sh: error: $*" >&2; exit 1; }
log() { echo "prepare.sh: $*" >&2; }

pair=""
work_dir="${WORK_DIR:-}"
dest_dir="${DEST_DIR:-}"
ptb="${PTB:-}"
amr="${AMR:-}"
conll="${CONLL:-}"
offline="${OFFLINE:-}"
vocab_size="${VOCAB_SIZE:-40000}"
max_tokens="${MAX_TOKENS:-250}"
max_ratio="${MAX_RATIO:-1.5}"
europarl_pairs="${EUROPARL_PAIRS:-150000}"
workers="${WORKERS:-1}"
sources="${SOURCES:-$here/sources.tsv}"
raw_only=0
python="${PYTHON:-python}"

while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help)
      sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
      exit 0
      ;;
    --raw-only) raw_only=1; shift ;;
    --work-dir | --dest | --ptb | --amr | --conll | --offline | --vocab-size | \
      --max-tokens | --max-ratio | --europarl-pairs | --workers | --sources)
      [[ $# -ge 2 ]] || { usage; die "$1 needs a value"; }
      case "$1" in
        --work-dir) work_dir="$2" ;;
        --dest) dest_dir="$2" ;;
        --ptb) ptb="$2" ;;
        --amr) amr="$2" ;;
        --conll) conll="$2" ;;
        --offline) offline="$2" ;;
        --vocab-size) vocab_size="$2" ;;
        --max-tokens) max_tokens="$2" ;;
        --max-ratio) max_ratio="$2" ;;
        --europarl-pairs) europarl_pairs="$2" ;;
        --workers) workers="$2" ;;
        --sources) sources="$2" ;;
      esac
      shift 2
      ;;
    -*) usage; die "unknown option $1" ;;
    *)
      [[ -z "$pair" ]] || { usage; die "one PAIR only, got '$pair' and '$1'"; }
      pair="$1"
      shift
      ;;
  esac
done

case "$pair" in
  en-vi | en-tr | en-es) ;;
  "") usage; die "PAIR missing" ;;
  *) usage; die "PAIR must be en-vi, en-tr or en-es, not '$pair'" ;;
esac
work_dir="${work_dir:-work-dirs/data/$pair}"
dest_dir="${dest_dir:-$work_dir/data-bin}"
raw="$work_dir/raw"
downloads="${offline:-$work_dir/downloads}"
[[ -f "$sources" ]] || die "--sources $sources: no such file"
[[ -z "$offline" || -d "$offline" ]] || die "--offline $offline: no such directory"
[[ -z "$ptb" || -d "$ptb" ]] || die "--ptb $ptb: no such directory"
[[ -z "$amr" || -d "$amr" ]] || die "--amr $amr: no such directory"
[[ -z "$conll" || -e "$conll" ]] || die "--conll $conll: no such file or directory"

# 0. The tasks of this run; raw folders or a DEST made for other tasks are errors.
tasks=(translation ner)
if [[ -n "$ptb" ]]; then
  tasks+=(parse)
else
  log "warning: no --ptb (Penn Treebank, LDC99T42): skipping the parse task"
fi
if [[ -n "$amr" ]]; then
  tasks+=(amr)
else
  log "warning: no --amr (AMR 2.0, LDC2017T10): skipping the amr task"
fi
task_list="$(IFS=,; echo "${tasks[*]}")"
for folder in "$raw"/*/; do
  [[ -d "$folder" ]] || continue
  name="$(basename "$folder")"
  [[ ",$task_list," == *",$name,"* ]] ||
    die "$raw/$name is from an earlier run with another task set; this run makes" \
      "$task_list (pass the option for $name again, or remove $raw/$name)"
done
if [[ -f "$dest_dir/tasks.txt" && "$(cat "$dest_dir/tasks.txt")" != "$task_list" ]]; then
  die "$dest_dir was built for tasks $(cat "$dest_dir/tasks.txt"), not $task_list;" \
    "remove $dest_dir to rebuild it"
fi

run_step() {  # NAME COMMAND...: runs a step, or stops naming it
  local name="$1"
  shift
  log "step $name"
  "$@" || die "step '$name' failed (exit $?): $*"
}

# 1. Downloads, only for raw task folders still to be made.
groups=()
[[ -d "$raw/translation" ]] || groups+=("$pair")
[[ -d "$raw/ner" || -n "$conll" ]] || groups+=(ner)
if [[ ${#groups[@]} -gt 0 ]]; then
  run_step "fetch ${groups[*]}" "$python" "$here/fetch.py" --sources "$sources" \
    --dest "$downloads" ${offline:+--offline} "${groups[@]}"
else
  log "skip fetch: no raw task folder needs downloads"
fi

# 2-5. Raw text of each task; every script skips a folder that exists.
skip_or_run() {  # TASK NAME COMMAND...
  local task="$1"
  shift
  if [[ -d "$raw/$task" ]]; then
    log "skip $1: $raw/$task exists"
  else
    run_step "$@"
  fi
}
skip_or_run translation "translation $pair" "$python" "$here/translation_corpus.py" \
  "$pair" --downloads "$downloads" --sources "$sources" --out "$raw/translation" \
  --max-tokens "$max_tokens" --max-ratio "$max_ratio" \
  --europarl-pairs "$europarl_pairs"
conll_file="$(awk -F'\t' '$2 == "conll2003" { print $3 }' "$sources")"
[[ -n "$conll" || -n "$conll_file" ]] || die "--sources $sources: no row conll2003"
skip_or_run ner ner "$python" "$here/ner_conll.py" \
  --input "${conll:-$downloads/$conll_file}" --out "$raw/ner"
if [[ -n "$ptb" ]]; then
  skip_or_run parse parse "$python" "$here/parse_ptb.py" --ptb "$ptb" \
    --out "$raw/parse"
fi
if [[ -n "$amr" ]]; then
  skip_or_run amr amr "$python" "$here/amr_penman.py" --amr "$amr" --out "$raw/amr"
fi
if [[ "$raw_only" == 1 ]]; then
  log "raw text ready in $raw (--raw-only: not binarised)"
  exit 0
fi

# 6. Joint SentencePiece model, one dictionary, fairseq-preprocess per task.
complete=1
for task in "${tasks[@]}"; do
  [[ -d "$dest_dir/$task" ]] || complete=0
done
[[ -f "$dest_dir/dict.txt" ]] || complete=0
if [[ "$complete" == 1 ]]; then
  log "skip binarize: $dest_dir holds every task"
else
  mkdir -p "$dest_dir"
  if [[ ! -f "$dest_dir/tasks.txt" ]]; then
    echo "$task_list" >"$dest_dir/.tasks.txt.tmp$$"
    mv "$dest_dir/.tasks.txt.tmp$$" "$dest_dir/tasks.txt"
  fi
  run_step binarize "$python" "$here/binarize.py" --raw-dir "$raw" \
    --dest-dir "$dest_dir" --main-task translation --vocab-size "$vocab_size" \
    --workers "$workers"
fi
aux="${task_list#translation,}"
log "ready: fairseq-train $dest_dir --user-dir fairseq_aiw --task aiw_mtl" \
  "--main-task translation --aux-tasks $aux ..."
