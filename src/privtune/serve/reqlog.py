"""Request log: prompts and outputs only with consent, and then only anonymized.

Without `serve.log.consent` a line carries sizes, timings and guard actions, never text. With it,
prompt and output pass the PII scanner and every detected span becomes its placeholder
([EMAIL_ADDRESS]) before the line is written.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from privtune.fsutil import ensure_private_dir


def anonymize(text: str, analyzer: Any) -> str:
    out, pos = [], 0
    for s in analyzer.analyze(text):
        out.append(text[pos : s.start])
        out.append(f"[{s.entity_type}]")
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


class RequestLog:
    def __init__(self, path: Path, consent: bool, analyzer: Any) -> None:
        self.path, self.consent, self.analyzer = path, consent, analyzer
        ensure_private_dir(path.parent)
        self._lock = threading.Lock()

    def write(self, entry: dict[str, Any], prompt: str, output: str) -> None:
        line = {"ts": time.time(), **entry}
        if self.consent:
            line["prompt"] = anonymize(prompt, self.analyzer)
            line["output"] = anonymize(output, self.analyzer)
        data = (json.dumps(line, sort_keys=True) + "\n").encode()
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
