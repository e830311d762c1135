#!/bin/bash
# The width-64 CDDM (Rayleigh) trained from seeds 0, 1 and 2 by the shipped one's recipe (README: stage
# 2, 14 epochs, here in one cosine schedule; stage 3 from jscc-mmse's decoder, 2 epochs), validated on
# images held out from the training split where the shipped stage 2 was watched on the test split;
# into models/weights/seeds64/seed<N> (issue 17: seed spread of a headline row). About 45-55 min of
# stage 2 and 10 min of stage 3 per seed on two cores.
# Resumable: run it again (every stage runs with --resume; a finished one returns at once).
set -e
cd "$(dirname "$0")/../../.."
D=../shared/data/cifar10; J=models/weights/jscc_rayleigh_c16.safetensors
for seed in ${SEEDS:-0 1 2}; do
  T=models/weights/seeds64/seed$seed
  C="--threads 2 --out $T --data $D/cifar10_jpeg_q75_60k.npz --channel rayleigh --jscc $J --seed $seed --resume"
  .venv/bin/diffair train cddm --width 64 --epochs 14 $C
  .venv/bin/diffair train cddm-decoder --init models/weights/jscc_mmse_rayleigh.safetensors --epochs 2 $C
done
