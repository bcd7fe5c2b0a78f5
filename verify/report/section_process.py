"""One report section in a child process, stopped after a time limit.

A limit set by a signal (SIGALRM) works only in a process's main thread, and a Dask worker runs its
tasks in other threads; a child process can be stopped from anywhere, also in the middle of C code.
So when ``--section-timeout`` is given, :func:`run_limited` starts ``python -m
verify.report.section_process`` for the section wherever the task runs (here, or on a Dask worker),
starts the clock when the child says it has imported the report machinery (interpreter start-up is
not the section's time), and kills the child's whole process group when the limit passes. The
child sends :func:`verify.report.build.run_section`'s result back as a pickle file in a temporary
folder that only the parent and the child know.
"""
from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

READY = "ready"


def _child_env() -> dict:
    """This process's environment with its ``sys.path`` (the child must import what the task sees,
    e.g. a section package added to the path at run time)."""
    paths = [p or os.getcwd() for p in sys.path]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


def _failure(error: str) -> dict:
    return {"certificates": [], "error": error, "elapsed": 0.0, "warnings": [], "figure_log": []}


def run_limited(name: str, quick: bool, figdir, package: str, timeout: float) -> dict:
    """``run_section`` of one section in a child process; past ``timeout`` seconds of the section's
    own run the child is killed and the result is an error saying so."""
    with tempfile.TemporaryDirectory(prefix="sam-verify-section-") as tmp:
        result, log = Path(tmp) / "result.pickle", Path(tmp) / "stderr.txt"
        job = json.dumps({"name": name, "quick": quick, "figdir": str(figdir), "package": package,
                          "result": str(result)})
        with open(log, "wb") as err:
            proc = subprocess.Popen([sys.executable, "-m", "verify.report.section_process", job],
                                    stdout=subprocess.PIPE, stderr=err, env=_child_env(),
                                    start_new_session=hasattr(os, "killpg"))
        try:
            proc.stdout.readline()                 # READY (or "" if the child died starting up)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return _failure(f"SectionTimeout: the section ran past its time limit of {timeout:g} s "
                            f"(its process was stopped)")
        finally:
            if proc.poll() is None:                # the section's own children go with it (POSIX)
                os.killpg(proc.pid, signal.SIGKILL) if hasattr(os, "killpg") else proc.kill()
                proc.wait()
            proc.stdout.close()
        if result.is_file():
            return pickle.loads(result.read_bytes())
        tail = log.read_text(errors="replace").strip().splitlines()[-20:]
        return _failure(f"the section's process ended with status {proc.returncode} and no result\n"
                        + "\n".join(tail))


def main(argv: list[str]) -> int:
    job = json.loads(argv[0])
    from .build import run_section
    import verify.core.results  # noqa: F401 - imported before the clock starts, like run_section's own
    print(READY, flush=True)
    res = run_section(job["name"], job["quick"], job["figdir"], job["package"])
    tmp = Path(job["result"]).with_suffix(".partial")
    tmp.write_bytes(pickle.dumps(res))
    os.replace(tmp, job["result"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
