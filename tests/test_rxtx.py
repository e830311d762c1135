"""``diffair tx`` / ``diffair rx`` end to end, and the receive ring buffer."""

import json
import threading
import time

import numpy as np
import pytest

from diffair.models.registry import WEIGHTS_DIR
from diffair.radio.base import Radio
from diffair.radio.ring import RingReader
from diffair.testbed.cli import main


def test_loopback_recording_replays_through_rx(tmp_path, capsys):
    assert main(["tx", "--radio", "loopback", "--record", str(tmp_path / "air"), "--frames", "4", "--repeat", "2",
                 "--seed", "5", "--snr-db", "18", "--cfo-hz", "-9000", "--json"]) == 0
    capsys.readouterr()
    assert main(["rx", "--radio", "sigmf", "--input", str(tmp_path / "air.sigmf-meta"), "--frames", "4", "--seed", "5",
                 "--record", str(tmp_path / "again"), "--report", str(tmp_path / "report.json"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["frames_ok"] == 8 and len(report["payloads"]) == 2
    for payload in report["payloads"]:
        assert payload["complete"] and payload["erased_symbols"] == 0
        assert abs(payload["cfo_hz"] + 9000) < 300
        assert payload["evm_db"] < -15
    assert json.loads((tmp_path / "report.json").read_text())["frames_ok"] == 8
    meta = json.loads((tmp_path / "again.sigmf-meta").read_text())
    assert len(meta["annotations"]) == 8


def test_zmq_tx_to_rx(capsys):
    address = "tcp://127.0.0.1:6401"
    result = {}

    def receive():
        result["code"] = main(["rx", "--radio", "zmq", "--address", address, "--frames", "3", "--seed", "6",
                               "--idle-timeout-s", "2", "--json"])

    rx = threading.Thread(target=receive)
    rx.start()
    time.sleep(0.3)
    assert main(["tx", "--radio", "zmq", "--address", address, "--frames", "3", "--seed", "6", "--repeat", "2"]) == 0
    rx.join()
    out = capsys.readouterr().out
    report = json.loads(out[out.index("{"):])
    assert result["code"] == 0 and report["frames_ok"] == 6
    assert all(p["complete"] and p["evm_db"] < -30 for p in report["payloads"])  # noiseless wire


class _FastRadio(Radio):
    """Produces blocks as fast as asked, numbered, so drops are visible."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def send(self, iq):
        raise NotImplementedError

    def receive(self, num_samples, timeout=1.0):
        self.count += 1
        return np.full(num_samples, self.count, np.complex64)


def test_ring_counts_overflows_and_keeps_order():
    with _FastRadio() as radio, RingReader(radio, block_samples=16, capacity_blocks=4) as ring:
        time.sleep(0.2)  # a consumer that falls behind
        blocks = [ring.get(1.0) for _ in range(4)]
    assert ring.overflows > 0 and ring.samples_dropped == 16 * ring.overflows and ring.high_water == 4
    ids = [int(b.samples[0].real) for b in blocks]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert [b.start for b in blocks] == [16 * (i - 1) for i in ids]  # positions count the dropped blocks
    assert blocks[0].start > 0  # the oldest blocks were dropped: the first one kept starts later


class _FiniteRadio(_FastRadio):
    finite = True

    def receive(self, num_samples, timeout=1.0):
        return super().receive(num_samples, timeout) if self.count < 50 else np.zeros(0, np.complex64)


def test_a_file_waits_for_its_reader_and_loses_nothing():
    with _FiniteRadio() as radio, RingReader(radio, block_samples=16, capacity_blocks=4) as ring:
        time.sleep(0.2)  # a consumer that falls behind: the reader waits instead of dropping
        blocks = iter(lambda: ring.get(1.0), None)
        starts = [b.start for b in blocks]
    assert ring.overflows == 0 and starts == [16 * i for i in range(50)] and ring.high_water == 4


def test_an_image_goes_over_the_air_and_is_decoded(tmp_path, capsys):
    """tx encodes the built-in photograph with the shipped codec; rx decodes it (PSNR vs the
    reference) and writes the image."""
    assert main(["tx", "--radio", "loopback", "--record", str(tmp_path / "air"), "--image", "--snr-db", "20",
                 "--cfo-hz", "15000"]) == 0
    capsys.readouterr()
    assert main(["rx", "--radio", "sigmf", "--input", str(tmp_path / "air"), "--reference", "--receivers", "jscc",
                 "--images-out", str(tmp_path / "images"), "--backend", "ort", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["provenance"]["weights_sha256"]) == {"jscc_awgn_c16"}  # the receiver's codec, read
    (payload,) = report["payloads"]
    assert payload["receivers"]["jscc"]["provider"] == "CPUExecutionProvider"
    assert payload["complete"] and payload["erased_symbols"] == 0
    assert payload["receivers"]["jscc"]["psnr_db"] > 18
    assert (tmp_path / "images" / "payload1_jscc.png").exists()
    # a side under the transmitter's 8 pixels (other sizes are padded to its multiple and cropped back)
    assert main(["rx", "--radio", "sigmf", "--input", str(tmp_path / "air"), "--image-size", "3x9"]) == 2
    assert main(["rx", "--radio", "sigmf", "--input", str(tmp_path / "air"), "--image-size", "64x64",
                 "--receivers", "jscc", "--json"]) == 0
    (payload,) = json.loads(capsys.readouterr().out[-3000:].split("\n")[-2])["payloads"]
    assert "do not fill" in payload["receivers"]["error"]


@pytest.mark.skipif(not (WEIGHTS_DIR / "djscc_link_awgn.safetensors").exists(), reason="no djscc weights shipped")
def test_guo_et_al_image_goes_over_the_air_to_its_own_receiver(tmp_path, capsys):
    """tx --transmitter djscc sends Guo et al.'s symbols (payload kind DJSCC_LATENT); rx hands
    them to the djscc receiver only and tells a deep-JSCC-only receiver list so."""
    assert main(["tx", "--radio", "loopback", "--record", str(tmp_path / "air"), "--image", "--snr-db", "20",
                 "--transmitter", "djscc"]) == 0
    capsys.readouterr()
    assert main(["rx", "--radio", "sigmf", "--input", str(tmp_path / "air"), "--reference", "--receivers",
                 "jscc,djscc", "--json"]) == 0
    (payload,) = json.loads(capsys.readouterr().out)["payloads"]
    assert payload["complete"] and set(payload["receivers"]) == {"djscc"}
    assert payload["receivers"]["djscc"]["psnr_db"] > 18
    assert main(["rx", "--radio", "sigmf", "--input", str(tmp_path / "air"), "--reference", "--receivers", "jscc",
                 "--json"]) == 0
    (payload,) = json.loads(capsys.readouterr().out)["payloads"]
    assert "DJSCC_LATENT" in payload["receivers"]["error"]


@pytest.mark.skipif(not (WEIGHTS_DIR / "icdm_prior_vehicles.safetensors").exists(), reason="no ICDM priors shipped")
def test_icdm_scenario_goes_over_the_air(tmp_path, capsys):
    """tx sends the photograph and, from the same radio, a synchronous interferer's image at
    SIR 0 dB in frames with sounding symbols; rx estimates the SIR (within 1 dB) and ICDM
    decodes 1 dB or more above the MMSE-only receiver. Half a configuration is refused."""
    air = str(tmp_path / "air")
    assert main(["tx", "--radio", "loopback", "--record", air, "--image", "--interferer-image"]) == 2
    assert "--sounding-symbols 2" in capsys.readouterr().err
    assert main(["tx", "--radio", "loopback", "--record", air, "--image", "--interferer-image", "--sir-db", "0",
                 "--sounding-symbols", "2", "--snr-db", "20", "--cfo-hz", "15000"]) == 0
    capsys.readouterr()
    assert main(["rx", "--radio", "sigmf", "--input", air, "--reference", "--sounding-symbols", "2", "--steps", "20",
                 "--channel", "rayleigh", "--receivers", "jscc,icdm", "--json"]) == 0
    (payload,) = json.loads(capsys.readouterr().out)["payloads"]
    assert payload["complete"] and abs(payload["sir_db"]) < 1.0
    assert payload["receivers"]["icdm"]["psnr_db"] > payload["receivers"]["jscc"]["psnr_db"] + 1.0
    assert "warnings" not in payload["receivers"]["icdm"]
    assert main(["rx", "--radio", "sigmf", "--input", air, "--reference", "--sounding-symbols", "2", "--steps", "5",
                 "--receivers", "icdm", "--json"]) == 0
    (payload,) = json.loads(capsys.readouterr().out)["payloads"]
    assert "below 10 the sampler diverges" in payload["receivers"]["icdm"]["warnings"][0]


def test_rx_drops_frames_laid_out_for_another_sounding_count(tmp_path, capsys):
    """Frames sent with two sounding symbols, received by a format without: every header
    decodes, every frame is counted as a format mismatch and dropped, and rx says what to pass."""
    air = str(tmp_path / "air")
    assert main(["tx", "--radio", "loopback", "--record", air, "--frames", "3", "--sounding-symbols", "1"]) == 0
    capsys.readouterr()
    assert main(["rx", "--radio", "sigmf", "--input", air, "--frames", "3"]) == 0
    out = capsys.readouterr().out
    assert "0 frames decoded" in out and "3 frames dropped" in out and "--sounding-symbols 0" in out
