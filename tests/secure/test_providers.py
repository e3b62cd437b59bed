"""The same contract for every provider: SoftHSM2 token (PKCS#11) and moto (AWS KMS)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from privtune.errors import IntegrityError, KeyUnavailable
from privtune.rundir import RunDir
from privtune.secure.config import SecurityConfig
from privtune.secure.envelope import EnvelopeCipher
from privtune.secure.keys import load_key_provider
from privtune.secure.store import open_store

SOFTHSM_MODULES = [
    p
    for p in ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
    if Path(p).exists()
]


@pytest.fixture(scope="module")
def softhsm(tmp_path_factory):
    """A real SoftHSM2 token in a temp dir (one per module: a PKCS#11 library initializes once per process)."""
    if not shutil.which("softhsm2-util") or not SOFTHSM_MODULES:
        pytest.skip("softhsm2 is not installed (apt-get install softhsm2)")
    pytest.importorskip("pkcs11")
    d = tmp_path_factory.mktemp("softhsm")
    (d / "tokens").mkdir()
    conf = d / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {d / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    for label in ("privtune", "other"):
        subprocess.run(
            [
                "softhsm2-util",
                "--init-token",
                "--free",
                "--label",
                label,
                "--pin",
                "1234",
                "--so-pin",
                "5678",
            ],
            check=True,
            env=env,
            capture_output=True,
        )
    os.environ["SOFTHSM2_CONF"] = str(conf)  # read by the library at initialization
    return SOFTHSM_MODULES[0]


@pytest.fixture
def kms(monkeypatch):
    moto = pytest.importorskip("moto")
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        client = boto3.client("kms", region_name="us-east-1")
        yield [client.create_key()["KeyMetadata"]["KeyId"] for _ in range(2)]


@pytest.fixture(params=["pkcs11", "aws-kms"])
def configs(request, monkeypatch):
    """(config, config of a different key) for each provider."""
    if request.param == "pkcs11":
        module = request.getfixturevalue("softhsm")
        monkeypatch.setenv("PRIVTUNE_PKCS11_PIN", "1234")
        label = f"kek{os.urandom(3).hex()}"
        mk = lambda tok: SecurityConfig.model_validate(  # noqa: E731
            {"provider": "pkcs11", "pkcs11": {"module": module, "token_label": tok, "key_label": label}}
        )
        return mk("privtune"), mk("other")
    keys = request.getfixturevalue("kms")
    mk = lambda k: SecurityConfig.model_validate(  # noqa: E731
        {"provider": "aws-kms", "aws_kms": {"key_id": k, "region": "us-east-1"}}
    )
    return mk(keys[0]), mk(keys[1])


def test_provider_contract(configs, tmp_path, privtune_home):
    cfg, other_cfg = configs
    run = RunDir(tmp_path / "run")
    store = open_store(run, cfg)
    data = os.urandom(5000) * 300
    store.write("protect/train.jsonl", data)
    assert store.read_bytes("protect/train.jsonl") == data
    assert run.read()["artifacts"]["protect/train.jsonl"]["key_id"].startswith(cfg.provider)
    path = run.path / "protect/train.jsonl"
    good = path.read_bytes()

    # tamper, truncate, reorder
    bad = bytearray(good)
    bad[-100] ^= 1
    path.write_bytes(bytes(bad))
    with pytest.raises(IntegrityError, match=r"protect/train\.jsonl"):
        store.read_bytes("protect/train.jsonl")
    path.write_bytes(good[: -(1 << 20)])
    with pytest.raises(IntegrityError):
        store.read_bytes("protect/train.jsonl")
    path.write_bytes(good)

    # wrong key
    with pytest.raises(KeyUnavailable, match=r"protect/train\.jsonl"):
        open_store(run, other_cfg).read_bytes("protect/train.jsonl")

    # signing and derived secrets, stable across reloads and rotation
    kp = load_key_provider(cfg, create=False)
    sig = kp.sign(b"m")
    kp.verify(b"m", sig)
    secret, pem, old_id = kp.derived_secret("vault"), kp.public_key_pem(), kp.key_id
    new_id = kp.rotate()
    assert new_id != old_id
    kp2 = load_key_provider(cfg, create=False)
    assert kp2.key_id == new_id
    assert kp2.derived_secret("vault") == secret and kp2.public_key_pem() == pem
    assert open_store(run, cfg).read_bytes("protect/train.jsonl") == data  # old version still readable

    # re-wrap without re-encrypting content
    from privtune.secure.files import rewrap_tree

    assert rewrap_tree([run.path], kp2) == (1, 0)
    assert path.read_bytes()[-1000:] == good[-1000:]
    assert run.read()["artifacts"]["protect/train.jsonl"]["key_id"] == new_id
    assert (
        EnvelopeCipher(kp2).decrypting_reader(io.BytesIO(path.read_bytes()), "protect/train.jsonl").read()
        == data
    )


def test_pkcs11_destroy_old_version_shreds(softhsm, monkeypatch, tmp_path, privtune_home):
    monkeypatch.setenv("PRIVTUNE_PKCS11_PIN", "1234")
    cfg = SecurityConfig.model_validate(
        {"provider": "pkcs11", "pkcs11": {"module": softhsm, "token_label": "privtune", "key_label": "shred"}}
    )
    kp = load_key_provider(cfg)
    blob = kp.wrap(b"d" * 32)
    old = kp.key_id
    kp.rotate()
    assert kp.unwrap(blob) == b"d" * 32
    assert kp.destroy(old) == [old]
    with pytest.raises(KeyUnavailable, match="destroyed"):
        kp.unwrap(blob)
    assert load_key_provider(cfg, create=False).derived_secret("x")  # state was re-wrapped on rotation


def test_pkcs11_missing_pin(softhsm, monkeypatch):
    monkeypatch.delenv("PRIVTUNE_PKCS11_PIN", raising=False)
    cfg = SecurityConfig.model_validate({"provider": "pkcs11", "pkcs11": {"module": softhsm}})
    with pytest.raises(KeyUnavailable, match="PRIVTUNE_PKCS11_PIN"):
        load_key_provider(cfg)
