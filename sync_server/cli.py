"""``ops-server``: the server's command line (DESIGN §8, CONTRACT).

    ops-server init
    ops-server run [--host 127.0.0.1] [--port 8750] [--cert FILE --key FILE] [--threads N] [--workers N]
                   [--insecure-http]
    ops-server create-org NAME
    ops-server create-user --email E --name N        (password on stdin)
    ops-server grant --email E --org ORG --role R
    ops-server audit verify --org ORG [--data]
    ops-server demo --password P
    ops-server prune [--days 90]      (change log and tombstones, at least 90 days kept; security log)
    ops-server backup --to FILE       (online, consistent; sync_server/backup.py)
    ops-server restore FILE           (every server stopped; clients resync)

Configuration comes from ``OPS_*`` variables (README, "Configuration").
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
from sync_server.backup import BackupError
from sync_server.config import ConfigError, ServerConfig
from sync_server.logs import configure_logging
from sync_server.serve import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_THREADS, make_server
from sync_server.services import Services
from sync_server.store import Store, prepare_store
from sync_server.workers import run_workers, worker_count

log = logging.getLogger("ops-server")
_MAX_SHOWN = 200  # data mismatches printed one by one


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
    if (
        config.embedded
        and config.db_key is None
        and config.db_key_path.parent.resolve() == config.db_path.parent.resolve()
    ):
        print(
            f"warning: the database key file {config.db_key_path} is in the same directory as the "
            "database: a copy or backup of that directory opens without any other secret. Keep the key "
            "elsewhere (OPS_DB_KEY_FILE on another volume, or OPS_DB_KEY from a secret store) and back it "
            "up apart from the database.",
            file=sys.stderr,
        )
    return 0


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def plain_http_refusal(config: ServerConfig, args: argparse.Namespace) -> str | None:
    """Why ``run`` must not serve plain HTTP here (``None``: it may, or it serves HTTPS).

    Passwords and tokens would cross the network in clear. Plain HTTP is for loopback, or for a
    TLS proxy in front (``OPS_TRUSTED_PROXIES``); ``--insecure-http`` overrides, loudly.
    """
    if args.cert is not None or _is_loopback(args.host) or config.trusted_proxies > 0:
        return None
    if args.insecure_http:
        log.warning(
            "SERVING PLAIN HTTP ON %s (--insecure-http): passwords and tokens cross the network "
            "unencrypted; anyone on the path can read them and sign in as your users",
            args.host,
        )
        return None
    return (
        f"refusing to serve plain HTTP on {args.host}: passwords and tokens would cross the network "
        "unencrypted. Pass --cert and --key to serve HTTPS, or listen on 127.0.0.1 behind a TLS proxy "
        "and set OPS_TRUSTED_PROXIES, or (never in production) --insecure-http"
    )


def cmd_run(config: ServerConfig, args: argparse.Namespace) -> int:
    from sync_server.app import create_app
    from sync_server.writes import settle_heap

    refusal = plain_http_refusal(config, args)
    if refusal is not None:
        print(f"ops-server: {refusal}", file=sys.stderr)
        return 2
    # One pooled connection per worker thread: a smaller pool makes busy workers open and
    # close overflow connections, each a new SQLCipher open with a cold page cache.
    config = replace(config, pool_size=max(config.pool_size, args.threads))
    store = prepare_store(config)
    scheme = "https" if args.cert else "http"
    if args.workers > 1:
        return run_workers(config, store, args)
    app = create_app(config, Services.build(config, store))
    settle_heap(store)  # start-up's objects out of the collector's way (sync_server.writes)
    server = make_server(app, args.host, args.port, cert=args.cert, key=args.key, threads=args.threads)
    print(f"ops-server on {scheme}://{args.host}:{args.port} ({_describe(config)})", flush=True)
    from sync_server.retention_run import DailyRetention

    daily = DailyRetention(store)  # the retention schedule, applied once a day
    daily.start()
    try:
        server.safe_start()
    finally:
        daily.stop()
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
    if args.data:
        return _verify_data(store, org_id, name)
    return 0


def _verify_data(store: Store, org_id: str, name: str) -> int:
    from sync_server.audit_data import verify_data

    with store.session(org_id) as session:
        rows, problems = verify_data(session, org_id)
    if not problems:
        print(f"data of {name} matches its audit trail: {rows} rows checked")
        return 0
    for problem in problems[:_MAX_SHOWN]:
        print(f"DATA MISMATCH {problem}")
    if len(problems) > _MAX_SHOWN:
        print(f"... and {len(problems) - _MAX_SHOWN} more")
    print(
        f"data of {name} does NOT match its audit trail: {len(problems)} problems in {rows} rows",
        file=sys.stderr,
    )
    return 1


def cmd_demo(config: ServerConfig, args: argparse.Namespace) -> int:
    from sync_server.demo import seed_demo

    store = prepare_store(config)
    report = seed_demo(
        Services.build(config, store), args.password, progress=lambda text: print(text, flush=True)
    )
    for line in report:
        print(line)
    return 0


def cmd_retention_run(config: ServerConfig, args: argparse.Namespace) -> int:
    from sync_server.retention_run import run_retention

    store = prepare_store(config)
    try:
        reports = run_retention(store, dry_run=args.dry_run)
    finally:
        store.dispose()
    prefix = "would apply (dry run): " if args.dry_run else ""
    for report in reports:
        for line in report.lines():
            print(prefix + line)
    return 0


def cmd_policy_publish(config: ServerConfig, args: argparse.Namespace) -> int:
    from datetime import date

    from sync_server.mail import Mailer
    from sync_server.policy import publish

    try:
        text = args.file.read_text("utf-8")
        effective = date.fromisoformat(args.effective) if args.effective else date.today()
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"ops-server: {exc}", file=sys.stderr)
        return 2
    mailer = Mailer.from_url(config.smtp_url) if config.smtp_url else None
    store = prepare_store(config)
    try:
        version, notified = publish(
            store,
            text,
            summary=args.summary,
            effective=effective,
            mailer=mailer,
            public_url=config.public_url,
        )
    except ValueError as exc:
        print(f"ops-server: {exc}", file=sys.stderr)
        return 2
    finally:
        store.dispose()
    print(
        f"policy version {version} published, effective {effective.isoformat()}; {notified} members notified"
    )
    return 0


def cmd_prune(config: ServerConfig, args: argparse.Namespace) -> int:
    from sync_server.retention import RETENTION_DAYS, prune
    from sync_server.security_log import prune_security_log

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
        dropped = prune_security_log(store, keep_days=config.security_log_days)
        print(f"security log: dropped {dropped} entries not seen for {config.security_log_days} days")
    finally:
        store.dispose()
    return 0


def cmd_backup(config: ServerConfig, args: argparse.Namespace) -> int:
    from sync_server.backup import backup

    report = backup(config, args.to)
    print(
        f"backup of {_describe(config)} written to {report.path} ({report.kind}, {report.size:,} bytes, "
        f"schema revision {report.revision}, {report.seconds:.1f} s)"
    )
    if report.kind == "sqlcipher":
        print(
            "it is encrypted with the store's key: keep a copy of that key elsewhere (installers/README.md)"
        )
    return 0


def cmd_restore(config: ServerConfig, args: argparse.Namespace) -> int:
    from sync_server.backup import restore

    report = restore(config, args.file)
    print(
        f"restored {args.file} into {_describe(config)}: schema revision {report.revision_restored}"
        f" → {report.revision_now}, {report.organizations} organization(s); clients will download again"
    )
    for name, (count, problem) in report.chains.items():
        if problem is None:
            print(f"audit chain of {name} is intact: {count} events")
        else:
            print(f"audit chain of {name} is BROKEN at {problem}", file=sys.stderr)
    return 0 if report.intact else 1


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
    run.add_argument(
        "--insecure-http",
        action="store_true",
        help="serve plain HTTP on a non-loopback address anyway (passwords cross the network in clear)",
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
    verify.add_argument(
        "--data",
        action="store_true",
        help="also replay the chain and compare it with the stored rows (entity, id, field)",
    )
    verify.set_defaults(func=cmd_audit_verify)
    demo = sub.add_parser("demo", help="seed the two demo organizations (idempotent)")
    demo.add_argument("--password", required=True)
    demo.set_defaults(func=cmd_demo)
    retention = sub.add_parser("retention", help="the legal retention schedule")
    retention_sub = retention.add_subparsers(dest="retention_command", required=True)
    retention_run = retention_sub.add_parser("run", help="anonymize or delete what the schedule says is due")
    retention_run.add_argument("--dry-run", action="store_true", help="only report what would be done")
    retention_run.set_defaults(func=cmd_retention_run)
    policy = sub.add_parser("policy", help="the privacy policy's versions")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True)
    publish = policy_sub.add_parser("publish", help="publish FILE as the next version and notify every user")
    publish.add_argument("file", type=Path, help="the policy's text (UTF-8)")
    publish.add_argument(
        "--summary", default="The privacy policy was updated.", help="what changed, in a line"
    )
    publish.add_argument("--effective", help="effective date, YYYY-MM-DD (default: today)")
    publish.set_defaults(func=cmd_policy_publish)
    prune = sub.add_parser("prune", help="drop change history and tombstones older than --days (>= 90)")
    prune.add_argument("--days", type=int, default=90)
    prune.set_defaults(func=cmd_prune)
    backup = sub.add_parser("backup", help="write a consistent backup of the store while it runs")
    backup.add_argument("--to", required=True, type=Path, help="the backup file to write")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="replace the store with a backup (stop every server first)")
    restore.add_argument("file", type=Path, help="a file written by ops-server backup")
    restore.set_defaults(func=cmd_restore)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        configure_logging()  # OPS_LOG_FORMAT=json: one JSON object per line (sync_server/logs.py)
        config = ServerConfig.from_env()
        if args.command == "run" and (args.cert is None) != (args.key is None):
            raise ConfigError("give both --cert and --key, or neither")
        return int(args.func(config, args))
    except (ConfigError, WrongKeyError) as exc:
        print(f"ops-server: {exc}", file=sys.stderr)
        return 2
    except (admin_ops.AdminError, BackupError) as exc:
        print(f"ops-server: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
