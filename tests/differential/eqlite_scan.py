"""Runs `eqlite scan` over documents (the differential tests' side of eqlite)."""

import json
import os
import subprocess
import sys
import tempfile


def scan(binary, args, events):
    """The alerts of `eqlite scan ARGS` over the events (as NDJSON), one dict each; exits on failure."""
    with tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False) as f:
        for e in events:
            f.write(json.dumps(e) + "\n")
        path = f.name
    try:
        out = subprocess.run([binary, "scan", *args, path], capture_output=True, text=True)
    finally:
        os.unlink(path)
    if out.returncode != 0:
        sys.exit(f"eqlite scan failed ({out.returncode}):\n{out.stderr}")
    return [json.loads(line) for line in out.stdout.splitlines()]
