#!/bin/bash
# The stand-in postgres:15 image's entrypoint (tests/compose/postgres):
# like the official image's, on the first start (an empty PGDATA) it makes
# the cluster with superuser POSTGRES_USER (default postgres) and password
# POSTGRES_PASSWORD (required), creates database POSTGRES_DB (default the
# user's name), and allows password (scram-sha-256) connections from any
# address; then it runs the server as user postgres, listening on every
# interface. A command other than "postgres" is run as given.
set -euo pipefail

if [[ ${1:-} != postgres ]]; then exec "$@"; fi
shift

user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

install -d -o postgres -g postgres -m 0700 "$PGDATA"
install -d -o postgres -g postgres -m 2775 /var/run/postgresql

if [[ ! -s $PGDATA/PG_VERSION ]]; then
    if [[ -z ${POSTGRES_PASSWORD:-} ]]; then
        echo "docker-entrypoint: POSTGRES_PASSWORD must be set" >&2
        exit 1
    fi
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    chown postgres "$pwfile"
    as_pg initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" --encoding=UTF8 \
        --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    echo 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"
    if [[ $db != postgres ]]; then
        # Single-user mode: no server, no socket, nothing listening yet.
        printf 'CREATE DATABASE "%s" OWNER "%s"\n' "$db" "$user" |
            as_pg postgres --single -D "$PGDATA" -j postgres >/dev/null
    fi
    echo "docker-entrypoint: initialised $PGDATA (user $user, database $db)"
fi

exec setpriv --reuid=postgres --regid=postgres --init-groups \
    postgres -D "$PGDATA" -c listen_addresses='*' "$@"
