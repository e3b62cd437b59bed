"""`privtune run` end to end: a small generated dataset, defaults, leak sweep, skip and resume, report."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from privtune.sample import generate_tickets

pytestmark = pytest.mark.slow
STRUCTURED = {"EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE", "SECRET"}


def make_dataset(path: Path, n: int, seed: int) -> set[str]:
    """Write tickets and return every structured PII value planted in them (unique to this seed)."""
    planted: set[str] = set()
    with open(path, "w", encoding="utf-8") as fh:
        for record, gold in generate_tickets(n, seed):
            fh.write(json.dumps(record) + "\n")
            for span in gold:
                if span["entity_type"] in STRUCTURED:
                    value = record[span["field"]][span["start"] : span["end"]]
                    if len(value) >= 8:
                        planted.add(value)
    return planted


def start_run(tmp_path: Path, seed: int, **popen) -> tuple[subprocess.Popen, Path, Path]:
    data = tmp_path / "tickets.jsonl"
    make_dataset(data, 80, seed=seed)
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "privtune",
        "run",
        "--data",
        str(data),
        "--preset",
        "tiny-gpt2",
        "--out",
        str(out),
    ]
    return subprocess.Popen(cmd, **popen), data, out


def wait_until_running(proc: subprocess.Popen, out: Path, stage: str, poll: float = 0.05) -> None:
    """Block until run.json says `stage` is running (the moment to interrupt)."""
    deadline = time.time() + 600
    while time.time() < deadline:
        state = (out / "run.json").read_text() if (out / "run.json").exists() else "{}"
        if json.loads(state or "{}").get("stages", {}).get(stage, {}).get("status") == "running":
            return
        if proc.poll() is not None:
            pytest.fail(f"the run finished before {stage} could be interrupted")
        time.sleep(poll)
    pytest.fail(f"{stage} never started")


def every_file_bytes(*roots: Path) -> list[tuple[Path, bytes]]:
    out = []
    for root in roots:
        for p in root.rglob("*"):
            if p.is_file():
                out.append((p, p.read_bytes()))
    return out


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    from privtune.cli import main

    base = tmp_path_factory.mktemp("pipeline")
    data = base / "tickets.jsonl"
    planted = make_dataset(data, 300, seed=777)
    out = base / "run"
    cfg_out = base / "written.yaml"
    argv = [
        "run",
        "--data",
        str(data),
        "--preset",
        "tiny-gpt2",
        "--out",
        str(out),
        "--write-config",
        str(cfg_out),
        "--json",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "privtune", *argv], capture_output=True, text=True, timeout=900
    )
    assert main  # the in-process entry point exists; the run itself goes through a real process
    return {"base": base, "data": data, "planted": planted, "out": out, "proc": proc, "config": cfg_out}


def test_run_with_defaults_completes_every_stage(finished_run):
    proc = finished_run["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert [s["stage"] for s in result["stages"]] == [
        "ingest",
        "scan",
        "protect",
        "train",
        "audit",
        "release",
    ]
    assert all(s["status"] == "done" for s in result["stages"])
    state = json.loads((finished_run["out"] / "run.json").read_text())
    assert state["security"]["encrypt"] is True
    assert (finished_run["out"] / "release/report.html").is_file()


def test_leak_sweep_no_planted_value_in_any_output(finished_run):
    planted = finished_run["planted"]
    assert len(planted) >= 30
    home = Path(os.environ["PRIVTUNE_HOME"])
    files = every_file_bytes(finished_run["out"], home)
    assert any(p.name == "audit.db" for p, _ in files)  # the audit log was written and is searched too
    hits = [(str(p), v) for p, data in files for v in planted if v.encode() in data]
    streams = finished_run["proc"].stdout + finished_run["proc"].stderr
    hits += [("<cli output>", v) for v in planted if v in streams]
    assert hits == [], f"{len(hits)} planted values found in plaintext, e.g. in {hits[0][0]}"


def test_report_numbers_match_stage_outputs(finished_run, cli):
    from privtune.rundir import RunDir
    from privtune.secure.store import open_store

    out = finished_run["out"]
    store = open_store(RunDir(out, create=False))
    report = json.loads((out / "release/report.json").read_text())
    train = store.read_json("train/summary.json")
    audit = store.read_json("audit/audit.json")
    ingest = store.read_json("ingest/report.json")
    assert report["training"]["epsilon"] == train["epsilon"]
    assert report["training"]["delta"] == train["delta"]
    assert report["training"]["noise_multiplier"] == train["noise_multiplier"]
    assert report["audit"]["membership_best"] == audit["membership"]["best"]
    assert report["audit"]["passed"] == audit["passed"]
    assert report["data"]["kept"] == ingest["kept"]
    html = (out / "release/report.html").read_text()
    assert f"{train['epsilon']:.3g}" in html
    assert "<script" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?https?:|@import""", html)
    statuses = {c["control"]: c["status"] for c in report["controls"]}
    assert statuses["differential privacy (DP-SGD)"] == "applied"
    assert statuses["encryption at rest"] == "applied"
    assert statuses["private compute (MPC / enclave)"] == "not applied"
    res = cli("verify", out)
    assert res.code == 0, res.err


