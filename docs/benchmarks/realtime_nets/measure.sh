#!/usr/bin/env bash
# The real-time receivers (cddm-rt, icdm-rt, djscc-rt) beside the full ones: speed (bench-rx)
# and quality (genie sweeps over the 1,017 lossless CIFAR-10 test images), issue 15.
# From the repository root, on a quiet machine: bash docs/benchmarks/realtime_nets/measure.sh
# (`... measure.sh speed`: the bench-rx runs only)
set -euo pipefail
export PATH="$PWD/.venv/bin:$PATH"
DATA=${DIFFAIR_DATA:-../shared/data}
OUT=docs/benchmarks/realtime_nets
B=docs/benchmarks/bench_rx
CIFAR="$DATA/cifar10/cifar10_lossless_subset.npz"
ddp() { torchrun --standalone --nproc-per-node 2 --no-python diffair "$@"; }
# speed: 16 photographs of 128 x 128 (64 for jscc), AWGN 20 dB, 10 kHz CFO, through the whole pipeline
for rate in 1e6 4e6; do
    diffair bench-rx --receivers cddm,cddm-rt,djscc,djscc-rt,icdm,icdm-rt --backend ort --images 16 \
        --image-side 128 --sample-rate-hz $rate --out $B/rt_side128_${rate}_2threads.json
    diffair bench-rx --receivers jscc --backend ort --images 64 --image-side 128 --sample-rate-hz $rate \
        --out $B/rt_jscc_side128_${rate}_2threads.json
done
diffair bench-rx --receivers jscc,cddm-rt,djscc-rt,icdm-rt --backend ort --images 16 --image-side 128 \
    --sample-rate-hz 1e6 --threads 1 --out $B/rt_side128_1e6_1thread.json
diffair bench-rx --receivers jscc,cddm-rt,djscc-rt --backend ort --images 4 --image-side 512 \
    --image "$DATA/kodak24/kodim23.png" --sample-rate-hz 1e6 --out $B/rt_kodim23_512_1e6_2threads.json
for run in 1 2 3; do
    diffair bench-rx --receivers jscc,cddm-rt,djscc-rt,icdm-rt --backend ort --images 64 --image-side 128 \
        --sample-rate-hz 1e6 --out $B/rt_side128_1e6_64images_run$run.json
done
[ "${1:-}" = speed ] && exit 0
# quality: what the smaller networks cost, genie CSI
ddp sweep --data "$CIFAR" --limit 1017 --snr-db 5,10,15 --channel rayleigh --genie \
    --receivers jscc,jscc-mmse,cddm,cddm-rt --out $OUT/sweep_cddm_rayleigh > $OUT/sweep_cddm_rayleigh.txt
ddp sweep --data "$CIFAR" --limit 1017 --snr-db 5,10,15 --channel awgn --genie \
    --receivers jscc,cddm,cddm-rt --out $OUT/sweep_cddm_awgn > $OUT/sweep_cddm_awgn.txt
ddp sweep --data "$CIFAR" --limit 1017 --snr-db 5,10,15 --channel awgn --genie \
    --receivers jscc,djscc,djscc-rt --out $OUT/sweep_djscc_awgn > $OUT/sweep_djscc_awgn.txt
ddp sweep --data "$CIFAR" --limit 1017 --sinr-db 0,10,20 --snr-db 20 --channel rayleigh --genie \
    --receivers jscc,lmmse,icdm,icdm-rt --out $OUT/sweep_icdm_rayleigh > $OUT/sweep_icdm_rayleigh.txt
