"""Who is asking: staff accounts (argon2 passwords), signed bearer tokens, device tokens,
roles, and a database-backed throttle for logins and lookup secrets."""
from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Callable

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
SESSION_MAX_S = 24 * 3600  # a signed-in session never outlives a day, whatever token_ttl_hours says
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

    def count(self, key: str, window_s: float) -> int:
        """Failures counted for `key` in the last `window_s` seconds."""
        since = self.clock() - timedelta(seconds=window_s)
        with self.store.read() as conn:
            return conn.execute(select(func.count()).select_from(t.throttle).where(
                t.throttle.c.key == key[:200], t.throttle.c.at >= since)).scalar_one()

    def wait_s(self, key: str, limit: int, window_s: float) -> float:
        """Seconds until `key` is below `limit` failures in the window again (0.0: it is now):
        the moment the limit-th newest failure leaves the window."""
        now = self.clock()
        with self.store.read() as conn:
            at = conn.execute(select(t.throttle.c.at).where(
                t.throttle.c.key == key[:200], t.throttle.c.at >= now - timedelta(seconds=window_s))
                .order_by(t.throttle.c.at.desc()).limit(1).offset(max(0, limit - 1))).scalar()
        if at is None:
            return 0.0
        return max(0.001, (at + timedelta(seconds=window_s) - now).total_seconds())

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
        # A signed-in session lasts the configured token lifetime, at most a working day.
        self.session_ttl = timedelta(seconds=min(self._ttl, SESSION_MAX_S))
        self._revoke_listeners: list[Callable[..., None]] = []

    def reconfigure(self, new: OfficeConfig) -> None:
        """A changed office (configure/live.py): its staff rules and the screens' device tokens."""
        self.config = new
        self._devices = {d.token: d for d in new.devices if d.token}

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
            uid = conn.execute(select(t.users.c.id).where(t.users.c.username == username)).scalar()
        self._revoked(user_id=uid)

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
        if exists:
            self._revoked(user_id=exists.id)

    def _user_principal(self, row: Any) -> Principal:
        return Principal(role=row.role, name=row.username, user_id=row.id, counters=tuple(row.counters or ()),
                         full_name=row.full_name, extra={"token_version": row.token_version})

    # Sessions ---------------------------------------------------------------------------
    def start_session(self, principal: Principal) -> Principal:
        """A new signed-in session for this user, kept on the server: it ends at sign-out
        (`end_session`), after `session_ttl`, or when the account's token_version moves on.
        Returns the principal carrying it (`extra["session"]`)."""
        if principal.user_id is None:
            raise ValueError("only users have sessions")
        sid, now = secrets.token_urlsafe(32), self.clock()
        s = t.auth_sessions.c
        with self.store.write() as conn:
            conn.execute(delete(t.auth_sessions).where(s.expires_at < now - timedelta(days=1)))
            conn.execute(t.auth_sessions.insert().values(
                id=sid, user_id=principal.user_id, token_version=int(principal.extra.get("token_version", 1)),
                created_at=now, expires_at=now + self.session_ttl))
        return replace(principal, extra={**principal.extra, "session": sid})

    def end_session(self, session_id: str | None) -> None:
        """Sign-out: the session, its cookie and every token issued for it are worth nothing."""
        if not session_id:
            return
        s = t.auth_sessions.c
        with self.store.write() as conn:
            conn.execute(update(t.auth_sessions).where(s.id == session_id, s.revoked_at.is_(None))
                         .values(revoked_at=self.clock()))
        self._revoked(session=session_id)

    def principal_for_session(self, session_id: Any, user_id: Any = None) -> Principal | None:
        """The user of a live session (not ended, not expired, account active, password unchanged)."""
        if not isinstance(session_id, str) or not session_id or len(session_id) > 64:
            return None
        s, u = t.auth_sessions.c, t.users.c
        with self.store.read() as conn:
            row = conn.execute(select(t.users).join(t.auth_sessions, s.user_id == u.id).where(
                s.id == session_id, s.revoked_at.is_(None), s.expires_at > self.clock(),
                s.token_version == u.token_version, u.active.is_(True))).first()
        if row is None or (user_id is not None and user_id != row.id):
            return None
        p = self._user_principal(row)
        return replace(p, extra={**p.extra, "session": session_id})

    def live_sessions(self, session_ids: set[str]) -> set[str]:
        """Which of these sessions are still live (one query, for the realtime hub's sweep)."""
        if not session_ids:
            return set()
        s, u = t.auth_sessions.c, t.users.c
        with self.store.read() as conn:
            rows = conn.execute(select(s.id).join(t.users, s.user_id == u.id).where(
                s.id.in_(sorted(session_ids)), s.revoked_at.is_(None), s.expires_at > self.clock(),
                s.token_version == u.token_version, u.active.is_(True))).all()
        return {r.id for r in rows}

    def on_revoke(self, fn: Callable[..., None]) -> Callable[[], None]:
        """Call `fn(session=...)` when a session ends, `fn(user_id=...)` when every session of an
        account ends (password changed) in this process. Returns the unsubscribe function."""
        self._revoke_listeners.append(fn)
        return lambda: self._revoke_listeners.remove(fn) if fn in self._revoke_listeners else None

    def _revoked(self, **what: Any) -> None:
        for fn in list(self._revoke_listeners):
            try:
                fn(**what)
            except Exception:  # noqa: BLE001 - a listener never stops a sign-out
                log.exception("revocation listener failed")

    # Tokens -----------------------------------------------------------------------------
    def issue_token(self, principal: Principal) -> str:
        """A bearer token for a user, bound to their session (a new one if they have none):
        it ends with that session."""
        if principal.user_id is None:
            raise ValueError("only users get signed tokens")
        if not principal.extra.get("session"):
            principal = self.start_session(principal)
        return self._serializer.dumps({"u": principal.user_id, "v": principal.extra.get("token_version", 1),
                                       "s": principal.extra["session"]})

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
        if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("s"), str):
            return None  # tokens from before sessions were kept on the server end here
        return self.principal_for_session(data["s"], data["u"])

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
