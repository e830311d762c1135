#!/bin/bash
# cddm-rt trained again from seeds 1 and 2 (seed 0 is the shipped one), Rayleigh, as in
# docs/benchmarks/realtime_nets/train.sh, into models/weights/seeds/seed<N> (issue 17: seed spread).
# Resumable: RESUME=--resume bash docs/benchmarks/seeds/train.sh
set -e
cd "$(dirname "$0")/../../.."
D=../shared/data/cifar10; J=models/weights/jscc_rayleigh_c16.safetensors
for seed in 1 2; do
  T=models/weights/seeds/seed$seed
  C="--threads 2 --out $T --data $D/cifar10_jpeg_q75_60k.npz --channel rayleigh --jscc $J --seed $seed ${RESUME:-}"
  [ -f $T/cddm_denoiser_rayleigh_rt.safetensors ] || .venv/bin/diffair train cddm --realtime --epochs 14 $C
  # stage 3 from jscc-mmse's decoder, as the shipped cddm-rt (docs/benchmarks/realtime_nets/train.sh)
  [ -f $T/cddm_codec_rayleigh_rt.safetensors ] || .venv/bin/diffair train cddm-decoder --realtime \
    --init models/weights/jscc_mmse_rayleigh.safetensors --epochs 4 $C
done
