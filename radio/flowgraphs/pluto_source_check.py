#!/usr/bin/env python3
"""GNU Radio's gr-iio Pluto source (what GRC's "PlutoSDR Source" block builds) reading from a
PlutoSDR or from ``diffair pluto-emulator``: prints how many samples arrived, the peak and the
strongest tone (Hz) of the last 65,536, and how long the stream ran (s); with ``--progress``
also a line every 10 s (seconds, samples so far, this process's resident memory in MB).

    /usr/bin/python3 pluto_source_check.py ip:127.0.0.1:30431 [samples] [sample_rate_hz] [--progress]

Memory stays flat however long it runs: the stream goes to a null sink through a counting
head block, and only its last 65,536 samples are kept.
"""

import os
import sys
import time

import numpy as np
from gnuradio import blocks, gr, iio

TAIL = 65536


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def main():
    args = [a for a in sys.argv[1:] if a != "--progress"]
    progress = "--progress" in sys.argv
    uri = args[0]
    wanted = int(args[1]) if len(args) > 1 else 16384
    rate = int(float(args[2])) if len(args) > 2 else 1000000
    top = gr.top_block()
    source = iio.fmcomms2_source_fc32(uri, [True, True], 4096)
    source.set_frequency(2400000000)
    source.set_samplerate(rate)
    source.set_gain_mode(0, "manual")
    source.set_gain(0, 40)
    counted = blocks.head(gr.sizeof_gr_complex, wanted)
    tail_start = blocks.skiphead(gr.sizeof_gr_complex, max(0, wanted - TAIL))
    tail_head = blocks.head(gr.sizeof_gr_complex, min(wanted, TAIL))
    tail = blocks.vector_sink_c()
    top.connect(source, counted, blocks.null_sink(gr.sizeof_gr_complex))
    top.connect(source, tail_start, tail_head, tail)
    top.start()
    started = last_report = time.time()
    deadline = started + 20 + 2 * wanted / rate
    while counted.nitems_written(0) < wanted and time.time() < deadline:
        time.sleep(0.05)
        if progress and time.time() - last_report >= 10:
            last_report = time.time()
            print(f"progress {last_report - started:.0f} s {counted.nitems_written(0)} samples "
                  f"{resident_mb():.0f} MB", flush=True)
    seconds = time.time() - started
    data = np.array(tail.data())
    tone = np.fft.fftfreq(len(data), 1 / rate)[np.argmax(np.abs(np.fft.fft(data)))] if len(data) else 0.0
    print(f"samples {counted.nitems_written(0)} peak {np.abs(data).max() if len(data) else 0.0:.4f} "
          f"tone_hz {tone:.1f} seconds {seconds:.2f} rss_mb {resident_mb():.0f}", flush=True)
    os._exit(0)  # a running iio source does not always stop promptly; the answer is out


if __name__ == "__main__":
    main()
