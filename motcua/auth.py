"""Who is asking: staff accounts (argon2 passwords), signed bearer tokens, device tokens,
roles, and a database-backed throttle for logins and lookup secrets."""
from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, update

from config.schema import OfficeConfig
from motcua_runtime import run_blocking

from .clock import Clock, system_clock
from .errors import MotcuaError
from .store import Store
from .store import tables as t

log = logging.getLogger(__name__)

ROLES = ("admin", "staff", "kiosk", "display", "rating")
_hasher = PasswordHasher()
# Verified against when the username does not exist, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash("motcua-no-such-user")


@dataclass(frozen=True)
class Principal:
    role: str  # admin, staff, kiosk, display, rating, anonymous
    name: str
    user_id: int | None = None
    counters: tuple[int, ...] = ()
    device: str | None = None
    full_name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_anonymous(self) -> bool:
        return self.role == "anonymous"

    def may_act_on_counter(self, number: int) -> bool:
        if self.role == "admin":
            return True
        if self.role == "staff":
            return number in self.counters
        if self.role == "rating":
            return self.extra.get("counter") == number
        return False


ANONYMOUS = Principal(role="anonymous", name="anonymous")


def hash_password(password: str) -> str:
    # argon2 is built to be slow (tens of ms): a native thread, so screens keep moving.
    return run_blocking(_hasher.hash, password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and bool(stored)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_password(stored: str, password: str) -> bool:
    return run_blocking(_verify, stored, password)


class Throttle:
    """Counts failures per key in a sliding window, in the database (shared by processes)."""

    def __init__(self, store: Store, clock: Clock = system_clock):
        self.store = store
        self.clock = clock

    def blocked(self, key: str, limit: int, window_s: float) -> bool:
        since = self.clock() - timedelta(seconds=window_s)
        with self.store.read() as conn:
            n = conn.execute(select(func.count()).select_from(t.throttle).where(
                t.throttle.c.key == key, t.throttle.c.at >= since)).scalar_one()
        return n >= limit

    def fail(self, key: str) -> None:
        now = self.clock()
        with self.store.write() as conn:
            conn.execute(t.throttle.insert().values(key=key[:200], at=now))

    def clear(self, key: str) -> None:
        with self.store.write() as conn:
            conn.execute(delete(t.throttle).where(t.throttle.c.key == key))

    def purge(self, older_than_s: float = 86_400) -> None:
        with self.store.write() as conn:
            conn.execute(delete(t.throttle).where(t.throttle.c.at < self.clock() - timedelta(seconds=older_than_s)))


class LoginError(MotcuaError):
    """A refused sign-in or token (401), or too many tries (429)."""

    default_status = 401


class Auth:
    def __init__(self, store: Store, config: OfficeConfig, secret_key: str, *, clock: Clock = system_clock):
        self.store = store
        self.config = config
        self.clock = clock
        self._serializer = URLSafeTimedSerializer(secret_key, salt="motcua-api-token")
        self.throttle = Throttle(store, clock)
        self._devices = {d.token: d for d in config.devices if d.token}
        self._ttl = int(config.auth.token_ttl_hours * 3600)

    # Passwords and login --------------------------------------------------------------
    def login(self, username: str, password: str, *, ip: str = "") -> Principal:
        limit, window = self.config.auth.login_max_failures, self.config.auth.login_window_s
        ukey, ikey = f"login:user:{username.lower()}", f"login:ip:{ip}"
        if self.throttle.blocked(ukey, limit, window) or (ip and self.throttle.blocked(ikey, limit * 4, window)):
            raise LoginError("too_many_attempts", "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau "
                             f"{max(1, window // 60)} phút.", 429)
        with self.store.read() as conn:
            row = conn.execute(select(t.users).where(t.users.c.username == username)).first()
        ok = verify_password(row.password_hash if row is not None else "", password)
        if not ok or row is None or not row.active:
            self.throttle.fail(ukey)
            if ip:
                self.throttle.fail(ikey)
            raise LoginError("bad_credentials", "Tên đăng nhập hoặc mật khẩu không đúng.", 401)
        self.throttle.clear(ukey)
        if _hasher.check_needs_rehash(row.password_hash):
            self.set_password(username, password)
        return self._user_principal(row)

    def set_password(self, username: str, password: str) -> None:
        with self.store.write() as conn:
            res = conn.execute(update(t.users).where(t.users.c.username == username)
                               .values(password_hash=hash_password(password),
                                       token_version=t.users.c.token_version + 1))
            if res.rowcount != 1:
                raise KeyError(username)

    def add_user(self, username: str, password: str, *, role: str = "staff", counters: list[int] | None = None,
                 full_name: str = "") -> None:
        with self.store.write() as conn:
            exists = conn.execute(select(t.users.c.id).where(t.users.c.username == username)).first()
            values = dict(password_hash=hash_password(password), role=role, counters=counters or [],
                          full_name=full_name, active=True)
            if exists:
                conn.execute(update(t.users).where(t.users.c.username == username)
                             .values(token_version=t.users.c.token_version + 1, **values))
            else:
                conn.execute(t.users.insert().values(username=username, token_version=1,
                                                     created_at=self.clock(), **values))

    def _user_principal(self, row: Any) -> Principal:
        return Principal(role=row.role, name=row.username, user_id=row.id, counters=tuple(row.counters or ()),
                         full_name=row.full_name, extra={"token_version": row.token_version})

    # Tokens -----------------------------------------------------------------------------
    def issue_token(self, principal: Principal) -> str:
        if principal.user_id is None:
            raise ValueError("only users get signed tokens")
        return self._serializer.dumps({"u": principal.user_id, "v": principal.extra.get("token_version", 1)})

    def principal_for_token(self, token: str | None) -> Principal | None:
        """The principal a bearer token stands for, None if the token is not valid."""
        if not token:
            return None
        if len(token) > 1000:
            return None
        for known, dev in self._devices.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return Principal(role=dev.kind, name=dev.name, device=dev.name,
                                 extra={"counter": dev.counter})
        try:
            data = self._serializer.loads(token, max_age=self._ttl)
        except (SignatureExpired, BadSignature):
            return None
        if not isinstance(data, dict) or "u" not in data:
            return None
        return self.principal_for_user_id(int(data["u"]), int(data.get("v", 0)))

    def principal_for_user_id(self, user_id: int, token_version: int | None = None) -> Principal | None:
        with self.store.read() as conn:
            row = conn.execute(select(t.users).where(t.users.c.id == user_id)).first()
        if row is None or not row.active:
            return None
        if token_version is not None and token_version != row.token_version:
            return None
        return self._user_principal(row)

    def list_users(self) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            rows = conn.execute(select(t.users).order_by(t.users.c.username)).all()
        return [{"username": r.username, "full_name": r.full_name, "role": r.role, "counters": r.counters,
                 "active": r.active, "has_password": bool(r.password_hash)} for r in rows]


def now_utc(clock: Clock) -> datetime:
    return clock()
