"""CRYPTO: Bitcoin (base58check and bech32 checksums verified) and Ethereum addresses."""

from __future__ import annotations

import hashlib

from privtune.pii.config import PiiConfig
from privtune.pii.recognizers.base import ANY, PatternRecognizer

BTC = r"(?<![\w])(?:[13][a-km-zA-HJ-NP-Z1-9]{25,34}|bc1[ac-hj-np-z02-9]{11,71})(?![\w])"
ETH = r"(?<![\w])0x[0-9a-fA-F]{40}(?![\w])"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def base58check_ok(s: str) -> bool:
    n = 0
    for c in s:
        n = n * 58 + _B58.index(c)
    raw = n.to_bytes(25, "big") if n.bit_length() <= 200 else b""
    if len(raw) != 25:
        return False
    return hashlib.sha256(hashlib.sha256(raw[:-4]).digest()).digest()[:4] == raw[-4:]


def bech32_ok(s: str) -> bool:
    hrp, data = s[:2], s[3:]
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp] + [_BECH.index(c) for c in data]:
        b = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (b >> i) & 1 else 0
    return chk in (1, 0x2BC830A3)


def _btc(value: str) -> bool:
    return bech32_ok(value) if value.startswith("bc1") else base58check_ok(value)


def recognizers(cfg: PiiConfig) -> list[PatternRecognizer]:
    return [
        PatternRecognizer("bitcoin", "CRYPTO", [(BTC, 0.5)], ("bitcoin", "btc", "wallet"), _btc, ANY),
        PatternRecognizer("ethereum", "CRYPTO", [(ETH, 0.7)], ("ethereum", "eth", "wallet"), None, ANY),
    ]
