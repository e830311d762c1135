#!/usr/bin/env python3
"""GNU Radio 3.10 flowgraph: ZMQ PULL source -> channel model -> ZMQ PUSH sink.

It sits between ``diffair tx --radio zmq`` (which binds tcp://127.0.0.1:5555) and
``diffair rx --radio zmq`` (which connects to tcp://127.0.0.1:5556). Run it with the system
Python that Debian's GNU Radio is built for (it needs NumPy 1.x): ``/usr/bin/python3
zmq_channel.py --noise-voltage 0.05 --frequency-offset 0.01``. To bridge a real SDR, replace
the channel model by a UHD/Soapy/iio sink and source (see zmq_channel.grc). It stops on
SIGTERM/SIGINT or when its standard input closes.
"""

import argparse
import signal
import sys
import threading

from gnuradio import channels, gr, zeromq


class ZmqChannel(gr.top_block):
    """pull_source(in_address) -> channel_model -> push_sink(out_address)."""

    def __init__(self, args):
        gr.top_block.__init__(self, "diffair ZMQ channel")
        size = gr.sizeof_gr_complex
        self.source = zeromq.pull_source(size, 1, args.in_address, 100, args.pass_tags, args.hwm)
        self.channel = channels.channel_model(
            noise_voltage=args.noise_voltage, frequency_offset=args.frequency_offset,
            epsilon=args.epsilon, taps=[1.0 + 0.0j], noise_seed=args.seed, block_tags=False)
        self.sink = zeromq.push_sink(size, 1, args.out_address, 100, args.pass_tags, args.hwm)
        self.connect(self.source, self.channel, self.sink)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in-address", default="tcp://127.0.0.1:5555", help="where diffair tx binds")
    parser.add_argument("--out-address", default="tcp://127.0.0.1:5556", help="where this flowgraph binds")
    parser.add_argument("--noise-voltage", type=float, default=0.0, help="noise std per complex sample")
    parser.add_argument("--frequency-offset", type=float, default=0.0, help="CFO in cycles per sample")
    parser.add_argument("--epsilon", type=float, default=1.0, help="sample-rate ratio (1 + SRO)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pass-tags", action="store_true")
    parser.add_argument("--hwm", type=int, default=64)
    args = parser.parse_args()
    top = ZmqChannel(args)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    top.start()
    print("ready", flush=True)
    done.wait()
    top.stop()
    top.wait()


if __name__ == "__main__":
    main()
