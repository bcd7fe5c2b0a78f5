"""The Section 4 report module (quick mode) and the `sam-verify mlp` commands."""
import json

import pytest

from verify.cli import main


def test_report_quick(tmp_path):
    from theorems import mlp_check as M
    assert M.THEOREM == "Section 4" and M.ORDER == 6.0 and M.TITLE
    certs = M.report_certificates(quick=True, figdir=tmp_path)
    assert len(certs) >= 5
    for c in certs:
        assert c.as_expected, str(c)
    assert any(not c.expected for c in certs)
    figs = [f for c in certs for f in c.figures]
    assert len(figs) == 3 and all((tmp_path / f).is_file() for f in figs)
    json.dumps([c.to_dict() for c in certs])


def test_cli_train_check_sweep(tmp_path, capsys):
    ck = tmp_path / "run.pt"
    assert main(["mlp", "train", "--rho", "2", "--steps", "20", "--seeds", "2", "--width", "4",
                 "--n-train", "60", "--out", str(ck), "--quiet", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["seeds"] == 2 and len(out["final"]["loss"]) == 2
    assert main(["mlp", "train", "--rho", "2", "--steps", "30", "--resume", str(ck), "--n-train",
                 "60", "--out", str(ck), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["mlp", "check", "--checkpoint", str(ck), "--seed-index", "1", "--sigma-budget", "5",
                 "--attraction-steps", "5", "--json"]) == 0
    chk = json.loads(capsys.readouterr().out)
    assert chk["seed_index"] == 1 and "attraction" in chk and chk["dim"] == 310
    assert main(["mlp", "sweep", "--rhos", "0.5,2", "--seeds", "2", "--steps", "10", "--width", "4",
                 "--n-train", "60", "--quiet"]) == 0
    assert "transition rho" in capsys.readouterr().out


@pytest.mark.parametrize("argv,msg", [
    (["mlp", "train", "--rho", "1", "--data", "mnist", "--mnist-dir", "/nonexistent-dir"], "DataFileError"),
    (["mlp", "sweep", "--rhos", "a,b"], "SamVerifyError"),
    (["mlp", "train", "--rho", "-1", "--steps", "1"], "InvalidRhoError"),
    (["mlp", "check", "--checkpoint", "/nonexistent.pt"], "SamVerifyError"),
])
def test_cli_errors_are_one_line(argv, msg, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and len(err.strip().splitlines()) == 1
