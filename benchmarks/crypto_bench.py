"""Streaming envelope encryption vs in-memory AES-GCM vs a plain file copy (throughput, peak RSS).

Each measurement runs in its own subprocess so its peak RSS is its own. Prints one JSON document.
Usage: python benchmarks/crypto_bench.py [--mb 1024] [--dir /tmp]
Target: streaming >= 50% of in-memory AES-GCM throughput, streaming peak RSS < 100 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, src: str, dst: str, home: str) -> None:
    os.environ["PRIVTUNE_HOME"] = home
    size = os.path.getsize(src)
    if mode == "copy":
        t = time.perf_counter()
        with open(src, "rb") as fi, open(dst, "wb") as fo:
            shutil.copyfileobj(fi, fo, 1 << 20)
        dt = time.perf_counter() - t
    elif mode in ("memory_encrypt", "memory_decrypt"):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        data = Path(src).read_bytes()
        aead, nonce = AESGCM(AESGCM.generate_key(256)), os.urandom(12)
        t = time.perf_counter()
        ct = aead.encrypt(nonce, data, b"")
        dt = time.perf_counter() - t
        if mode == "memory_decrypt":
            del data
            t = time.perf_counter()
            aead.decrypt(nonce, ct, b"")
            dt = time.perf_counter() - t
    else:
        from privtune.secure.envelope import EnvelopeCipher
        from privtune.secure.keys import load_key_provider

        cipher = EnvelopeCipher(load_key_provider(None))
        t = time.perf_counter()
        if mode == "stream_encrypt":
            with open(src, "rb") as fi, open(dst, "wb") as fo:
                w = cipher.encrypting_writer(fo, "bench")
                shutil.copyfileobj(fi, w, 1 << 20)
                w.close()
        else:
            import io

            with open(src, "rb") as fi, open(dst, "wb") as fo:
                shutil.copyfileobj(
                    io.BufferedReader(cipher.decrypting_reader(fi, "bench"), 1 << 20), fo, 1 << 20
                )
        dt = time.perf_counter() - t
    print(json.dumps({"mode": mode, "seconds": dt, "mb_per_s": size / dt / 1e6, "peak_rss_mb": _rss_mb()}))


def run(mode: str, src: Path, dst: Path, home: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(src), str(dst), str(home)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=1024)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--child", nargs=4)
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return
    with tempfile.TemporaryDirectory(dir=a.dir) as d:
        d = Path(d)
        src, enc, dec, home = d / "plain.bin", d / "enc.bin", d / "dec.bin", d / "home"
        with open(src, "wb") as fh:
            block = os.urandom(1 << 20)
            for _ in range(a.mb):
                fh.write(block)
        r = {
            m: run(m, src, enc if m == "stream_encrypt" else d / "copy.bin", home)
            for m in ("copy", "memory_encrypt", "memory_decrypt", "stream_encrypt")
        }
        r["stream_decrypt"] = run("stream_decrypt", enc, dec, home)
        assert (
            dec.read_bytes() == src.read_bytes()
            if a.mb <= 64
            else os.path.getsize(dec) == os.path.getsize(src)
        )
        res = {
            "size_mb": a.mb,
            "results": r,
            "ratio_stream_encrypt_vs_memory": r["stream_encrypt"]["mb_per_s"]
            / r["memory_encrypt"]["mb_per_s"],
            "ratio_stream_decrypt_vs_memory": r["stream_decrypt"]["mb_per_s"]
            / r["memory_decrypt"]["mb_per_s"],
            "ratio_stream_encrypt_vs_copy": r["stream_encrypt"]["mb_per_s"] / r["copy"]["mb_per_s"],
            "stream_peak_rss_mb": max(r["stream_encrypt"]["peak_rss_mb"], r["stream_decrypt"]["peak_rss_mb"]),
        }
        res["targets_met"] = (
            min(res["ratio_stream_encrypt_vs_memory"], res["ratio_stream_decrypt_vs_memory"]) >= 0.5
            and res["stream_peak_rss_mb"] < 100
        )
        print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
