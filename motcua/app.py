"""The application factory: one Flask app with Flask-SocketIO carrying every screen."""
from __future__ import annotations

import logging
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from flask import Flask, abort, jsonify, render_template, send_from_directory
from flask_socketio import SocketIO

from config.schema import OfficeConfig

from .auth import Auth
from .clock import Clock, system_clock
from .dossiers.store import DossierStore
from .events import EventBus
from .fanout import install_direct_websockets
from .queue import QueueEngine
from .queue.broadcast import StateBroadcaster
from .realtime import RealtimeHub, without_websocket_compression
from .serving import async_mode
from .speech import CallAnnouncer, VoiceLibrary
from .store import Store
from .store.db import default_sqlite_url
from .web.sessions import LeanCookieSessions

if TYPE_CHECKING:
    from .devices import DeviceRegistry

log = logging.getLogger(__name__)

EXPIRY_INTERVAL_S = 60.0  # how often tickets left from earlier business days are expired
JSON_BODY_LIMIT = 64 * 1024  # request bodies other than uploads
UPLOAD_LIMIT = 25 * 1024 * 1024  # dossier and catalogue imports
FONT_FILES = ("BeVietnamPro-Regular.ttf", "BeVietnamPro-Medium.ttf", "BeVietnamPro-SemiBold.ttf",
              "BeVietnamPro-Bold.ttf", "BeVietnamPro-ExtraBold.ttf")


@dataclass
class Settings:
    config: OfficeConfig
    data_dir: Path
    database_url: str = ""
    message_queue: str | None = None
    config_path: str = ""
    demo: bool = False
    testing: bool = False
    clock: Clock = system_clock
    start_devices: bool = True
    background_jobs: bool = True
    secret_key: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, config: OfficeConfig, data_dir: str | Path, **kw: Any) -> "Settings":
        data = Path(data_dir).resolve()
        return cls(
            config=config, data_dir=data,
            database_url=os.environ.get("MOTCUA_DATABASE_URL") or default_sqlite_url(data),
            message_queue=os.environ.get("MOTCUA_MESSAGE_QUEUE") or None, **kw,
        )


@dataclass(eq=False)
class Services:
    """Everything a request needs, kept on `app.extensions["motcua"]` (no module globals).

    Built explicitly by `create_app`, in this order: the store, the event bus, the engine
    (publishing on the bus), authentication, the realtime hub and the state broadcaster
    (subscribers), then the domain stores and the devices (subscribers too)."""

    settings: Settings
    store: Store
    bus: EventBus
    engine: QueueEngine
    auth: Auth
    socketio: SocketIO
    hub: RealtimeHub
    states: StateBroadcaster
    voice: VoiceLibrary  # the clip library behind /voice/...
    # Built by create_app right after the services above (they are given the services):
    dossiers: DossierStore = None  # type: ignore[assignment]
    devices: DeviceRegistry | None = None  # when devices run (Settings.start_devices)
    alerts: Any = None  # the service-level alert monitor (motcua/alerts.py AlertMonitor)
    messages: Any = None  # motcua.messages.MessageService: messages to citizens who gave a phone number
    bookings: Any = None  # motcua.booking.Bookings (appointments, docs/booking.md)
    live: Any = None  # motcua.configure.LiveConfig: the running office, changed by the administrator
    stopping: threading.Event = field(default_factory=threading.Event)
    _closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def config(self) -> OfficeConfig:
        return self.settings.config

    def on_close(self, fn: Callable[[], None]) -> None:
        self._closers.append(fn)

    def close(self) -> None:
        self.stopping.set()
        for fn in reversed(self._closers):
            try:
                fn()
            except Exception:  # noqa: BLE001
                log.exception("shutdown step failed")
        self.store.dispose()


