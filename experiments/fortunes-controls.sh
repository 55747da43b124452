#!/usr/bin/env bash
# QDAIF against its controls on the main job: 5 seeds each, same iterations and batch.
set -euo pipefail
cd "$(dirname "$0")/.."  # run from anywhere; needs qdgen model build-default done
# Prints: config seed qd_score coverage vendi_ngram_q1 vendi_embedding_q1 (the final iteration).
qdgen=${QDGEN:-build/bin/qdgen}
exp=experiments
out=${OUT:-runs/controls}
mkdir -p "$out"
for config in fortunes fortunes-fixed-few-shot fortunes-random-search fortunes-quality-only; do
  for seed in 1 2 3 4 5; do
    store="$out/$config-$seed.sqlite"
    rm -f "$store"
    "$qdgen" run "$exp/$config.json" --seed "$seed" --out "$store" >/dev/null 2>&1
    sqlite3 -separator ' ' "$store" "SELECT '$config', $seed, json_extract(metrics, '\$.qd_score'),
      json_extract(metrics, '\$.coverage'), json_extract(metrics, '\$.vendi_ngram_q1'),
      json_extract(metrics, '\$.vendi_embedding_q1')
      FROM iteration WHERE iteration = (SELECT max(iteration) FROM iteration)"
  done
done
