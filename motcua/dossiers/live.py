"""A live source of dossier status: the provincial one-stop system's HTTP JSON endpoint
(config ``[dossiers.live_source]``, `config.schema.DossierSourceConfig`).

``LiveSource.fetch(code)`` answers one of three things:

* a dict of our dossier fields (``status`` always; ``procedure``, ``field``, ``applicant``
  when mapped and present; dates ``received_at``, ``due_at``, ``finished_at``,
  ``returned_at``, ``new_due_at`` as `datetime.date`);
* ``None``: the source says there is no such dossier (HTTP 404, or an empty answer);
* `UNAVAILABLE`: the source could not be asked or answered nonsense (timeout, refused
  connection, 5xx, bad JSON, a missing or garbled status, an answer over 1 MB). Nothing is
  raised; a warning is logged and the caller shows local data.

Answers (found and not found) are cached per code for ``cache_s`` seconds (bounded LRU).
A transport failure (timeout, connection, 5xx) makes the whole source "down" for
`FAILURE_BACKOFF_S` seconds, so a dead source is not asked again on every lookup; a bad
answer for one code is remembered for that code for the same time.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Final

from config.schema import DossierSourceConfig

from .status import parse_status

log = logging.getLogger(__name__)

__all__ = ["FAILURE_BACKOFF_S", "MAX_BYTES", "LiveSource", "UNAVAILABLE", "Unavailable"]

#: Largest answer read from the source.
MAX_BYTES: Final = 1_000_000
#: How long a failure is remembered (no new request meanwhile).
FAILURE_BACKOFF_S: Final = 10.0
#: Codes whose answers are cached at most.
CACHE_SIZE: Final = 2_000

#: Our dossier fields the mapping may name.
TEXT_FIELDS: Final = ("procedure", "field", "applicant")
DATE_FIELDS: Final = ("received_at", "due_at", "finished_at", "returned_at", "new_due_at")
FIELDS: Final = ("status", *TEXT_FIELDS, *DATE_FIELDS)

#: ``fetch(url, headers, timeout_s) -> (http status, body bytes)``; raises on transport errors.
Fetcher = Callable[[str, Mapping[str, str], float], tuple[int, bytes]]

_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


class Unavailable:
    """The live source could not answer (falsy; compare with ``is UNAVAILABLE``)."""

    _instance: "Unavailable | None" = None

    def __new__(cls) -> "Unavailable":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "UNAVAILABLE"


UNAVAILABLE: Final = Unavailable()


class _TooLarge(Exception):
    pass


class _BadAnswer(ValueError):
    pass


def urllib_fetch(url: str, headers: Mapping[str, str], timeout_s: float) -> tuple[int, bytes]:
    """GET *url* with the standard library; a 4xx/5xx is returned, not raised. Bodies over
    `MAX_BYTES` raise `_TooLarge`."""
    request = urllib.request.Request(url, headers={"Accept": "application/json", **headers}, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as resp:  # noqa: S310 - http(s) checked by config
            return resp.status, _read_limited(resp)
    except urllib.error.HTTPError as exc:
        try:
            body = _read_limited(exc)
        except Exception:  # noqa: BLE001 - the status is what matters
            body = b""
        finally:
            exc.close()
        return exc.code, body


def _read_limited(resp: Any) -> bytes:
    length = resp.headers.get("Content-Length") if getattr(resp, "headers", None) is not None else None
    if length and length.strip().isdigit() and int(length) > MAX_BYTES:
        raise _TooLarge(f"Content-Length {length}")
    body = resp.read(MAX_BYTES + 1)
    if len(body) > MAX_BYTES:
        raise _TooLarge(f"more than {MAX_BYTES} bytes")
    return body


def dig(data: Any, path: str) -> Any:
    """The value at a dot path ("data.trangThai"; list items by index, "items.0.ma"), or
    None when any step is missing."""
    current = data
    for part in path.split("."):
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
        if current is None:
            return None
    return current


def parse_live_date(value: Any) -> date:
    """A calendar day from dd/mm/yyyy (optionally with a time), yyyy-mm-dd or an ISO
    datetime (the day as written, in the source's own offset); ValueError otherwise."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError(f"not a date: {value!r:.60}")
    text = value.strip()
    if m := _DMY.match(text):
        d, mo, y = (int(g) for g in m.groups())
        return date(y, mo, d)
    if _ISO_DAY.match(text):
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        except ValueError:
            return date.fromisoformat(text[:10])
    raise ValueError(f"not a date: {text!r:.60}")


def _is_empty(data: Any) -> bool:
    return data is None or (isinstance(data, (dict, list, str)) and not data)


class LiveSource:
    """One configured live source with its cache (thread-safe). The app's `DossierStore`
    owns the one of the app (`DossierStore.live`)."""

    def __init__(self, cfg: DossierSourceConfig, *, clock: Callable[[], float] = time.monotonic,
                 fetch: Fetcher | None = None, cache_size: int = CACHE_SIZE):
        self.cfg = cfg
        self.clock = clock
        self._fetch = fetch or urllib_fetch
        self._cache_size = max(1, cache_size)
        self._cache: OrderedDict[str, tuple[float, dict[str, Any] | None | Unavailable]] = OrderedDict()
        self._down_until = float("-inf")
        self._lock = threading.Lock()

    def url_for(self, code: str) -> str:
        return self.cfg.url_template.replace("{code}", urllib.parse.quote(code, safe=""))

    def fetch(self, code: str) -> dict[str, Any] | None | Unavailable:
        """Our fields for *code*, None (not found) or `UNAVAILABLE`; never raises."""
        now = self.clock()
        with self._lock:
            hit = self._cache.get(code)
            if hit is not None and hit[0] > now:
                self._cache.move_to_end(code)
                value = hit[1]
                return dict(value) if isinstance(value, dict) else value
            if hit is not None:
                del self._cache[code]
            if now < self._down_until:
                return UNAVAILABLE
        try:
            value = self._ask(code)
        except (_BadAnswer, _TooLarge) as exc:
            log.warning("live dossier source: unusable answer for %s: %s", code, exc)
            self._remember(code, UNAVAILABLE, self.clock() + FAILURE_BACKOFF_S)
            return UNAVAILABLE
        except Exception as exc:  # noqa: BLE001 - timeouts, refused connections, 5xx, anything
            log.warning("live dossier source unavailable (%s: %s); using local data for %s seconds",
                        type(exc).__name__, exc, FAILURE_BACKOFF_S)
            with self._lock:
                self._down_until = self.clock() + FAILURE_BACKOFF_S
            return UNAVAILABLE
        if self.cfg.cache_s > 0:
            self._remember(code, value, self.clock() + self.cfg.cache_s)
        return dict(value) if isinstance(value, dict) else value

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self._down_until = float("-inf")

    # -----------------------------------------------------------------------------------
    def _remember(self, code: str, value: dict[str, Any] | None | Unavailable, until: float) -> None:
        with self._lock:
            self._cache[code] = (until, value)
            self._cache.move_to_end(code)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _ask(self, code: str) -> dict[str, Any] | None:
        status, body = self._fetch(self.url_for(code), dict(self.cfg.headers), self.cfg.timeout_s)
        if status == 404:
            return None
        if status >= 500:
            raise ConnectionError(f"HTTP {status}")
        if status != 200:
            raise _BadAnswer(f"HTTP {status}")
        if not body.strip():
            return None
        try:
            data = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise _BadAnswer(f"not JSON ({exc})") from None
        if _is_empty(data):
            return None
        return self._map(data)

    def _map(self, data: Any) -> dict[str, Any] | None:
        mapping = {k: v for k, v in self.cfg.mapping.items() if k in FIELDS}
        raw = {name: dig(data, path) for name, path in mapping.items()}
        if all(_is_empty(v) for v in raw.values()):
            return None  # e.g. {"data": null}: nothing about this code
        if "status" not in mapping or _is_empty(raw.get("status")):
            raise _BadAnswer("no status in the answer")
        out: dict[str, Any] = {}
        try:
            out["status"] = parse_status(raw["status"])
        except ValueError:
            raise _BadAnswer(f"status {raw['status']!r:.60} is not one of 1..10") from None
        for name in TEXT_FIELDS:
            value = raw.get(name)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
                out[name] = " ".join(str(value).split())
        for name in DATE_FIELDS:
            value = raw.get(name)
            if _is_empty(value):
                continue
            try:
                out[name] = parse_live_date(value)
            except ValueError as exc:
                raise _BadAnswer(f"{name}: {exc}") from None
        return out

