#!/usr/bin/env bash
# First start: a cluster with POSTGRES_USER (password POSTGRES_PASSWORD) owning POSTGRES_DB,
# reachable over the network with a password; then Postgres in the foreground.
set -euo pipefail
: "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
if [[ ! -s $PGDATA/PG_VERSION ]]; then
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  printf 'host all all 0.0.0.0/0 scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  if [[ $POSTGRES_DB != postgres ]]; then
    postgres -D "$PGDATA" -c listen_addresses= &
    pid=$!
    until pg_isready -q -h /run/postgresql -U "$POSTGRES_USER"; do sleep 0.2; done
    createdb -h /run/postgresql -U "$POSTGRES_USER" -O "$POSTGRES_USER" "$POSTGRES_DB"
    kill -INT "$pid"
    wait "$pid" || true
  fi
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'
