#!/bin/bash
# ICDM's decoder trained with ICDM in the loop (`diffair train icdm-decoder`, issue 17), and its
# baseline jscc-interf given the same training. Run after train.sh; resumable (re-run it).
#
# jscc-interf is continued from where train.sh left it (FIRST epochs) by 8 epochs (fresh channel
# draws every batch, a fresh cosine schedule); the continued one is the shipped baseline. The
# decoder trains 4 epochs over 2 passes of ICDM outputs (8 epochs' worth of training images, the
# same schedule), starting over AWGN from jscc-interf as train.sh left it, over Rayleigh from the
# paper's decoder, the wanted codec's (from jscc-interf it stayed 0.9 dB below that one there,
# docs/icdm.md). Either way the baseline has had at least the decoder's training.
set -e
cd "$(dirname "$0")/../../.."
D=../shared/data/cifar10; T=models/weights/training; W=models/weights
declare -A FIRST=([awgn]=8 [rayleigh]=12)  # jscc-interf's epochs in train.sh
declare -A START=([awgn]=baseline [rayleigh]=codec)  # where ICDM's decoder starts
for ch in awgn rayleigh; do
  start=$T/jscc_interf_${ch}_e${FIRST[$ch]}
  [ -f $start.safetensors ] || { cp $T/jscc_interf_$ch.safetensors $start.safetensors; cp $T/jscc_interf_$ch.json $start.json; }
  .venv/bin/diffair train jscc-interf --channel $ch --jscc $start.safetensors \
      --interferer $W/jscc_vehicles_c16.safetensors --epochs 8 --threads 2 --out $T/continued \
      --data $D/cifar10_jpeg_q75_60k.npz --resume
  cp $T/continued/jscc_interf_$ch.safetensors $T/continued/jscc_interf_$ch.json $W/
  .venv/bin/diffair train icdm-decoder --channel $ch --jscc $W/jscc_rayleigh_c16.safetensors \
      --interferer $W/jscc_vehicles_c16.safetensors --init $start.safetensors --decoder-start ${START[$ch]} \
      --epochs 4 --threads 2 --out $T \
      --data $D/cifar10_jpeg_q75_60k.npz --resume
  cp $T/icdm_decoder_$ch.safetensors $T/icdm_decoder_$ch.json $W/
done
