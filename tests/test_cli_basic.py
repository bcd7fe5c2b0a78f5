"""The console script and ``python -m verify`` both reach the same parser."""
import subprocess
import sys


def test_python_dash_m_verify_runs_classify():
    out = subprocess.run([sys.executable, "-m", "verify", "classify", "--f", "zoo:ring", "--x",
                          "-0.2,0", "--rho", "1.2"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "hallucinated_minimizer" in out.stdout


def test_error_exit_status_and_single_line():
    out = subprocess.run([sys.executable, "-m", "verify", "classify", "--f", "zoo:nope", "--x", "0",
                          "--rho", "1"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "no zoo function" in out.stderr
