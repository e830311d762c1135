#!/bin/bash
# The real-time priors of djscc-rt and icdm-rt (issue 15); validation held out from the training split.
# Resumable: RESUME=--resume docs/benchmarks/realtime_nets/train_priors.sh
set -e
cd "$(dirname "$0")/../../.."
D=../shared/data/cifar10; T=models/weights/training; R=${RESUME:-}
C="--threads 2 --out $T --data $D/cifar10_jpeg_q75_60k.npz $R"
[ -f $T/djscc_prior_rt.safetensors ] || .venv/bin/diffair train djscc --stage prior --realtime --bypass --epochs 6 $C
[ -f $T/icdm_prior_animals_rt.safetensors ] || .venv/bin/diffair train icdm --realtime --bypass --width 16 --classes 2,3,4,5,6,7 \
    --jscc models/weights/jscc_rayleigh_c16.safetensors --name icdm_prior_animals_rt --epochs 10 --lr 1e-3 $C
[ -f $T/icdm_prior_vehicles_rt.safetensors ] || .venv/bin/diffair train icdm --realtime --bypass --width 16 --classes 0,1,8,9 \
    --jscc models/weights/jscc_vehicles_c16.safetensors --name icdm_prior_vehicles_rt --epochs 10 --lr 1e-3 $C
