"""``ops-server``: the server's command line (DESIGN §8, CONTRACT).

    ops-server init
    ops-server run [--host 127.0.0.1] [--port 8750] [--cert FILE --key FILE] [--threads N] [--workers N]
    ops-server create-org NAME
    ops-server create-user --email E --name N        (password on stdin)
    ops-server grant --email E --org ORG --role R
    ops-server audit verify --org ORG
    ops-server demo --password P
    ops-server prune [--days 90]                      (change log and tombstones; at least 90 days kept)

Configuration comes from ``OPS_DATA_DIR``, ``OPS_DATABASE_URL``, ``OPS_DB_KEY``, ``OPS_JWT_KEY``,
``OPS_AUDIT_KEY``.
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import logging
import sys
from dataclasses import replace
from pathlib import Path

from common.db import WrongKeyError
from sync_server import admin_ops
from sync_server.config import ConfigError, ServerConfig
from sync_server.serve import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_THREADS, make_server
from sync_server.services import Services
from sync_server.store import prepare_store
from sync_server.workers import run_workers, worker_count

log = logging.getLogger("ops-server")


def _describe(config: ServerConfig) -> str:
    if config.database_url is not None:
        return "PostgreSQL (" + config.database_url.split("@")[-1] + ")"
    return f"encrypted SQLite {config.db_path}"


def cmd_init(config: ServerConfig, args: argparse.Namespace) -> int:
    store = prepare_store(config)
    store.dispose()
    config.signing_key()  # created now, so every worker started later shares them
    config.audit_signing_key()
    print(f"store ready: {_describe(config)}")
    return 0


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def cmd_run(config: ServerConfig, args: argparse.Namespace) -> int:
    from sync_server.app import create_app

    # One pooled connection per worker thread: a smaller pool makes busy workers open and
    # close overflow connections, each a new SQLCipher open with a cold page cache.
    config = replace(config, pool_size=max(config.pool_size, args.threads))
    store = prepare_store(config)
    scheme = "https" if args.cert else "http"
    if scheme == "http" and not _is_loopback(args.host):
        log.warning("serving plain HTTP on %s: put a TLS proxy in front, or pass --cert and --key", args.host)
    if args.workers > 1:
        return run_workers(config, store, args)
    app = create_app(config, Services.build(config, store))
    server = make_server(app, args.host, args.port, cert=args.cert, key=args.key, threads=args.threads)
    print(f"ops-server on {scheme}://{args.host}:{args.port} ({_describe(config)})", flush=True)
    try:
        server.safe_start()
    finally:
        store.dispose()
    return 0


def cmd_create_org(config: ServerConfig, args: argparse.Namespace) -> int:
    store = prepare_store(config)
    org_id = admin_ops.create_org(store, args.name, base_currency=args.currency)
    print(org_id)
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != first:
            raise admin_ops.AdminError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_create_user(config: ServerConfig, args: argparse.Namespace) -> int:
    store = prepare_store(config)
    password = _read_password()
    services = Services.build(config, store)
    user_id = admin_ops.create_user(store, services.passwords, args.email, args.name, password)
    print(user_id)
    return 0


def cmd_grant(config: ServerConfig, args: argparse.Namespace) -> int:
    store = prepare_store(config)
    roles = admin_ops.grant(store, args.email, args.org, args.role)
    print(f"{args.email} in {args.org}: {', '.join(roles)}")
    return 0


def cmd_audit_verify(config: ServerConfig, args: argparse.Namespace) -> int:
    from sync_server.audit import verify_chain

    store = prepare_store(config)
    org_id, name = admin_ops.find_org(store, args.org)
    with store.session(org_id) as session:
        count, problem = verify_chain(session, org_id)
    if problem is not None:
        print(f"audit chain of {name} is BROKEN at sequence {problem.seq}: {problem.reason}", file=sys.stderr)
        print(f"first bad sequence number: {problem.seq}")
        return 1
    print(f"audit chain of {name} is intact: {count} events")
    return 0


def cmd_demo(config: ServerConfig, args: argparse.Namespace) -> int:
    from sync_server.demo import seed_demo

    store = prepare_store(config)
    report = seed_demo(Services.build(config, store), args.password)
    for line in report:
        print(line)
    return 0


def cmd_prune(config: ServerConfig, args: argparse.Namespace) -> int:
    from sync_server.retention import RETENTION_DAYS, prune

    if args.days < RETENTION_DAYS:
        print(f"ops-server: --days must be at least {RETENTION_DAYS}", file=sys.stderr)
        return 2
    store = prepare_store(config)
    try:
        for report in prune(store, keep_days=args.days):
            print(
                f"{report.org_id}: history kept after change {report.floor}; dropped "
                f"{report.change_log_rows} change-log rows and {report.tombstones} tombstones"
            )
    finally:
        store.dispose()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ops-server", description="Operations Management System sync server"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create or upgrade the store").set_defaults(func=cmd_init)
    run = sub.add_parser("run", help="serve the API")
    run.add_argument("--host", default=DEFAULT_HOST)
    run.add_argument("--port", type=int, default=DEFAULT_PORT)
    run.add_argument("--cert", type=Path, help="TLS certificate (PEM); serve HTTPS")
    run.add_argument("--key", type=Path, help="TLS private key (PEM)")
    run.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    run.add_argument(
        "--workers", type=worker_count, default=1, help="server processes (POSIX; threads elsewhere)"
    )
    run.set_defaults(func=cmd_run)
    org = sub.add_parser("create-org", help="create an organization; prints its id")
    org.add_argument("name")
    org.add_argument("--currency", default="EUR")
    org.set_defaults(func=cmd_create_org)
    user = sub.add_parser("create-user", help="create a user; the password is read from stdin")
    user.add_argument("--email", required=True)
    user.add_argument("--name", required=True)
    user.set_defaults(func=cmd_create_user)
    grant = sub.add_parser("grant", help="give a user a role in an organization")
    grant.add_argument("--email", required=True)
    grant.add_argument("--org", required=True, help="organization name or id")
    grant.add_argument("--role", required=True)
    grant.set_defaults(func=cmd_grant)
    audit = sub.add_parser("audit", help="audit trail tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check an organization's hash chain")
    verify.add_argument(
        "--org", required=True, help="organization name or id ('system' for the system chain)"
    )
    verify.set_defaults(func=cmd_audit_verify)
    demo = sub.add_parser("demo", help="seed the two demo organizations (idempotent)")
    demo.add_argument("--password", required=True)
    demo.set_defaults(func=cmd_demo)
    prune = sub.add_parser("prune", help="drop change history and tombstones older than --days (>= 90)")
    prune.add_argument("--days", type=int, default=90)
    prune.set_defaults(func=cmd_prune)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        config = ServerConfig.from_env()
        if args.command == "run" and (args.cert is None) != (args.key is None):
            raise ConfigError("give both --cert and --key, or neither")
        return int(args.func(config, args))
    except (ConfigError, WrongKeyError) as exc:
        print(f"ops-server: {exc}", file=sys.stderr)
        return 2
    except admin_ops.AdminError as exc:
        print(f"ops-server: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
