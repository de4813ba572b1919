#!/usr/bin/env bash
# Quality numbers for docs/benchmarks.md: the seed suite, SQuAD 2.0 and DROP samples (the former test splits, 300
# questions each, tuned on; and the fresh test splits of docs/evaluation.md),
# with the default local model, the extractive backend, and llama-index's stock CitationQueryEngine.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
OUT=bench/out
DATA=../shared/data
SETS=$OUT/datasets
mkdir -p "$OUT" "$SETS"
$BIN/assistant eval import-squad "$DATA/squad2-dev-sample.json" --limit 300 --out-dir "$SETS/squad"
$BIN/assistant eval import-drop "$DATA/drop-dev-sample.json" --limit 300 --out-dir "$SETS/drop"
# The protocol's test splits (docs/evaluation.md): nothing was tuned on them; report, never read case by case.
$BIN/assistant eval import-squad "$DATA/squad2-dev-sample.json" --split test --limit 300 --out-dir "$SETS/squad-test"
$BIN/assistant eval import-drop "$DATA/drop-dev-sample.json" --split test --out-dir "$SETS/drop-test"
sed -i "s/^name: .*/name: squad-test/" "$SETS/squad-test/suite.yaml"
sed -i "s/^name: .*/name: drop-test/" "$SETS/drop-test/suite.yaml"
run() {  # name suite [args...]
  local name=$1 suite=$2; shift 2
  $BIN/assistant eval "$suite" --output "$OUT/runs/$name" --quiet "$@" || true
  cp "$OUT/runs/$name/results.json" "$OUT/eval-$name.json"
}
run seed-llama_cpp eval/seed.yaml
run seed-extractive eval/seed.yaml --backend extractive
$BIN/python bench/stock_eval.py eval/seed.yaml "$OUT/runs/seed-stock" && cp "$OUT/runs/seed-stock/results.json" "$OUT/eval-seed-stock.json"
run squad-llama_cpp "$SETS/squad/suite.yaml"
run squad-extractive "$SETS/squad/suite.yaml" --backend extractive
run drop-llama_cpp "$SETS/drop/suite.yaml"
run drop-extractive "$SETS/drop/suite.yaml" --backend extractive
run squad-test-llama_cpp "$SETS/squad-test/suite.yaml"
run drop-test-llama_cpp "$SETS/drop-test/suite.yaml"
$BIN/python bench/stock_eval.py "$SETS/squad/suite.yaml" "$OUT/runs/squad-stock" --limit 100 && cp "$OUT/runs/squad-stock/results.json" "$OUT/eval-squad-stock.json"
$BIN/python -c "from pathlib import Path; from bench.report import render; Path('docs/benchmarks.md').write_text(render(Path('bench/out')))"
