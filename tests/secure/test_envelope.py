"""Chunked AES-GCM envelope format: round trip, tamper, truncate, reorder, rename, wrong key."""

from __future__ import annotations

import io
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privtune.errors import IntegrityError, KeyUnavailable
from privtune.secure.config import SecurityConfig
from privtune.secure.envelope import TAG, EnvelopeCipher, read_header, rewrap_file
from privtune.secure.keys import load_key_provider

CHUNK = 4096


@pytest.fixture
def cipher():
    return EnvelopeCipher(load_key_provider(None), chunk_size=CHUNK)


def enc(cipher, data: bytes, name: str = "a/b.bin", pieces: int = 1) -> bytes:
    raw = io.BytesIO()
    w = cipher.encrypting_writer(raw, name)
    step = max(1, len(data) // pieces)
    for i in range(0, len(data), step):
        w.write(data[i : i + step])
    w.close()
    return raw.getvalue()


def dec(cipher, blob: bytes, name: str = "a/b.bin") -> bytes:
    r = cipher.decrypting_reader(io.BytesIO(blob), name)
    return io.BufferedReader(r).read()


def chunks(blob: bytes) -> tuple[bytes, list[bytes]]:
    _, hlen = read_header(io.BytesIO(blob), "x")
    body = blob[hlen:]
    size = CHUNK + TAG
    return blob[:hlen], [body[i : i + size] for i in range(0, len(body), size)]


@pytest.mark.parametrize("n", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17])
def test_round_trip_sizes(cipher, n):
    data = os.urandom(n)
    blob = enc(cipher, data, pieces=3)
    assert n < 64 or data[:64] not in blob
    assert dec(cipher, blob) == data


def test_independent_reference_decrypt(cipher):
    """Chunk 0 decrypts with plain AESGCM using the documented nonce/AAD layout."""
    import base64
    import struct

    data = os.urandom(CHUNK + 5)
    blob = enc(cipher, data)
    hdr, hlen = read_header(io.BytesIO(blob), "x")
    key = cipher.provider.unwrap(base64.b64decode(hdr["wrapped"]))
    prefix = base64.b64decode(hdr["nonce_prefix"])
    name = b"a/b.bin"
    aad0 = b"privtune-enc-v1|" + struct.pack(">H", len(name)) + name + struct.pack(">QB", 0, 0)
    ct0 = blob[hlen : hlen + CHUNK + TAG]
    assert AESGCM(key).decrypt(prefix + struct.pack(">IB", 0, 0), ct0, aad0) == data[:CHUNK]


def test_flipped_byte_detected(cipher):
    blob = bytearray(enc(cipher, os.urandom(3 * CHUNK)))
    blob[-CHUNK] ^= 0x01
    with pytest.raises(IntegrityError, match=r"a/b\.bin: integrity check failed at chunk"):
        dec(cipher, bytes(blob))


def test_truncation_at_chunk_boundary_detected(cipher):
    head, cs = chunks(enc(cipher, os.urandom(3 * CHUNK + 10)))
    with pytest.raises(IntegrityError, match="truncated"):
        dec(cipher, head + b"".join(cs[:-1]))
    with pytest.raises(IntegrityError):
        dec(cipher, head + b"".join(cs)[:-7])
    with pytest.raises(IntegrityError):
        dec(cipher, head)


def test_reorder_and_append_detected(cipher):
    head, cs = chunks(enc(cipher, os.urandom(3 * CHUNK + 10)))
    with pytest.raises(IntegrityError, match="chunk 0"):
        dec(cipher, head + cs[1] + cs[0] + cs[2] + cs[3])
    with pytest.raises(IntegrityError):
        dec(cipher, head + b"".join(cs) + cs[3])
    head, cs = chunks(enc(cipher, os.urandom(2 * CHUNK)))  # final chunk is full-size
    with pytest.raises(IntegrityError, match="appended"):
        dec(cipher, head + b"".join(cs) + b"x")


def test_rename_detected(cipher):
    blob = enc(cipher, b"hello", name="protect/train.jsonl")
    with pytest.raises(IntegrityError, match="renamed"):
        dec(cipher, blob, name="protect/eval.jsonl")


def test_wrong_key(cipher, tmp_path):
    blob = enc(cipher, b"secret data")
    other = load_key_provider(SecurityConfig.model_validate({"keyfile": {"path": str(tmp_path / "o.json")}}))
    with pytest.raises(KeyUnavailable, match=r"a/b\.bin: cannot unwrap"):
        dec(EnvelopeCipher(other), blob)


def test_swapped_wrapped_key_detected(cipher):
    """A valid wrapped key from another file cannot open this file's chunks."""
    a = enc(cipher, b"A" * 100)
    b = enc(cipher, b"B" * 100)
    _, ca = chunks(a)
    hb, _ = chunks(b)
    with pytest.raises(IntegrityError):
        dec(cipher, hb + b"".join(ca))


def test_rewrap_keeps_content_and_old_readable(tmp_path):
    kp = load_key_provider(None)
    c = EnvelopeCipher(kp, chunk_size=CHUNK)
    data = os.urandom(2 * CHUNK + 3)
    old = enc(c, data)
    p1, p2 = tmp_path / "one.enc", tmp_path / "two.enc"
    p1.write_bytes(old)
    p2.write_bytes(old)
    kp.rotate()
    assert rewrap_file(p1, kp, "a/b.bin")
    assert not rewrap_file(p1, kp, "a/b.bin")
    new = p1.read_bytes()
    assert chunks(new)[1] == chunks(old)[1]  # content chunks untouched
    assert read_header(io.BytesIO(new), "x")[0]["key_id"] == kp.key_id
    assert dec(c, new) == data
    assert dec(c, p2.read_bytes()) == data  # not re-wrapped: still readable via the old version


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(max_size=3 * 4096 + 50),
    cuts=st.lists(st.integers(min_value=0, max_value=20000), max_size=6),
)
def test_property_round_trip_any_write_pattern(cipher, data, cuts):
    raw = io.BytesIO()
    w = cipher.encrypting_writer(raw, "p")
    pos = 0
    for c in sorted(cuts):
        w.write(data[pos:c])
        pos = max(pos, c)
    w.write(data[pos:])
    w.close()
    assert dec(cipher, raw.getvalue(), "p") == data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(min_size=1, max_size=2 * 4096 + 50), where=st.integers(min_value=0), bit=st.integers(0, 7)
)
def test_property_any_bit_flip_in_body_detected(cipher, data, where, bit):
    blob = bytearray(enc(cipher, data, name="p"))
    _, hlen = read_header(io.BytesIO(bytes(blob)), "p")
    i = hlen + where % (len(blob) - hlen)
    blob[i] ^= 1 << bit
    with pytest.raises(IntegrityError):
        dec(cipher, bytes(blob), "p")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2 * 4096 + 50), keep=st.integers(min_value=0))
def test_property_any_truncation_detected(cipher, data, keep):
    blob = enc(cipher, data, name="p")
    cut = keep % len(blob)
    with pytest.raises(IntegrityError):
        dec(cipher, blob[:cut], "p")
