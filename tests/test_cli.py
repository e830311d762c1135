import json

from testbed.cli import main


def test_link_json_has_the_documented_fields(capsys):
    assert main(["link", "--frames", "5", "--snr-db", "20", "--cfo-hz", "10000", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    for key in ("frames_sent", "frames_detected", "frames_header_ok", "false_alarms", "snr_db_true", "snr_db_est",
                "cfo_hz_true", "cfo_hz_est_rmse", "evm_db", "evm_db_genie", "papr_db"):
        assert key in summary
    assert summary["frames_header_ok"] == 5


def test_link_summary_is_readable(capsys):
    assert main(["link", "--frames", "3"]) == 0
    out = capsys.readouterr().out
    assert "3/3 with a good header" in out and "EVM" in out


def test_bad_arguments_give_a_clear_error(capsys):
    assert main(["link", "--frames", "0"]) == 2
    assert "--frames = 0" in capsys.readouterr().err