def resolve_secret(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    if settings.config.auth.secret_key:
        return settings.config.auth.secret_key
    env = os.environ.get("MOTCUA_SECRET_KEY")
    if env:
        return env
    path = settings.data_dir / "secret_key"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    except FileExistsError:
        pass
    for _ in range(50):  # another process may be writing it right now
        value = path.read_text().strip()
        if value:
            return value
        threading.Event().wait(0.02)
    raise RuntimeError(f"cannot read {path}")


def create_app(settings: Settings) -> Flask:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from .configure import LiveConfig, load_saved, saved_path

    saved = load_saved(settings.data_dir)  # the office as the administrator left it (DATA/office.toml)
    if saved is not None:
        log.info("running the office kept in %s (changed from the administrator's screens)", saved_path(settings.data_dir))
        settings.config = saved
    if not settings.database_url:
        settings.database_url = default_sqlite_url(settings.data_dir)
    web_dir = Path(__file__).parent / "web"
    app = Flask("motcua", template_folder=str(web_dir / "templates"), static_folder=str(web_dir / "static"),
                static_url_path="/static")
    from .web.request import IdConverter

    app.url_map.converters["id"] = IdConverter  # <id:...>: database ids and numbers, bounded
    secret = resolve_secret(settings)
    app.config.update(
        SECRET_KEY=secret, MAX_CONTENT_LENGTH=UPLOAD_LIMIT, JSON_AS_ASCII=False,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", TESTING=settings.testing,
        MOTCUA_DEMO=settings.demo,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.session_interface = LeanCookieSessions()
    proxies = int(os.environ.get("MOTCUA_TRUSTED_PROXIES", "0") or 0)
    if proxies > 0:  # behind nginx: take the client's address from X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]

    store = Store(settings.database_url, background_checkpoint=True)
    store.upgrade()
    bus = EventBus()
    engine = QueueEngine(store, settings.config, clock=settings.clock, bus=bus,
                         announce=CallAnnouncer(settings.config.announcements))
    engine.sync_config()
    auth = Auth(store, settings.config, secret, clock=settings.clock)
    # A signed-in cookie lasts a working day from the sign-in (not sliding: not re-sent on every answer).
    app.config.update(PERMANENT_SESSION_LIFETIME=auth.session_ttl, SESSION_REFRESH_EACH_REQUEST=False)
    # The processes of one office share one Redis channel; two offices (or two test runs) on one
    # Redis keep apart by naming their own (MOTCUA_MESSAGE_QUEUE_CHANNEL).
    channel = os.environ.get("MOTCUA_MESSAGE_QUEUE_CHANNEL") or "flask-socketio"
    from .realtime_mq import message_queue_options  # Redis: resubscribes within 1 s, then screens resync

    socketio = SocketIO(app, async_mode=async_mode(), **message_queue_options(settings.message_queue, channel),
                        json=_SocketJson, ping_interval=10, ping_timeout=10)
    app.wsgi_app = without_websocket_compression(app.wsgi_app)  # type: ignore[method-assign]
    install_direct_websockets(socketio)  # one frame per emit, written at once (motcua/fanout.py)
    hub = RealtimeHub(socketio, engine, auth, bus)
    states = StateBroadcaster(engine, bus)
    services = Services(settings=settings, store=store, bus=bus, engine=engine, auth=auth, socketio=socketio,
                        hub=hub, states=states, voice=VoiceLibrary.for_app(settings))
    services.dossiers = DossierStore.for_app(services)
    from .booking import Bookings

    services.bookings = Bookings(store, lambda: settings.config, engine.calendar, settings.clock)
    from .api.agent_routes import install_agent_socket

    install_agent_socket(socketio, services)  # device agents' namespace (docs/agents.md)
    services.live = LiveConfig(services)
    services.on_close(states.stop)
    services.on_close(hub.stop)
    app.extensions["motcua"] = services
    from .ratings import install_rating_prompts

    services.on_close(install_rating_prompts(services))
    from .alerts import install_alerts

    services.on_close(install_alerts(services))  # service-level alerts (motcua/alerts.py)
    services.on_close(services.dossiers.install_pickup_returns(bus))  # pickup tickets return their dossier

    from .web import errors

    errors.register(app)

    @app.before_request
    def _limit_body():  # over the limit: 413, chunked or not, before any route reads it
        from flask import request

        from .web.request import bound_body, refuse_deep_json

        rule = request.url_rule
        upload = rule is not None and rule.rule.endswith("/import")
        bound_body(UPLOAD_LIMIT if upload else JSON_BODY_LIMIT)
        if not upload:
            refuse_deep_json()  # 400 on every route, not only those that read a JSON body

    from .web import security

    security.install(app)  # csp_nonce(), csrf_token(), page_csrf() in templates

    @app.after_request
    def _headers(resp):  # CSP with the pages' nonce, no framing, nosniff, referrer (web/security.py)
        return security.add_headers(resp)

    from .api import bp as api_bp
    from .api.voice_routes import voice_files

    app.register_blueprint(api_bp)
    app.register_blueprint(voice_files)  # /voice/<name>.wav, /voice/manifest.json
    from counter import bp as counter_bp
    from display import bp as display_bp
    from kiosk import bp as kiosk_bp

    app.register_blueprint(kiosk_bp)
    app.register_blueprint(counter_bp)
    app.register_blueprint(display_bp)
    from admin import bp as admin_bp

    app.register_blueprint(admin_bp)
    from admin.reports import bp as admin_reports_bp

    app.register_blueprint(admin_reports_bp)  # /admin/reports (issue 12, reports)

    @app.get("/")
    def index():
        return render_template("index.html", office=settings.config.office, demo=settings.demo)

    @app.get("/healthz")
    def healthz():
        ok = store.ping()
        body: dict[str, Any] = {"status": "ok" if ok else "error", "database": "ok" if ok else "unreachable",
                                "version": _version(), "office": settings.config.office.name}
        if services.devices is not None:
            body["devices"] = services.devices.summary()
        resp = jsonify(body)
        resp.status_code = 200 if ok else 503
        return resp

    @app.get("/assets/fonts/<name>")
    def font(name: str):
        if name not in FONT_FILES:
            abort(404)
        import fontpkg_be_vietnam_pro as fp

        return send_from_directory(fp.ROOT / "files", name, max_age=86_400 * 30)

    if settings.background_jobs:
        _start_background(services)
        services.voice.start_if_enabled()  # generates missing clips in a child process; returns at once
    if settings.start_devices:
        from .devices import DeviceRegistry

        services.devices = DeviceRegistry(services)
        # Devices come up in the background and report their state; start-up never waits on them.
        threading.Thread(target=services.devices.start, name="motcua-devices-start", daemon=True).start()
        services.on_close(services.devices.stop)
    from .messages import MessageService

    services.messages = MessageService(services)  # after the devices: SMS goes through the modem device
    services.on_close(services.messages.stop)
    return app


def _start_background(services: Services) -> None:
    def expiry_loop() -> None:
        while not services.stopping.is_set():
            try:
                n = services.engine.expire_old()
                if n:
                    log.info("expired %d tickets from earlier business days", n)
                services.engine.purge_idempotency()
                services.auth.throttle.purge()
                services.bookings.mark_no_shows()  # bookings never checked in (docs/booking.md)
                from .configure.retention import erase_if_due

                erase_if_due(services)  # personal data past [privacy] retention_days, once a day
            except Exception:  # noqa: BLE001 - keep the loop alive
                log.exception("expiry sweep failed")
            services.stopping.wait(EXPIRY_INTERVAL_S)

    th = threading.Thread(target=expiry_loop, name="motcua-expiry", daemon=True)
    th.start()
    if services.live is not None:
        services.live.start_watch()  # a change made on another server process (motcua/configure/shared.py)


def _version() -> str:
    from . import __version__

    return __version__


class _SocketJson:
    """JSON for Socket.IO payloads: UTF-8 text, dates as ISO strings."""

    @staticmethod
    def dumps(obj: Any, **kw: Any) -> str:
        import json

        kw.setdefault("ensure_ascii", False)
        kw.setdefault("default", str)
        return json.dumps(obj, **kw)

    @staticmethod
    def loads(s: str | bytes, **kw: Any) -> Any:
        import json

        return json.loads(s, **kw)
