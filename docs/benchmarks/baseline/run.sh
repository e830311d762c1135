#!/usr/bin/env bash
# CDDM against the strongest non-diffusion baseline (jscc-mmse) and the plain jscc decoder,
# Rayleigh, K = 10: the 1,017 lossless CIFAR-10 test images (genie CSI at 5 / 10 / 15 dB, and
# through the PHY at 10 dB), and the 24 Kodak photographs one by one (genie CSI).
# From the repository root: bash docs/benchmarks/baseline/run.sh   (about 25 minutes here)
set -euo pipefail
export PATH="$PWD/.venv/bin:$PATH"
DATA=${DIFFAIR_DATA:-../shared/data}
OUT=docs/benchmarks/baseline
RX=jscc,jscc-mmse,cddm
ddp() { torchrun --standalone --nproc-per-node 2 --no-python diffair "$@"; }
ddp sweep --data "$DATA/cifar10/cifar10_lossless_subset.npz" --limit 1017 --snr-db 5,10,15 --channel rayleigh \
    --receivers $RX --genie --out "$OUT/cifar_genie" > "$OUT/cifar_genie.txt"
ddp sweep --data "$DATA/cifar10/cifar10_lossless_subset.npz" --limit 1017 --snr-db 10 --channel rayleigh \
    --receivers $RX --out "$OUT/cifar_phy" > "$OUT/cifar_phy.txt"
: > "$OUT/kodak_genie.jsonl"
for snr in 5 10 15; do
    for photo in "$DATA"/kodak24/kodim*.png; do
        diffair loopback --image "$photo" --genie --channel rayleigh --snr-db "$snr" --receivers $RX --json \
            --out "$(mktemp -d)" | python3 -c "import json, sys; s = json.load(sys.stdin); print(json.dumps(
            {'image': '$(basename "$photo")', 'snr_db': $snr, **{n: r['psnr_db'] for n, r in s['receivers'].items()}}))" \
            >> "$OUT/kodak_genie.jsonl"
    done
done
python3 - "$OUT/kodak_genie.jsonl" <<'PY' | tee "$OUT/kodak_genie.txt"
import json, sys
import numpy as np
rows = [json.loads(line) for line in open(sys.argv[1])]
rng = np.random.default_rng(0)
for snr in sorted({r["snr_db"] for r in rows}):
    at = [r for r in rows if r["snr_db"] == snr]
    means = {n: float(np.mean([r[n] for r in at])) for n in ("jscc", "jscc-mmse", "cddm")}
    best = max(("jscc", "jscc-mmse"), key=means.get)  # the stronger baseline on average
    diff = np.array([r["cddm"] - r[best] for r in at])
    boot = rng.choice(diff, (10000, len(diff))).mean(axis=1)  # paired bootstrap over photos
    low, high = np.percentile(boot, [2.5, 97.5])
    print(f"Kodak Rayleigh {snr:g} dB ({len(at)} photos): " + ", ".join(f"{n} {v:.2f}" for n, v in means.items())
          + f"; cddm - {best}: {diff.mean():+.2f} dB (95% CI {low:+.2f} .. {high:+.2f})")
PY
