"""What the agent keeps on disk (its data directory), written atomically (a new file renamed
over the old one), so a crash or a power cut never leaves half a file:

- `jobs.json`: every print job id the server sent and its last state. A job sent again (the
  server resends what it has not heard the end of) is answered from here, never printed twice;
- `state.json`: the last configuration the server gave (office, fields, devices, time zone),
  so the agent starts its devices and issues offline even when the server is down at start;
- `numbers.json`: the numbers kept for offline issuing, the ones used, and the offline
  tickets not yet handed over.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

MAX_JOBS = 2000


def _read(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def _write(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class Journal:
    def __init__(self, data_dir: Path):
        self.dir = Path(data_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.jobs: dict[str, str] = _read(self.dir / "jobs.json", {})
        self.state: dict[str, Any] = _read(self.dir / "state.json", {})
        nums = _read(self.dir / "numbers.json", {})
        self.numbers: dict[str, Any] = {"business_date": nums.get("business_date"),
                                        "fields": nums.get("fields") or {}, "used": nums.get("used") or {},
                                        "pending": nums.get("pending") or []}
        # A job still queued when the agent stopped never reached the paper: forgotten, so the
        # server sends it again. One that was printing may be on paper: never printed again.
        stale = [j for j, s in self.jobs.items() if s in ("queued", "printing")]
        for job_id in stale:
            if self.jobs[job_id] == "queued":
                del self.jobs[job_id]
            else:
                self.jobs[job_id] = "failed"
        if stale:
            self.save_jobs()

    # Print jobs --------------------------------------------------------------------------
    def job_state(self, job_id: str) -> str | None:
        with self.lock:
            return self.jobs.get(job_id)

    def set_job(self, job_id: str, state: str) -> None:
        with self.lock:
            self.jobs.pop(job_id, None)
            self.jobs[job_id] = state
            while len(self.jobs) > MAX_JOBS:
                self.jobs.pop(next(iter(self.jobs)))
            self.save_jobs()

    def save_jobs(self) -> None:
        with self.lock:
            _write(self.dir / "jobs.json", self.jobs)

    # Configuration ---------------------------------------------------------------------------
    def set_state(self, state: dict[str, Any]) -> None:
        with self.lock:
            self.state = state
            _write(self.dir / "state.json", state)

    # Numbers ------------------------------------------------------------------------------------
    def save_numbers(self) -> None:
        with self.lock:
            _write(self.dir / "numbers.json", self.numbers)
