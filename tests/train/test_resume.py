"""A training process killed with SIGKILL resumes with --resume to the same ε and weights."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from privtune.rundir import RunDir
from privtune.secure.store import open_store


def _weights(run):
    from privtune.train.artifacts import load_tensors

    return load_tensors(open_store(RunDir(run, create=False)), "train/model/adapter.safetensors")[0]


@pytest.mark.slow
def test_resume_after_sigkill_matches_uninterrupted(cli, tmp_path, tiny_config, make_run):
    cfg = tiny_config(steps=24, extra="  checkpoint: last")
    ref = make_run(tmp_path / "ref")
    r = cli("train", ref, "--config", cfg, "--json")
    assert r.code == 0, r.err
    want = json.loads(r.out)

    run = make_run(tmp_path / "run")
    state = run / "train" / "checkpoint" / "state.safetensors"
    proc = subprocess.Popen(
        [sys.executable, "-m", "privtune", "train", str(run), "--config", str(cfg), "--quiet"],
        env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while not state.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert state.exists(), "the process never wrote a checkpoint"
    assert RunDir(run, create=False).stage("train")["status"] == "running"

    r = cli("train", run, "--config", cfg, "--resume", "--json")
    assert r.code == 0, r.err
    got = json.loads(r.out)
    assert got["steps"] == want["steps"] == 24
    assert got["epsilon"] == want["epsilon"]
    a, b = _weights(ref), _weights(run)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], rtol=1e-5, atol=1e-7), k

