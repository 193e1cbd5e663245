"""The `motcua` command: demo, serve, db upgrade, user add, check-config."""
from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys
import time
from pathlib import Path

from config import ConfigError, OfficeConfig, load_config, sample_path

log = logging.getLogger("motcua")

DEMO_PASSWORD = "motcua-demo"


def _resolve_devices(cfg: OfficeConfig, data_dir: Path) -> OfficeConfig:
    """Replace `{data}` in device URLs with the data directory."""
    devices = [d.model_copy(update={"url": d.url.replace("{data}", str(data_dir))}) for d in cfg.devices]
    return cfg.model_copy(update={"devices": devices})


def demo_config(data_dir: Path) -> OfficeConfig:
    cfg = load_config(sample_path("commune"))
    cfg = cfg.model_copy(update={"office": cfg.office.model_copy(update={"always_open": True})})
    return _resolve_devices(cfg, data_dir)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("engineio").setLevel(logging.WARNING)
    logging.getLogger("socketio").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _load_or_exit(path: str) -> OfficeConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        raise SystemExit(2) from None


def _install_signal_handlers() -> None:
    def _stop(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)


def _install_gevent_signal_handlers(svc) -> None:
    """Under gevent a Python signal handler runs inside whichever greenlet is current, so an
    exception raised there can end up in a socket's greenlet instead of the server loop.
    gevent's own handler runs in a fresh greenlet that stops the server cleanly."""
    import gevent

    def _stop():
        try:
            svc.socketio.stop()  # gevent: WSGIServer.stop(), serve_forever() returns
        except Exception:  # noqa: BLE001
            log.exception("stopping the server failed")
            raise SystemExit(1) from None

    for sig in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(sig, _stop)


def _run_server(app, host: str, port: int) -> None:
    svc = app.extensions["motcua"]
    from .serving import async_mode

    if async_mode() == "gevent":
        _install_gevent_signal_handlers(svc)
    else:
        _install_signal_handlers()
    try:
        from .serving import server_options, tune_gc

        tune_gc()
        svc.socketio.run(app, host=host, port=port, use_reloader=False, log_output=False, **server_options())
    except KeyboardInterrupt:
        pass
    finally:
        print("\nĐang dừng motcua... / stopping", file=sys.stderr, flush=True)
        svc.close()


def cmd_demo(args: argparse.Namespace) -> int:
    from .app import Settings, create_app
    from .demo import seed_demo

    t0 = time.monotonic()
    data = Path(args.data).resolve()
    data.mkdir(parents=True, exist_ok=True)
    for sub in ("printer", "camera"):
        (data / sub).mkdir(exist_ok=True)
    cfg = demo_config(data)
    settings = Settings.from_env(cfg, data, demo=True, config_path=str(sample_path("commune")))
    app = create_app(settings)
    seed_demo(app.extensions["motcua"], password=DEMO_PASSWORD)
    base = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '') else args.host}:{args.port}"
    kiosk_tok = next((d.token for d in cfg.devices if d.kind == "kiosk"), "")
    lines = [
        f"motcua demo: {cfg.office.name}",
        f"  Máy lấy số / kiosk:      {base}/kiosk",
        f"  Quầy / counter console:  {base}/counter",
        f"  Màn hình chờ / display:  {base}/display",
        f"  Quản trị / admin:        {base}/admin",
        f"  API:                     {base}/api/v1/queue  (docs/api.md)",
        f"  Tài khoản / accounts:    admin / {DEMO_PASSWORD} (quản trị), "
        + ", ".join(f"{s.username}" for s in cfg.staff if s.role == "staff") + f" / {DEMO_PASSWORD}",
        f"  Token máy lấy số / kiosk device token: {kiosk_tok}",
        f"  Dữ liệu / data:          {data}  (máy in ảo: {data / 'printer'}, camera ảo: {data / 'camera'})",
        f"  Sẵn sàng sau {time.monotonic() - t0:.1f} s. Ctrl+C để dừng.",
    ]
    print("\n".join(lines), flush=True)
    _run_server(app, args.host, args.port)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .app import Settings, create_app

    data = Path(args.data).resolve()
    cfg = _resolve_devices(_load_or_exit(args.config), data)
    settings = Settings.from_env(cfg, data, config_path=args.config)
    app = create_app(settings)
    print(f"motcua: {cfg.office.name} on http://{args.host}:{args.port}", flush=True)
    _run_server(app, args.host, args.port)
    return 0


