import json

import pytest

from diffair.dsp.errors import ConfigError
from diffair.testbed.cli import main


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
    err = capsys.readouterr().err
    assert "--frames" in err and "'0'" in err and len(err.strip().splitlines()) == 1


def test_yaml_config_sets_defaults_and_flags_win(tmp_path, capsys):
    config = tmp_path / "link.yaml"
    config.write_text("snr-db: 25\nframes: 4\ncfo_hz: 12000\n")
    assert main(["link", "--config", str(config), "--frames", "3", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["snr_db_true"] == 25 and summary["frames_sent"] == 3 and summary["cfo_hz_true"] == 12000


def test_yaml_config_refuses_unknown_keys(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("snr: 25\n")
    assert main(["link", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'snr'" in err and "snr_db" in err


def test_shipped_configs_parse():
    from pathlib import Path

    import yaml

    from diffair.testbed.cli import apply_config, build_parser

    for path in sorted(Path(__file__).parent.parent.joinpath("configs").glob("*.yaml")):
        command = {"loopback": "loopback", "link": "link", "sweep": "sweep"}[path.stem.split("_")[0]]
        data = yaml.safe_load(path.read_text()).get("data")
        parser = build_parser()
        argv = [command, "--config", str(path)]
        if data is not None and not Path(data).exists():  # e.g. ../shared/data, seen from another folder
            with pytest.raises(ConfigError, match="expected an existing path"):
                apply_config(parser, argv)
            continue
        apply_config(parser, argv)
        assert parser.parse_args(argv).command == command


def test_bench_phy_records_where_its_figures_came_from(tmp_path):
    """bench-phy's JSON carries its provenance: command, commit, the stream's seed (no weights,
    no data)."""
    out = tmp_path / "phy.json"
    assert main(["bench-phy", "--frames", "4", "--out", str(out)]) == 0
    origin = json.loads(out.read_text())["provenance"]
    assert origin["seed"] == 0 and origin["weights_sha256"] == {} and origin["data_sha256"] is None
    assert "bench-phy" in origin["command"] and set(origin) >= {"git_commit", "diffair_version"}
