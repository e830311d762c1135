"""ZmqRadio against raw pyzmq peers: wire format, tags, bad input, timeouts."""

import numpy as np
import pytest
import zmq

from diffair.dsp.errors import ConfigError, RadioError
from diffair.radio.zmq_radio import ZmqConfig, ZmqRadio
from diffair.radio.zmq_tags import StreamTag, TagHeaderError, decode_header, encode_header

ADDRESS = "tcp://127.0.0.1:{}"


def _rx(port, **kw):
    return ZmqRadio(ZmqConfig(rx_address=ADDRESS.format(port), tx_address=None, **kw)).open()


def _raw_push(port):
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.PUSH)
    sock.setsockopt(zmq.LINGER, 0)
    sock.bind(ADDRESS.format(port))
    return sock


def test_tag_header_roundtrip_matches_gnu_radio_bytes():
    # the bytes GNU Radio 3.10.5 wrote for one tag (offset 2, key "sof", value 7, srcid "me")
    # on a message whose first item is 0 (../shared/notes/radio.md section 2.3)
    captured = bytes.fromhex("f05f01" "0000000000000000" "0100000000000000" "0200000000000000"
                             "020003736f66" "0300000007" "0200026d65")
    assert encode_header(0, [StreamTag(2, "sof", 7, "me")]) == captured
    offset, tags, start = decode_header(captured + b"\x00" * 16)
    assert (offset, start) == (0, len(captured))
    assert tags == [StreamTag(2, "sof", 7, "me")]
    for value in (True, 2.5, -3, 1 << 40, 1 + 2j, "burst"):
        assert decode_header(encode_header(5, [StreamTag(9, "k", value)]))[1][0].value == value


@pytest.mark.parametrize("corrupt", [b"\x00" * 10, bytes.fromhex("f05f02") + b"\x00" * 16,
                                     bytes.fromhex("f05f01") + b"\x00" * 8 + b"\x05" + b"\x00" * 7,
                                     encode_header(0, [StreamTag(0, "k", 1)])[:-3]])
def test_corrupt_headers_raise_tag_header_error(corrupt):
    with pytest.raises(TagHeaderError):
        decode_header(corrupt)


def test_messages_are_reassembled_into_a_stream():
    tx = ZmqRadio(ZmqConfig(rx_address=None, tx_address=ADDRESS.format(6201), message_samples=1000)).open()
    rx = _rx(6201)
    try:
        x = (np.arange(25_001) * (1 + 1j) * 1e-5).astype(np.complex64)
        tx.send(x)
        got = np.concatenate([rx.receive(4096) for _ in range(7)])
        np.testing.assert_array_equal(got, x[:len(got)])
        assert len(got) == 25_001 and tx.stats.tx_messages == 26
    finally:
        tx.close()
        rx.close()


def test_odd_length_and_bad_headers_are_counted_and_dropped():
    push = _raw_push(6202)
    rx = _rx(6202, timeout_s=0.3)
    try:
        good = np.ones(10, np.complex64)
        for message in (good.tobytes()[:-3], good.tobytes(), b"\x01"):
            push.send(message)
        assert np.array_equal(rx.receive(10), good)
        assert len(rx.receive(10)) == 0
        assert rx.stats.odd_length_drops == 2 and rx.stats.rx_messages == 1
    finally:
        push.close()
        rx.close()
    push = _raw_push(6203)
    rx = _rx(6203, timeout_s=0.3, pass_tags=True)
    try:
        push.send(b"\xff" * 40)
        push.send(encode_header(0) + good.tobytes())
        assert np.array_equal(rx.receive(10), good)
        assert rx.stats.bad_header_drops == 1
    finally:
        push.close()
        rx.close()


def test_a_vanished_peer_ends_in_a_short_read_not_a_hang():
    push = _raw_push(6204)
    rx = _rx(6204, timeout_s=0.2)
    push.send(np.ones(100, np.complex64).tobytes())
    push.close()
    try:
        assert len(rx.receive(1000)) == 100  # what arrived, after the timeout
        assert len(rx.receive(1000)) == 0
        assert rx.stats.rx_timeouts == 2
    finally:
        rx.close()


def test_sending_without_a_peer_says_so():
    tx = ZmqRadio(ZmqConfig(rx_address=None, tx_address=ADDRESS.format(6205), hwm=1, timeout_s=0.2,
                            message_samples=10)).open()
    try:
        with pytest.raises(RadioError, match="no receiver"):
            tx.send(np.zeros(1000, np.complex64))
    finally:
        tx.close()


def test_binding_beyond_loopback_must_be_asked_for():
    with pytest.raises(ConfigError, match="beyond 127.0.0.1"):
        ZmqConfig(tx_address="tcp://0.0.0.0:5555")
    assert ZmqConfig(tx_address="tcp://0.0.0.0:5555", allow_remote=True).allow_remote
    with pytest.raises(ConfigError, match="pattern"):
        ZmqConfig(pattern="reqrep")
