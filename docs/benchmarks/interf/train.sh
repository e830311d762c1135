#!/bin/bash
# ICDM's interference-aware baseline, jscc-interf (issue 17), for both channel types: the
# wanted user's decoder fine-tuned on interfered symbols. Resumable: re-run with RESUME=--resume.
set -e
cd "$(dirname "$0")/../../.."
D=../shared/data/cifar10; T=models/weights/training; W=models/weights
declare -A EPOCHS=([rayleigh]=12 [awgn]=8)  # awgn: 8, to fit the session that trained it
for ch in rayleigh awgn; do
  [ -f $T/jscc_interf_${ch}.safetensors ] || .venv/bin/diffair train jscc-interf --channel $ch \
      --jscc $W/jscc_rayleigh_c16.safetensors --interferer $W/jscc_vehicles_c16.safetensors \
      --epochs ${EPOCHS[$ch]} --threads 2 --out $T --data $D/cifar10_jpeg_q75_60k.npz ${RESUME:-}
done
