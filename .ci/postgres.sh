#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for the test suite on 127.0.0.1:${PGPORT:-55432} with database 'capstan' and
# user 'capstan' (password 'capstan'). Installs Debian's postgresql if no server binaries are found.
set -euo pipefail
PGPORT=${PGPORT:-55432}
PGDATA=${PGDATA:-/tmp/capstan-pg}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql --shell /bin/bash postgres
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if "$bindir/pg_isready" -h 127.0.0.1 -p "$PGPORT" -q 2>/dev/null; then
  echo "PostgreSQL already running on port $PGPORT"
else
  rm -rf "$PGDATA"
  mkdir -p "$PGDATA"
  [ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
  as_pg "$bindir/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 >/dev/null
  as_pg "$bindir/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
      -o "-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
fi
as_pg "$bindir/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qtAc "SELECT 1 FROM pg_roles WHERE rolname='capstan'" | grep -q 1 \
  || as_pg "$bindir/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "CREATE ROLE capstan LOGIN PASSWORD 'capstan' SUPERUSER"
as_pg "$bindir/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qtAc "SELECT 1 FROM pg_database WHERE datname='capstan'" | grep -q 1 \
  || as_pg "$bindir/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "CREATE DATABASE capstan OWNER capstan"
echo "jdbc:postgresql://127.0.0.1:$PGPORT/capstan?user=capstan&password=capstan"
