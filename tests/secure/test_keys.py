"""Key providers: keyfile creation, permissions, wrap/unwrap, signing, derived secrets, rotation."""

from __future__ import annotations

import hmac
import os
import stat

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from privtune.errors import IntegrityError, KeyUnavailable
from privtune.secure.config import SecurityConfig
from privtune.secure.keys import load_key_provider, verify_signature


def test_default_keyfile_created_0600_in_home(privtune_home, capsys):
    kp = load_key_provider(None)
    path = privtune_home / "keys" / "keyfile.json"
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert str(path) in capsys.readouterr().err
    assert kp.key_id.startswith("keyfile:kf-")
    # Second load reuses it silently.
    kp2 = load_key_provider(None)
    assert kp2.key_id == kp.key_id
    assert capsys.readouterr().err == ""


def test_keyfile_readable_by_others_refused(privtune_home):
    load_key_provider(None)
    path = privtune_home / "keys" / "keyfile.json"
    os.chmod(path, 0o644)
    with pytest.raises(KeyUnavailable, match="chmod 600"):
        load_key_provider(None)


def test_missing_keyfile_without_create(tmp_path):
    cfg = SecurityConfig.model_validate({"keyfile": {"path": str(tmp_path / "nope.json")}})
    with pytest.raises(KeyUnavailable, match="keys init"):
        load_key_provider(cfg, create=False)


def test_wrap_unwrap_and_wrong_key(tmp_path):
    a = load_key_provider(SecurityConfig.model_validate({"keyfile": {"path": str(tmp_path / "a.json")}}))
    b = load_key_provider(SecurityConfig.model_validate({"keyfile": {"path": str(tmp_path / "b.json")}}))
    dk = os.urandom(32)
    blob = a.wrap(dk)
    assert dk not in blob
    assert a.unwrap(blob) == dk
    with pytest.raises(KeyUnavailable):
        b.unwrap(blob)
    bad = bytearray(blob)
    bad[-1] ^= 1
    with pytest.raises(KeyUnavailable):
        a.unwrap(bytes(bad))


def test_sign_verify(tmp_path):
    kp = load_key_provider(None)
    sig = kp.sign(b"manifest")
    kp.verify(b"manifest", sig)
    verify_signature(kp.public_key_pem(), b"manifest", sig)
    with pytest.raises(IntegrityError):
        kp.verify(b"manifesT", sig)
    with pytest.raises(IntegrityError):
        verify_signature(kp.public_key_pem(), b"manifest", bytes(64))


def test_derived_secret_stable_distinct_and_hkdf(privtune_home):
    kp = load_key_provider(None)
    s1 = kp.derived_secret("pseudonym")
    assert len(s1) == 32
    assert s1 == load_key_provider(None).derived_secret("pseudonym")
    assert s1 != kp.derived_secret("vault")
    # Independent reference: HKDF-SHA256 over the stored master secret.
    ref = HKDF(hashes.SHA256(), 32, b"privtune-derived-secret-v1", b"privtune:pseudonym").derive(
        kp._master_secret()
    )
    assert hmac.compare_digest(s1, ref)


def test_rotation_keeps_old_readable_and_secrets_stable(privtune_home):
    kp = load_key_provider(None)
    old_id = kp.key_id
    secret = kp.derived_secret("pii-fingerprint")
    pem = kp.public_key_pem()
    blob = kp.wrap(b"k" * 32)
    new_id = kp.rotate()
    assert new_id != old_id
    kp2 = load_key_provider(None)
    assert kp2.key_id == new_id
    assert kp2.unwrap(blob) == b"k" * 32
    assert kp2.derived_secret("pii-fingerprint") == secret
    assert kp2.public_key_pem() == pem
    with pytest.raises(KeyUnavailable, match="current"):
        kp2.destroy(new_id)
    kp2.destroy(old_id)
    with pytest.raises(KeyUnavailable, match="destroyed"):
        load_key_provider(None).unwrap(blob)
