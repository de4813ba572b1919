#!/usr/bin/env bash
# Refit the shipped calibrator of the default model (assistant/calibrations/<model>.json) on calibration splits
# of the public samples that share no article with the test splits of bench/eval_all.sh (the first 300
# questions of each sample). The seed suite is left out, so it stays a held-out check too.
# Then the consistency stage of written answers: fitted, weights kept, on two more splits the weights never saw,
# with every written answer sampled again (ASSISTANT_TRUST__SAMPLE_ALL).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
DATA=../shared/data
CAL=bench/out/calibration
MODEL=$($BIN/python -c "from assistant.settings import Settings; print(Settings().llm.model)")
mkdir -p "$CAL"
$BIN/assistant eval import-squad "$DATA/squad2-dev-sample.json" --offset 700 --limit 200 --out-dir "$CAL/squad-cal-a"
$BIN/assistant eval import-squad "$DATA/squad2-dev-sample.json" --offset 1800 --limit 200 --out-dir "$CAL/squad-cal-b"
$BIN/assistant eval import-drop "$DATA/drop-dev-sample.json" --offset 300 --limit 200 --out-dir "$CAL/drop-cal-a"
$BIN/assistant eval import-drop "$DATA/drop-dev-sample.json" --offset 650 --limit 200 --out-dir "$CAL/drop-cal-b"
for split in squad-cal-a squad-cal-b drop-cal-a drop-cal-b; do  # distinct suite names in the report
  sed -i "s/^name: .*/name: $split/" "$CAL/$split/suite.yaml"
done
$BIN/assistant eval calibrate "$CAL"/{squad-cal-a,squad-cal-b,drop-cal-a,drop-cal-b}/suite.yaml \
  --output "$CAL/runs" --write "assistant/calibrations/$MODEL.json" | tee "$CAL/report.txt"
$BIN/assistant eval import-squad "$DATA/squad2-dev-sample.json" --offset 1000 --limit 200 --out-dir "$CAL/squad-stage"
$BIN/assistant eval import-drop "$DATA/drop-dev-sample.json" --offset 500 --limit 150 --out-dir "$CAL/drop-stage"
for split in squad-stage drop-stage; do
  sed -i "s/^name: .*/name: $split/" "$CAL/$split/suite.yaml"
done
ASSISTANT_TRUST__SAMPLE_ALL=true $BIN/assistant eval calibrate "$CAL"/{squad-stage,drop-stage}/suite.yaml \
  --output "$CAL/stage-runs" --keep-weights "assistant/calibrations/$MODEL.json" \
  --write "assistant/calibrations/$MODEL.json" | tee "$CAL/stage-report.txt"
