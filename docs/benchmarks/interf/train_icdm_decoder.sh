#!/bin/bash
# ICDM's decoder trained with ICDM in the loop (`diffair train icdm-decoder`, issue 17), and its
# baseline jscc-interf given the same training. Run after train.sh; resumable (re-run it).
#
# Both start from jscc-interf as train.sh left it (FIRST epochs) and train on 8 epochs' worth of
# training images with a fresh cosine schedule (lr 2e-4 down to 1e-5): the decoder 4 epochs over
# 2 passes of ICDM outputs, jscc-interf 8 epochs with fresh channel draws every batch. The
# continued jscc-interf is the shipped baseline.
set -e
cd "$(dirname "$0")/../../.."
D=../shared/data/cifar10; T=models/weights/training; W=models/weights
declare -A FIRST=([awgn]=8 [rayleigh]=12)  # jscc-interf's epochs in train.sh
for ch in awgn rayleigh; do
  start=$T/jscc_interf_${ch}_e${FIRST[$ch]}
  [ -f $start.safetensors ] || { cp $T/jscc_interf_$ch.safetensors $start.safetensors; cp $T/jscc_interf_$ch.json $start.json; }
  .venv/bin/diffair train jscc-interf --channel $ch --jscc $start.safetensors \
      --interferer $W/jscc_vehicles_c16.safetensors --epochs 8 --threads 2 --out $T/continued \
      --data $D/cifar10_jpeg_q75_60k.npz --resume
  cp $T/continued/jscc_interf_$ch.safetensors $T/continued/jscc_interf_$ch.json $W/
  .venv/bin/diffair train icdm-decoder --channel $ch --jscc $W/jscc_rayleigh_c16.safetensors \
      --interferer $W/jscc_vehicles_c16.safetensors --init $start.safetensors --epochs 4 --threads 2 --out $T \
      --data $D/cifar10_jpeg_q75_60k.npz --resume
  cp $T/icdm_decoder_$ch.safetensors $T/icdm_decoder_$ch.json $W/
done
