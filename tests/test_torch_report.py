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
                 "--n-train", "60", "--quiet", "--workers", "0"]) == 0
    assert "transition (>= half of SAM-only seeds stalled)" in capsys.readouterr().out


@pytest.mark.parametrize("argv,msg", [
    (["mlp", "train", "--rho", "1", "--data", "mnist", "--mnist-dir", "/nonexistent-dir"], "DataFileError"),
    (["mlp", "sweep", "--rhos", "a,b"], "SamVerifyError"),
    (["mlp", "train", "--rho", "-1", "--steps", "1"], "InvalidRhoError"),
    (["mlp", "check", "--checkpoint", "/nonexistent.pt"], "SamVerifyError"),
    (["mlp", "train", "--rho", "1", "--n-train", "0"], "SamVerifyError"),
    (["mlp", "train", "--rho", "1", "--n-train", "-5"], "SamVerifyError"),
    (["mlp", "train", "--rho", "1", "--lr", "nan"], "SamVerifyError"),
    (["mlp", "train", "--rho", "1", "--lr", "-1"], "SamVerifyError"),
    (["mlp", "train", "--rho", "1", "--momentum", "1.5"], "SamVerifyError"),
    (["mlp", "train", "--rho", "1", "--seeds", "0"], "SamVerifyError"),
    (["mlp", "train", "--rho", "1", "--log-every", "0"], "SamVerifyError"),
    (["mlp", "train", "--rho", "1", "--width", "0"], "ShapeError"),
    (["mlp", "train", "--rho", "1", "--activation", "foo"], "SamVerifyError"),
    (["mlp", "train", "--rho", "inf"], "InvalidRhoError"),
])
def test_cli_errors_are_one_line(argv, msg, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA")
def test_cli_cuda_without_a_gpu_is_a_typed_error(capsys):
    assert main(["mlp", "train", "--rho", "1", "--steps", "1", "--device", "cuda"]) == 2
    assert "BackendError" in capsys.readouterr().err


def test_cli_resume_and_check_keep_to_the_checkpoints_data(tmp_path, capsys):
    """A resume refuses flags it would ignore and data that differs; the switching step stays put
    in steps; a check of a checkpoint made in Python runs on the data recorded in it, and a
    checkpoint whose data cannot be matched is refused."""
    from verify.nn.data import load_digits
    from verify.nn.train import TrainConfig, TrainResult, train
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    base = ["mlp", "train", "--rho", "2", "--width", "4", "--quiet"]
    assert main([*base, "--steps", "20", "--seeds", "2", "--n-train", "60", "--switch", "0.1",
                 "--out", str(a)]) == 0
    capsys.readouterr()
    assert main([*base, "--steps", "40", "--width", "8", "--resume", str(a)]) == 2
    assert "--width 8" in capsys.readouterr().err
    assert main([*base, "--steps", "40", "--n-train", "50", "--resume", str(a)]) == 2
    assert "DataMismatchError" in capsys.readouterr().err
    assert main([*base, "--steps", "40", "--resume", str(a), "--out", str(b)]) == 0
    capsys.readouterr()
    res = TrainResult.load(b)
    assert res.step == 40 and res.config.switch_step == 2 and res.extra["data"]["n_train"] == 60
    # a second resume with the original flags, and a no-op one (nothing logged twice)
    assert main([*base, "--steps", "50", "--switch", "0.1", "--log-every", "7", "--resume", str(b),
                 "--out", str(b)]) == 0
    assert main([*base, "--steps", "50", "--resume", str(b), "--out", str(b)]) == 0
    capsys.readouterr()
    steps = TrainResult.load(b).logs["step"].tolist()
    assert len(steps) == len(set(steps)) and steps[-1] == 50 and 49 in steps
    api = tmp_path / "api.pt"
    train(load_digits().subset(80), TrainConfig(rho=2.0, steps=5, seeds=(0,), width=4),
          progress=False).save(api)
    assert main(["mlp", "check", "--checkpoint", str(api), "--attraction-steps", "0",
                 "--map-budget", "0", "--sigma-budget", "5", "--json"]) == 0
    chk = json.loads(capsys.readouterr().out)
    logged = float(TrainResult.load(api).final()["loss"][0])
    assert chk["diagnostics"]["f"] == pytest.approx(logged, rel=1e-5)      # the same 80 samples
    r = TrainResult.load(api)
    r.extra["data"]["sha256"] = "0" * 16                                   # other data: refused
    r.save(api)
    assert main(["mlp", "check", "--checkpoint", str(api)]) == 2
    assert "DataMismatchError" in capsys.readouterr().err
