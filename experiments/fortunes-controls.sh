#!/usr/bin/env bash
# QDAIF against its controls on the main job (experiments/README.md, "QDAIF against its
# controls"): the main job, its variants written from the seeds and with the embedding filter, and the three controls, every config with the
# same seeds, iterations and batch, so the same number of LLM calls, and every text placed in
# the same 10 x 10 grid. A run is the same at any thread count and load; the default model
# it runs on is the same on one kind of CPU (see experiments/README.md).
#   SEEDS="1 2 3 4 5" ITERATIONS=60 experiments/fortunes-controls.sh
# Needs `qdgen model build-default` done. Writes one store per run under $OUT (default
# runs/controls), one line per run (config, seed, then the final iteration's QD score,
# coverage, Vendi q=1 by the n-gram kernel and by the model's embeddings), then the table of
# means and standard deviations (population std over the seeds) that experiments/README.md shows.
set -euo pipefail
cd "$(dirname "$0")/.."
qdgen=${QDGEN:-build/bin/qdgen}
out=${OUT:-runs/controls}
seeds=${SEEDS:-1 2 3 4 5}
iterations=${ITERATIONS:-60}
configs=${CONFIGS:-fortunes fortunes-seeds fortunes-spread fortunes-fixed-few-shot fortunes-random-search fortunes-quality-only}
mkdir -p "$out"
results="$out/results.txt"
: >"$results"
for config in $configs; do
  for seed in $seeds; do
    store="$out/$config-$seed.sqlite"
    rm -f "$store" "$store-wal" "$store-shm"
    if ! "$qdgen" run "experiments/$config.json" --seed "$seed" --iterations "$iterations" \
      --out "$store" >"$out/$config-$seed.log" 2>&1; then
      echo "fortunes-controls: $config seed $seed failed (see $out/$config-$seed.log)" >&2
      exit 1
    fi
    sqlite3 -separator ' ' "$store" "SELECT '$config', $seed, json_extract(metrics, '\$.qd_score'),
      json_extract(metrics, '\$.coverage'), json_extract(metrics, '\$.vendi_ngram_q1'),
      json_extract(metrics, '\$.vendi_embedding_q1')
      FROM iteration WHERE iteration = (SELECT max(iteration) FROM iteration)" | tee -a "$results"
  done
done
echo
echo "| config | seeds | QD score | coverage | Vendi (n-gram) | Vendi (embedding) |"
echo "|---|---|---|---|---|---|"
awk '
  { n[$1]++; order[$1] = order[$1] ? order[$1] : ++configs; name[order[$1]] = $1
    for (i = 3; i <= 6; i++) { s[$1, i] += $i; q[$1, i] += $i * $i } }
  END {
    for (k = 1; k <= configs; k++) {
      c = name[k]; line = "| " c " | " n[c]
      for (i = 3; i <= 6; i++) {
        m = s[c, i] / n[c]; v = q[c, i] / n[c] - m * m; if (v < 0) v = 0
        format = i == 3 ? " | %.3f ± %.3f" : (i == 5 ? " | %.1f ± %.1f" : " | %.2f ± %.2f")
        line = line sprintf(format, m, sqrt(v))
      }
      print line " |"
    }
  }' "$results"
