#!/usr/bin/env bash
# CDDM against both baselines on the 24 Kodak photographs (768 x 512, evaluation only), each sent
# whole through the PHY (CFO 30 kHz, estimated CSI), at issue 17's target links: Rayleigh 5 and
# 15 dB, AWGN 10 dB. Writes OUT/photos.jsonl (one line per photo and link) and OUT/summary.json
# (mean PSNR per receiver; cddm against the baseline with the better mean: the mean of the paired
# per-photo differences and its bootstrap 95% CI; and what cddm gives by default: where its switch
# table expects a loss at the photo's estimated SNR the baseline it names decodes the same
# observation, so that photo's PSNR is the baseline's, measured in the same run). Two photos at a time.
#     bash docs/benchmarks/tables/kodak.sh OUT
set -euo pipefail
OUT=${1:?usage: kodak.sh OUT}
DATA=${DIFFAIR_DATA:-../shared/data}
mkdir -p "$OUT"
one() {  # channel snr photo
    local rx=jscc,jscc-mmse,cddm
    [ "$1" = awgn ] && rx=jscc,cddm
    diffair loopback --image "$3" --channel "$1" --snr-db "$2" --receivers $rx --no-switch --json --out "$(mktemp -d)" \
        | python3 -c "import json, sys; s = json.load(sys.stdin); print(json.dumps({'image': '$(basename "$3")',
        'channel': '$1', 'snr_db': $2, 'snr_db_est': s['snr_db_est'], 'frames': [s['frames_ok'], s['frames_sent']],
        'psnr_db': {n: r['psnr_db'] for n, r in s['receivers'].items()}}))"
}
export -f one
for link in "rayleigh 5" "rayleigh 15" "awgn 10"; do
    for photo in "$DATA"/kodak24/kodim*.png; do echo "$link $photo"; done
done | xargs -P 2 -L 1 bash -c 'one "$@"' _ > "$OUT/photos.jsonl"
python3 - "$OUT" <<'PY'
import json, sys
from pathlib import Path
import numpy as np
from diffair.models.registry import WEIGHTS_DIR
from diffair.models.switching import load_table
from diffair.testbed.baselines import paired_ci95
out = Path(sys.argv[1])
rows = [json.loads(line) for line in (out / "photos.jsonl").read_text().splitlines()]
summary = []
for channel, snr in (("rayleigh", 5), ("rayleigh", 15), ("awgn", 10)):
    at = sorted((r for r in rows if r["channel"] == channel and r["snr_db"] == snr), key=lambda r: r["image"])
    names = list(at[0]["psnr_db"])
    means = {n: float(np.mean([r["psnr_db"][n] for r in at])) for n in names}
    best = max((n for n in names if n != "cddm"), key=means.get)
    diff = np.array([r["psnr_db"]["cddm"] - r["psnr_db"][best] for r in at])
    table = load_table(WEIGHTS_DIR, "cddm", channel)
    chosen = [table.baseline_at(r["snr_db_est"]) if table else None for r in at]
    by_default = np.array([r["psnr_db"][c or "cddm"] - r["psnr_db"][best] for r, c in zip(at, chosen)])
    cddm = {"best_baseline": best, "psnr_gain_db": float(diff.mean()), "psnr_gain_ci95_db": list(paired_ci95(diff)),
            "images": len(at)}
    if any(chosen):
        cddm |= {"switched_to": ", ".join(sorted({c for c in chosen if c})), "switched_images": sum(map(bool, chosen)),
                 "switched_psnr_gain_db": float(by_default.mean())}
    summary.append({"link": f"{'Rayleigh' if channel == 'rayleigh' else 'AWGN'} {snr} dB through the PHY",
                    "photos": len(at), "psnr_db": means, "cddm": cddm})
(out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
print(json.dumps(summary, indent=1))
PY
