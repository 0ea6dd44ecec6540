"""The sync server: Flask app factory, auth, tenancy, audit, write path, CLI.

Where things are:

- ``app.create_app(config)`` — the factory; ``blueprints/`` one module per resource;
  ``api.endpoint`` declares an endpoint once (route, pydantic models, auth, permission), and
  ``openapi`` builds ``/api/v1/openapi.json`` from those declarations.
- ``blueprints/sync.py`` — push; pull belongs here too (see its docstring).
- ``writes.apply_mutations`` — the write path (per-org lock, savepoint per command, change log,
  audit, processed mutations) around ``common.commands.execute``.
- ``auth/`` — passwords, tokens, rate limits, sign-in sessions, the per-request ``Principal``.
- ``store`` — engines and scoped sessions; ``tenancy`` — where ORM queries are scoped to an
  organization; ``pg_security`` — PostgreSQL app role and row-level security.
- ``audit`` — the hash chain; ``admin_ops`` — organizations, users, grants without HTTP;
  ``demo`` — ``ops-server demo``; ``serve`` — cheroot, and ``BackgroundServer`` for tests;
  ``cli`` — ``ops-server``.
"""
