#!/usr/bin/env python3
"""GNU Radio's gr-iio Pluto source (what GRC's "PlutoSDR Source" block builds) reading from a
PlutoSDR or from ``diffair pluto-emulator``: prints how many samples arrived, their peak, the
strongest tone of the last 65,536 (Hz) and how long the stream ran (s).

    /usr/bin/python3 pluto_source_check.py ip:127.0.0.1:30431 [samples] [sample_rate_hz]
"""

import os
import sys
import time

import numpy as np
from gnuradio import blocks, gr, iio


def main():
    uri = sys.argv[1]
    wanted = int(sys.argv[2]) if len(sys.argv) > 2 else 16384
    rate = int(float(sys.argv[3])) if len(sys.argv) > 3 else 1000000
    top = gr.top_block()
    source = iio.fmcomms2_source_fc32(uri, [True, True], 4096)
    source.set_frequency(2400000000)
    source.set_samplerate(rate)
    source.set_gain_mode(0, "manual")
    source.set_gain(0, 40)
    sink = blocks.vector_sink_c()
    top.connect(source, sink)
    top.start()
    started = time.time()
    deadline = started + 20 + 2 * wanted / rate
    while len(sink.data()) < wanted and time.time() < deadline:
        time.sleep(0.05)
    seconds = time.time() - started
    data = np.array(sink.data())
    tail = data[-65536:]
    tone = np.fft.fftfreq(len(tail), 1 / rate)[np.argmax(np.abs(np.fft.fft(tail)))] if len(tail) else 0.0
    print(f"samples {len(data)} peak {np.abs(data).max() if len(data) else 0.0:.4f} tone_hz {tone:.1f} "
          f"seconds {seconds:.2f}", flush=True)
    os._exit(0)  # a running iio source does not always stop promptly; the answer is out


if __name__ == "__main__":
    main()
