"""What a benchmark report records about the run: the machine, the commit and the date."""
from __future__ import annotations

import datetime
import os
import platform
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def machine() -> dict:
    """CPU count, RAM, platform, commit (and whether the tree differs from it) and date."""
    def git(*args: str) -> str:
        # --no-optional-locks: reading the status must not write the repository's index.
        return subprocess.run(["git", "--no-optional-locks", *args], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()

    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    kb = re.search(r"MemTotal:\s+(\d+)", meminfo)
    return {"cpus": os.cpu_count(), "ram_gb": round(int(kb[1]) / 2**20, 1) if kb else None,
            "platform": platform.platform(), "python": platform.python_version(),
            "commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain")),
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
