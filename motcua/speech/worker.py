"""The clip generator's child process: ``python -m motcua.speech.worker <dir> [options]``.

Started by :func:`motcua.speech.library.generate_in_child_process`. It first lowers its own
CPU priority (``--nice``; the espeak-ng processes it starts inherit it), then generates the
library, and prints one JSON line: ``{"ok": true}`` or ``{"ok": false, "error": kind,
"message": text}`` (kind: ``espeak_missing``, ``synthesis``, ``invalid``, ``os``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .clips import EspeakNotFoundError, SpeechSynthesisError, generate_library


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m motcua.speech.worker")
    parser.add_argument("directory")
    parser.add_argument("--template", action="append", default=[])
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--nice", type=int, default=10)
    args = parser.parse_args(argv)
    if args.nice > 0:
        try:
            os.nice(args.nice)  # this process only (and the espeak-ng processes it starts)
        except OSError:
            pass
    try:
        generate_library(Path(args.directory), templates=args.template, force=args.force, workers=args.workers)
        out = {"ok": True}
    except EspeakNotFoundError as exc:
        out = {"ok": False, "error": "espeak_missing", "message": str(exc)}
    except SpeechSynthesisError as exc:
        out = {"ok": False, "error": "synthesis", "message": str(exc)}
    except ValueError as exc:
        out = {"ok": False, "error": "invalid", "message": str(exc)}
    except OSError as exc:
        out = {"ok": False, "error": "os", "message": str(exc)}
    print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
