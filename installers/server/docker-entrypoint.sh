#!/bin/sh
# The container's entry: `run` (the default) creates or upgrades the store first; any other
# ops-server command (backup, restore, audit verify …) runs as given.
# PGPASSWORD_FILE: read the PostgreSQL password from a file (a compose or Kubernetes secret), so
# OPS_DATABASE_URL holds none.
set -eu
if [ -n "${PGPASSWORD_FILE:-}" ]; then
    PGPASSWORD=$(cat "$PGPASSWORD_FILE")
    export PGPASSWORD
fi
if [ "${1:-run}" = "run" ]; then
    ops-server init
fi
exec ops-server "$@"