def test_rerun_skips_unchanged_stages_and_config_roundtrips(finished_run, cli):
    out = finished_run["out"]
    res = cli("run", finished_run["config"], "--out", out, "--json")
    assert res.code == 0, res.err
    stages = {s["stage"]: s["status"] for s in json.loads(res.out)["stages"]}
    assert stages == {
        "ingest": "skipped",
        "scan": "skipped",
        "protect": "skipped",
        "train": "skipped",
        "audit": "skipped",
        "release": "done",
    }
    assert cli("verify", out).code == 0


def test_report_in_headless_chromium(finished_run, tmp_path):
    chromium = next((c for c in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(c).exists()), None)
    if chromium is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium)")
    html = finished_run["out"] / "release/report.html"
    shot = tmp_path / "report.png"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    r = subprocess.run(
        [chromium, *flags, "--window-size=1200,2400", f"--screenshot={shot}", html.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.is_file() and shot.stat().st_size > 20_000, r.stderr[-2000:]
    console_errors = [
        ln for ln in r.stderr.splitlines() if "CONSOLE" in ln and ("ERROR" in ln or "Uncaught" in ln)
    ]
    assert console_errors == []
    dom = subprocess.run(
        [chromium, *flags, "--dump-dom", html.as_uri()], capture_output=True, text=True, timeout=120
    )
    report = json.loads((finished_run["out"] / "release/report.json").read_text())
    assert "Privacy report" in dom.stdout
    assert f"{report['training']['epsilon']:.3g}" in dom.stdout
    assert "<svg" in dom.stdout


def test_killed_run_resumes(tmp_path, cli):
    proc, data, out = start_run(
        tmp_path, 31, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_until_running(proc, out, "train", poll=0.2)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert json.loads((out / "run.json").read_text())["stages"]["train"]["status"] == "running"
    res = cli("run", "--data", data, "--preset", "tiny-gpt2", "--out", out, "--json")
    assert res.code == 0, res.err
    stages = {s["stage"]: s["status"] for s in json.loads(res.out)["stages"]}
    assert stages["ingest"] == stages["scan"] == stages["protect"] == "skipped"
    assert stages["train"] == stages["audit"] == stages["release"] == "done"
    assert cli("verify", out).code == 0


def test_ctrl_c_stops_cleanly_with_exit_130_and_resumes(tmp_path, cli):
    proc, data, out = start_run(tmp_path, 32, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until_running(proc, out, "protect")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err and "Traceback" not in err
    assert not list(out.rglob("*.tmp"))  # no partial artifact left behind
    res = cli("run", "--data", data, "--preset", "tiny-gpt2", "--out", out, "--json")
    assert res.code == 0, res.err
    stages = {s["stage"]: s["status"] for s in json.loads(res.out)["stages"]}
    assert stages["ingest"] == stages["scan"] == "skipped" and stages["protect"] == "done"
