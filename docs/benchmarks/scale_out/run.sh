#!/usr/bin/env bash
# The 1-vs-2-process table of docs/scale-out.md: one jscc training epoch on 10,000 CIFAR-10
# images, and a sweep through the PHY, alone and under torchrun. Run from the repository root
# on an idle machine: bash docs/benchmarks/scale_out/run.sh  (about 6 minutes here)
set -euo pipefail
export PATH="$PWD/.venv/bin:$PATH"
D=${DIFFAIR_DATA:-../shared/data}/cifar10
OUT=docs/benchmarks/scale_out
RUN=$(mktemp -d)
TRAIN=(train jscc --data "$D/cifar10_jpeg_q75_60k.npz" --val-data "$D/cifar10_lossless_subset.npz"
       --limit 10000 --epochs 1 --json)
SWEEP=(sweep --data "$D/cifar10_lossless_subset.npz" --limit 512 --batch 64 --snr-db 0,10,20 --channel rayleigh
       --receivers jscc,cddm --steps 10 --json)
ddp() { torchrun --standalone --nproc-per-node 2 --no-python diffair "$@"; }
timed() { local name=$1; shift; local t0; t0=$(date +%s.%N); "$@" > "$OUT/$name.json" 2> "$RUN/$name.log"
          python3 -c "import sys; print(f'$name: {float(sys.argv[2]) - float(sys.argv[1]):.1f} s')" "$t0" "$(date +%s.%N)"; }
timed train_1proc_1thread diffair "${TRAIN[@]}" --threads 1 --out "$RUN/a"
timed train_1proc_2threads diffair "${TRAIN[@]}" --threads 2 --out "$RUN/b"
timed train_2procs_1thread ddp "${TRAIN[@]}" --threads 1 --out "$RUN/c"
timed sweep_1proc_2threads diffair "${SWEEP[@]}" --out "$RUN/s1"
OMP_NUM_THREADS=1 timed sweep_1proc_1thread diffair "${SWEEP[@]}" --out "$RUN/s0"
timed sweep_2procs_1thread ddp "${SWEEP[@]}" --out "$RUN/s2"
