#!/bin/bash
# Real-time denoisers for the -rt receivers (issue 15). Resumable: re-run with RESUME=--resume.
set -e
cd "$(dirname "$0")/../../.."
D=../shared/data/cifar10; T=models/weights/training; R=${RESUME:-}
C="--threads 2 --out $T --data $D/cifar10_jpeg_q75_60k.npz $R"
for ch in rayleigh awgn; do
  J=models/weights/jscc_${ch}_c16.safetensors
  [ -f $T/cddm_denoiser_${ch}_rt.safetensors ] || .venv/bin/diffair train cddm --realtime --channel $ch --jscc $J --epochs 14 $C
  # stage 3 starts from the strongest baseline's decoder where there is one (jscc-mmse, Rayleigh; issue 17)
  I=models/weights/jscc_mmse_${ch}.safetensors; INIT=$([ -f $I ] && echo "--init $I --epochs 4" || echo "--epochs 2")
  [ -f $T/cddm_codec_${ch}_rt.safetensors ] || .venv/bin/diffair train cddm-decoder --realtime --channel $ch --jscc $J $INIT $C
done
