#!/usr/bin/env bash
# The receive path before and after photographs were coded as 32 x 32 tiles (issue 17), side by
# side on the same machine: bench-rx (64 photos of 128 x 128, 1 MS/s, ort, two threads) run
# alternately on the commit before tiles (65309b7^) and on this checkout, three rounds.
# From the repository root: bash docs/benchmarks/bench_rx/tiles/side_by_side.sh
set -euo pipefail
OUT=docs/benchmarks/bench_rx/tiles
BEFORE=$(mktemp -d)
git worktree add -f --detach "$BEFORE/tree" 65309b7^ > /dev/null
ln -s "$BEFORE/tree" "$BEFORE/diffair"   # the package as the earlier commit has it, ahead of the installed one
trap 'git worktree remove --force "$BEFORE/tree"; rm -rf "$BEFORE"' EXIT
ARGS="--receivers jscc,cddm-rt,djscc-rt,icdm-rt --backend ort --images 64 --image-side 128 --sample-rate-hz 1e6"
for run in 1 2 3; do
    PYTHONPATH="$BEFORE" .venv/bin/diffair bench-rx $ARGS --out $OUT/before_run$run.json
    .venv/bin/diffair bench-rx $ARGS --out $OUT/after_run$run.json
done