def _store(args: argparse.Namespace):
    from .store import Store
    from .store.db import default_sqlite_url

    url = os.environ.get("MOTCUA_DATABASE_URL") or default_sqlite_url(Path(args.data).resolve())
    return Store(url)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    store = _store(args)
    store.upgrade()
    print(f"Cơ sở dữ liệu đã ở phiên bản mới nhất / database is up to date: {store.engine.url.render_as_string()}")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from .auth import Auth

    store = _store(args)
    store.upgrade()
    password = args.password or os.environ.get("MOTCUA_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print("Cần mật khẩu: dùng --password hoặc biến MOTCUA_PASSWORD / password required", file=sys.stderr)
            return 2
        password = getpass.getpass("Mật khẩu / password: ")
    if len(password) < 8:
        print("Mật khẩu cần ít nhất 8 ký tự / password needs at least 8 characters", file=sys.stderr)
        return 2
    cfg = load_config(sample_path("commune")) if not args.config else _load_or_exit(args.config)
    auth = Auth(store, cfg, "unused-for-user-add")
    counters = [int(x) for x in args.counters.split(",") if x.strip()] if args.counters else []
    auth.add_user(args.username.lower(), password, role=args.role, counters=counters, full_name=args.full_name)
    print(f"Đã lưu tài khoản / saved user: {args.username} ({args.role}, quầy {counters or '-'})")
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.file)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    print(f"Hợp lệ / valid: {cfg.office.name}: {len(cfg.fields)} lĩnh vực, {len(cfg.counters)} quầy, "
          f"{len(cfg.staff)} tài khoản, {len(cfg.devices)} thiết bị")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="motcua", description="Hệ thống xếp hàng, lấy số, tra cứu và hiển thị "
                                "cho bộ phận một cửa / queue system for one-stop offices")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="cmd", required=True)

    d = sub.add_parser("demo", help="chạy văn phòng mẫu, mọi thiết bị mô phỏng / run the demo office")
    d.add_argument("--host", default="127.0.0.1")
    d.add_argument("--port", type=int, default=5000)
    d.add_argument("--data", default="./motcua-data")
    d.set_defaults(fn=cmd_demo)

    s = sub.add_parser("serve", help="chạy thật theo tệp cấu hình / production")
    s.add_argument("--config", required=True)
    s.add_argument("--host", default="0.0.0.0")
    s.add_argument("--port", type=int, default=5000)
    s.add_argument("--data", default="./motcua-data")
    s.set_defaults(fn=cmd_serve)

    db = sub.add_parser("db", help="cơ sở dữ liệu / database")
    dbs = db.add_subparsers(dest="dbcmd", required=True)
    up = dbs.add_parser("upgrade", help="nâng cấp lược đồ / apply migrations")
    up.add_argument("--data", default="./motcua-data")
    up.set_defaults(fn=cmd_db_upgrade)

    u = sub.add_parser("user", help="tài khoản / accounts")
    us = u.add_subparsers(dest="usercmd", required=True)
    ua = us.add_parser("add", help="thêm hoặc đặt lại mật khẩu / add a user or reset a password")
    ua.add_argument("username")
    ua.add_argument("--role", choices=["staff", "admin"], default="staff")
    ua.add_argument("--counters", default="", help="ví dụ 1,2")
    ua.add_argument("--full-name", default="")
    ua.add_argument("--password", default="")
    ua.add_argument("--config", default="")
    ua.add_argument("--data", default="./motcua-data")
    ua.set_defaults(fn=cmd_user_add)

    sub.add_parser("agent", add_help=False, help="máy trạm thiết bị: motcua agent --server URL --token T "
                   "(docs/agents.md) / device agent")
    c = sub.add_parser("check-config", help="kiểm tra tệp cấu hình / validate a configuration file")
    c.add_argument("file")
    c.set_defaults(fn=cmd_check_config)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["agent"]:  # the device agent: its own program (agent/, docs/agents.md), not the core
        from agent.main import main as agent_main

        return agent_main(argv[1:])
    args = build_parser().parse_args(argv)
    if getattr(args, "fn", None) in (cmd_demo, cmd_serve):
        from .serving import patch_if_gevent

        patch_if_gevent()  # before the app creates a thread, lock or socket
    _setup_logging(args.verbose)
    return int(args.fn(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
