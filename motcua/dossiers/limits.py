"""How often a client may look dossiers up and answer their second factor (docs/lookup.md,
"Limits per client"; docs/security.md, findings 4 and 9).

Counts are rows of the `throttle` table (`motcua.auth.Throttle`), so every server process
shares them. No Flask here: the routes say who the client is (`LookupClient`): a kiosk
device or a staff account by its token (trusted), anyone else by network address (behind
``MOTCUA_TRUSTED_PROXIES``, the forwarded one).

Lookups (a code asked by GET /dossiers/<code>, /lookup/scan or a second-factor answer), per
client that is not trusted, in a sliding window of `LOOKUP_WINDOW_S`: at most
`LOOKUP_MISS_LIMIT` unknown codes and `LOOKUP_HIT_LIMIT` dossiers found (a miss weighs five
hits), and `LOOKUP_MISS_DAILY_LIMIT` unknown codes a day; after that every lookup of that
client is 429 `too_many_lookups` until the window lets it go. Malformed codes are not
counted: they reveal nothing.

Wrong second-factor answers are counted three ways:

* per client and dossier (`VERIFY_LIMIT` per `VERIFY_WINDOW_S`, `VERIFY_DAILY_LIMIT` a day):
  that client is refused on that dossier, even with the right answer; anyone else is not;
* per client that is not trusted, every dossier together (`VERIFY_CLIENT_LIMIT` per
  `VERIFY_WINDOW_S`, `VERIFY_CLIENT_DAILY_LIMIT` a day): one phone cannot try a few answers
  on each of many dossiers;
* per dossier, every client together (`VERIFY_DOSSIER_LIMIT` a day): many addresses guessing
  one dossier; reaching it is logged as a warning, and the dossier's details are then shown
  only at the counter until the day has passed.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from .errors import DossierError

log = logging.getLogger(__name__)

__all__ = ["LOCAL", "ClientLimits", "LookupClient"]

LOOKUP_WINDOW_S = 600
LOOKUP_MISS_LIMIT = 20
LOOKUP_HIT_LIMIT = 100
LOOKUP_DAILY_WINDOW_S = 86_400
LOOKUP_MISS_DAILY_LIMIT = 100

VERIFY_WINDOW_S = 600
VERIFY_DAILY_WINDOW_S = 86_400
VERIFY_LIMIT = 5
VERIFY_DAILY_LIMIT = 20
VERIFY_CLIENT_LIMIT = 20
VERIFY_CLIENT_DAILY_LIMIT = 60
VERIFY_DOSSIER_LIMIT = 100


@dataclass(frozen=True)
class LookupClient:
    """Who asks: ``key`` names it in the throttle table ("ip:203.0.113.5", "device:kiosk-1",
    "user:7"); a ``trusted`` client (a kiosk device, staff) has no lookup limit and no limit
    across dossiers (its wrong answers still count per dossier)."""

    key: str
    trusted: bool = False


#: The client of callers that name none (tools, the Python API): one shared, trusted client.
LOCAL = LookupClient("local", trusted=True)


class ClientLimits:
    def __init__(self, throttle: Any, local: Callable[[datetime], datetime]):
        self.throttle = throttle  # motcua.auth.Throttle
        self.local = local  # an instant in the office's time zone

    # Lookups ------------------------------------------------------------------------------
    def check_lookup(self, client: LookupClient) -> None:
        """429 `too_many_lookups` when the client has used up its lookups."""
        if client.trusted:
            return
        miss, hit = f"lookup-miss:{client.key}", f"lookup-hit:{client.key}"
        wait = max(self.throttle.wait_s(miss, LOOKUP_MISS_LIMIT, LOOKUP_WINDOW_S),
                   self.throttle.wait_s(miss, LOOKUP_MISS_DAILY_LIMIT, LOOKUP_DAILY_WINDOW_S),
                   self.throttle.wait_s(hit, LOOKUP_HIT_LIMIT, LOOKUP_WINDOW_S))
        if wait > 0:
            raise DossierError("too_many_lookups", "Ông/bà đã tra cứu quá nhiều mã hồ sơ trong thời gian ngắn. "
                               f"Vui lòng thử lại {self.when(wait)}, hoặc hỏi cán bộ tại quầy để được giúp "
                               "tra cứu.", 429, retry_after_s=math.ceil(wait))

    def lookup_done(self, client: LookupClient, *, found: bool) -> None:
        if not client.trusted:
            self.throttle.fail(f"lookup-{'hit' if found else 'miss'}:{client.key}")

    # Second factor ------------------------------------------------------------------------
    def _verify_limits(self, client: LookupClient, code: str) -> list[tuple[str, int, int]]:
        """(key, limit, window) of the counts that block this client on this dossier."""
        pair = f"dossier-verify:{code}:{client.key}"
        out = [(pair, VERIFY_LIMIT, VERIFY_WINDOW_S), (pair, VERIFY_DAILY_LIMIT, VERIFY_DAILY_WINDOW_S)]
        if not client.trusted:
            mine = f"verify-client:{client.key}"
            out += [(mine, VERIFY_CLIENT_LIMIT, VERIFY_WINDOW_S), (mine, VERIFY_CLIENT_DAILY_LIMIT, VERIFY_DAILY_WINDOW_S)]
        return out

    def _client_wait(self, client: LookupClient, code: str) -> float:
        return max(self.throttle.wait_s(k, n, w) for k, n, w in self._verify_limits(client, code))

    def check_verify(self, client: LookupClient, code: str) -> None:
        """429 `too_many_attempts` when this client (or everyone, for this dossier) has given
        too many wrong answers."""
        wait = self._client_wait(client, code)
        if wait > 0:
            raise DossierError("too_many_attempts", "Ông/bà đã nhập sai mã tra cứu quá nhiều lần. Vui lòng thử lại "
                               f"{self.when(wait)} hoặc hỏi cán bộ tại quầy.", 429, retry_after_s=math.ceil(wait))
        wait = self.throttle.wait_s(f"dossier-verify:{code}", VERIFY_DOSSIER_LIMIT, VERIFY_DAILY_WINDOW_S)
        if wait > 0:
            log.info("second factor of dossier %s refused for %s: the cap per dossier is reached", code, client.key)
            raise DossierError("too_many_attempts", "Hồ sơ này đã bị nhập sai mã tra cứu quá nhiều lần nên tạm thời "
                               "không xem được đầy đủ thông tin tại đây. Mời ông/bà hỏi cán bộ tại quầy, hoặc thử "
                               f"lại {self.when(wait)}.", 429, retry_after_s=math.ceil(wait))

    def verify_failed(self, client: LookupClient, code: str) -> tuple[int, float]:
        """Count a wrong answer; (tries left to this client before it is blocked, the wait
        when none is left)."""
        seen: set[str] = set()
        for key, _, _ in self._verify_limits(client, code):
            if key not in seen:
                seen.add(key)
                self.throttle.fail(key)
        everyone = f"dossier-verify:{code}"
        self.throttle.fail(everyone)
        if self.throttle.count(everyone, VERIFY_DAILY_WINDOW_S) >= VERIFY_DOSSIER_LIMIT:
            log.warning("dossier %s: %d wrong second-factor answers in 24 h from several clients (last: %s); "
                        "its details are shown only at the counter until the count falls", code,
                        VERIFY_DOSSIER_LIMIT, client.key)
        left = max(0, min(n - self.throttle.count(k, w) for k, n, w in self._verify_limits(client, code)))
        return left, (self._client_wait(client, code) if left == 0 else 0.0)

    def verify_passed(self, client: LookupClient, code: str) -> None:
        """A right answer clears this client's count on this dossier (not the others)."""
        self.throttle.clear(f"dossier-verify:{code}:{client.key}")

    # -----------------------------------------------------------------------------------
    def when(self, wait_s: float) -> str:
        """'sau 7 phút (lúc 09:42)', or 'từ 14:20 ngày 03/12/2026' for a long wait, in the
        office's time zone."""
        at = self.local(self.throttle.clock() + timedelta(seconds=wait_s))
        minutes = max(1, math.ceil(wait_s / 60))
        if minutes <= 60:
            return f"sau {minutes} phút (lúc {at:%H:%M})"
        return f"từ {at:%H:%M} ngày {at:%d/%m/%Y}"
