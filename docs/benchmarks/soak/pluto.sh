#!/usr/bin/env bash
# Soak over the emulated Pluto (not in CI; about 7 minutes): diffair rx on the real pyadi-iio and
# libiio for 3 minutes at 1 MS/s, then GNU Radio's own gr-iio source for 3 minutes at 2 MS/s,
# both reading a cyclic buffer of 20 frames that diffair tx loaded. Run from the repository root:
#   bash docs/benchmarks/soak/pluto.sh       (writes docs/benchmarks/soak/pluto_*.{json,txt})
set -euo pipefail
export PATH="$PWD/.venv/bin:$PATH"
OUT=docs/benchmarks/soak
PORT=${PORT:-30491}
URI=ip:127.0.0.1:$PORT
diffair pluto-emulator --port "$PORT" --snr-db 20 --cfo-hz 15000 > /dev/null &
EMULATOR=$!
trap 'kill $EMULATOR 2>/dev/null' EXIT
sleep 2
emulator_mb() { awk '/VmRSS/ {print int($2 / 1024)}' /proc/$EMULATOR/status; }
diffair tx --radio pluto --uri "$URI" --frames 20 --seed 4 --cyclic --hold-s 190 &
TX=$!
sleep 3
echo "emulator RSS before: $(emulator_mb) MB" | tee "$OUT/pluto_emulator_rss.txt"
diffair rx --radio pluto --uri "$URI" --frames 20 --seed 4 --duration-s 180 --idle-timeout-s 10 \
    --json > "$OUT/pluto_rx.json"
echo "emulator RSS after rx: $(emulator_mb) MB" | tee -a "$OUT/pluto_emulator_rss.txt"
wait $TX
diffair tx --radio pluto --uri "$URI" --frames 20 --seed 4 --cyclic --hold-s 190 --sample-rate-hz 2e6 &
TX=$!
sleep 3
/usr/bin/python3 radio/flowgraphs/pluto_source_check.py "$URI" 360000000 2000000 --progress \
    | tee "$OUT/pluto_gr_iio.txt"
echo "emulator RSS after gr-iio: $(emulator_mb) MB" | tee -a "$OUT/pluto_emulator_rss.txt"
wait $TX
