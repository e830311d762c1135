#!/bin/bash
# ICDM's two width-64 priors (animals: the wanted user's, vehicles: the interferer's) trained from
# seeds 0, 1 and 2 by the shipped ones' recipe (README, ICDM training: 6 epochs each), validated on
# images held out from the training split where the shipped ones were watched on the test split;
# into models/weights/seeds_icdm/seed<N> (issue 17: seed spread of a headline row). The codecs
# stay the shipped ones. About 12 min per seed on two cores.
# Resumable: run it again (every run uses --resume; a finished one returns at once).
set -e
cd "$(dirname "$0")/../../.."
D=../shared/data/cifar10
for seed in ${SEEDS:-0 1 2}; do
  C="--threads 2 --out models/weights/seeds_icdm/seed$seed --data $D/cifar10_jpeg_q75_60k.npz --seed $seed --resume"
  .venv/bin/diffair train icdm --jscc models/weights/jscc_rayleigh_c16.safetensors --classes 2,3,4,5,6,7 \
    --name icdm_prior_animals --epochs 6 $C
  .venv/bin/diffair train icdm --jscc models/weights/jscc_vehicles_c16.safetensors --classes 0,1,8,9 \
    --name icdm_prior_vehicles --epochs 6 $C
done
