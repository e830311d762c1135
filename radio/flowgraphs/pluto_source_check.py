#!/usr/bin/env python3
"""GNU Radio's gr-iio Pluto source (what GRC's "PlutoSDR Source" block builds) reading from a
PlutoSDR or from ``diffair pluto-emulator``: prints how many samples arrived and their peak.

    /usr/bin/python3 pluto_source_check.py ip:127.0.0.1:30431 [samples]
"""

import os
import sys
import time

import numpy as np
from gnuradio import blocks, gr, iio


def main():
    uri = sys.argv[1]
    wanted = int(sys.argv[2]) if len(sys.argv) > 2 else 16384
    top = gr.top_block()
    source = iio.fmcomms2_source_fc32(uri, [True, True], 4096)
    source.set_frequency(2400000000)
    source.set_samplerate(1000000)
    source.set_gain_mode(0, "manual")
    source.set_gain(0, 40)
    sink = blocks.vector_sink_c()
    top.connect(source, sink)
    top.start()
    deadline = time.time() + 20
    while len(sink.data()) < wanted and time.time() < deadline:
        time.sleep(0.05)
    data = np.array(sink.data())
    print(f"samples {len(data)} peak {np.abs(data).max() if len(data) else 0.0:.4f}", flush=True)
    os._exit(0)  # a running iio source does not always stop promptly; the answer is out


if __name__ == "__main__":
    main()
