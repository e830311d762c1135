#!/usr/bin/env bash
# ICDM against the interferer's carrier offset (docs/phy.md): SINR 0 dB, SNR 20 dB, Rayleigh,
# through the PHY, K = 20, for offsets F and Q sounding symbols per frame. One sweep JSON per
# point (F_Q.json, each with its provenance). From the repository root, on an idle machine:
#   bash docs/benchmarks/icdm_interferer_cfo/run.sh
set -euo pipefail
export PATH="$PWD/.venv/bin:$PATH"
DATA=${DIFFAIR_DATA:-../shared/data}
OUT=docs/benchmarks/icdm_interferer_cfo
RUN=$(mktemp -d)
for q in 2 3; do
    for f in 0 50 100 200 500 1000 2500; do
        diffair sweep --data "$DATA/cifar10/cifar10_lossless_subset.npz" --limit 1017 --snr-db 20 \
            --sinr-db=0 --channel rayleigh --receivers jscc,icdm --steps 20 --interferer-cfo-hz $f \
            --sounding-symbols $q --metrics psnr_db --out "$RUN/${f}_$q" --json > "$OUT/${f}hz_q$q.json"
        echo "F = $f Hz, Q = $q: done"
    done
done
