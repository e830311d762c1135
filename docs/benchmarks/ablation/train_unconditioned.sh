#!/bin/bash
# The ablation "CDDM without the |h| conditioning", at the real-time size (cddm-rt's twin that is
# blind to W_s, W_n): stages 2 and 3 as in docs/benchmarks/realtime_nets/train.sh, into
# models/weights/ablation. Resumable: RESUME=--resume bash docs/benchmarks/ablation/train_unconditioned.sh
set -e
cd "$(dirname "$0")/../../.."
D=../shared/data/cifar10; T=models/weights/ablation; J=models/weights/jscc_rayleigh_c16.safetensors
C="--threads 2 --out $T --data $D/cifar10_jpeg_q75_60k.npz --channel rayleigh --jscc $J ${RESUME:-}"
.venv/bin/diffair train cddm --realtime --unconditioned --epochs 14 $C
.venv/bin/diffair train cddm-decoder --realtime --epochs 2 $C
