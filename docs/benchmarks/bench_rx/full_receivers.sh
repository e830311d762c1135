#!/usr/bin/env bash
# "Which receivers keep up" in docs/benchmarks/realtime.md: jscc and the full diffusion receivers
# (K = 10) through the whole receive pipeline, torch and onnxruntime, at 1 and 4 MS/s, on two
# threads and on one, and at 32 x 32 and 512 x 512. From the repository root, on an idle machine:
#   bash docs/benchmarks/bench_rx/full_receivers.sh      (about 4 minutes here)
set -euo pipefail
export PATH="$PWD/.venv/bin:$PATH"
DATA=${DIFFAIR_DATA:-../shared/data}
B=docs/benchmarks/bench_rx
FULL=jscc,cddm,icdm,djscc,djscc-mean
for rate in 1e6 4e6; do
    diffair bench-rx --receivers jscc --backend ort,torch --images 64 --image-side 128 \
        --sample-rate-hz $rate --out $B/jscc_side128_${rate}_2threads.json
done
diffair bench-rx --receivers jscc --backend ort,torch --images 64 --image-side 128 \
    --sample-rate-hz 1e6 --threads 1 --out $B/jscc_side128_1e6_1thread.json
diffair bench-rx --receivers $FULL --backend ort,torch --images 16 --image-side 128 \
    --sample-rate-hz 1e6 --out $B/side128_1msps_2threads.json
diffair bench-rx --receivers $FULL --backend ort,torch --images 16 --image-side 128 \
    --sample-rate-hz 4e6 --out $B/side128_4msps_2threads.json
diffair bench-rx --receivers $FULL --backend ort --images 16 --image-side 128 \
    --sample-rate-hz 1e6 --threads 1 --out $B/side128_1msps_1thread.json
diffair bench-rx --receivers $FULL --backend ort,torch --images 32 --image-side 32 \
    --sample-rate-hz 1e6 --out $B/side32_1msps_2threads.json
diffair bench-rx --receivers jscc,cddm --backend ort,torch --images 4 --image-side 512 \
    --image "$DATA/kodak24/kodim23.png" --sample-rate-hz 1e6 --out $B/kodim23_512_1msps_2threads.json
