#!/usr/bin/env bash
# kefu — apply the SQL migrations in deploy/migrations/ to $KEFU_DATABASE_URL.
#
# Each file NNN_name.sql is applied once, in one transaction together with its
# row in schema_migration; a transaction-level advisory lock serialises
# concurrent runners. Files already recorded are skipped, so re-running is a
# no-op. Migration files must not contain BEGIN/COMMIT of their own.
set -euo pipefail

prog=migrate.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=${KEFU_MIGRATIONS_DIR:-$here/migrations}
# Any constant shared by every runner; "kefu" + "mig" in ASCII.
lock_key=4919
quiet=0

usage() {
    cat <<EOF
Usage: $prog [--dir DIR] [--quiet] [--help]

Applies DIR/NNN_name.sql (default: deploy/migrations) in order to the
database named by KEFU_DATABASE_URL (a libpq URL or conninfo string), each
file in one transaction with its row in schema_migration(version, name,
applied_at). Already-applied versions are skipped; re-running is a no-op.
Prints each file it applies.

Environment:
  KEFU_DATABASE_URL     target database (required)
  KEFU_MIGRATIONS_DIR   same as --dir
EOF
}

while [[ $# -gt 0 ]]; do
    case $1 in
        --dir) [[ $# -ge 2 ]] || { echo "$prog: --dir needs a value" >&2; exit 2; }
               dir=$2; shift 2 ;;
        --dir=*) dir=${1#--dir=}; shift ;;
        -q|--quiet) quiet=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "$prog: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done

if [[ -z ${KEFU_DATABASE_URL:-} ]]; then
    echo "$prog: KEFU_DATABASE_URL is not set (e.g. postgresql://postgres@127.0.0.1:5544/kefu)" >&2
    exit 2
fi
if [[ ! -d $dir ]]; then
    echo "$prog: no migrations directory $dir" >&2
    exit 2
fi

if command -v psql >/dev/null 2>&1; then
    PSQL=psql
elif [[ -x /usr/lib/postgresql/15/bin/psql ]]; then
    PSQL=/usr/lib/postgresql/15/bin/psql
else
    echo "$prog: psql not found (apt-get install postgresql-client-15)" >&2
    exit 2
fi

say() { [[ $quiet == 1 ]] || echo "$prog: $*"; }

psql_run() {
    "$PSQL" -X -q -v ON_ERROR_STOP=1 --no-psqlrc -d "$KEFU_DATABASE_URL" "$@"
}

# Collect the files in byte order and check their names and versions.
shopt -s nullglob
files=()
while IFS= read -r f; do files+=("$f"); done < <(
    for f in "$dir"/*.sql; do printf '%s\n' "$f"; done | LC_ALL=C sort)
shopt -u nullglob

declare -A seen=()
for f in "${files[@]}"; do
    base=$(basename "$f")
    if [[ ! $base =~ ^([0-9]+)_([A-Za-z0-9_.-]+)\.sql$ ]]; then
        echo "$prog: $base: name must be NNN_name.sql" >&2
        exit 2
    fi
    v=${BASH_REMATCH[1]}
    if [[ -n ${seen[$v]:-} ]]; then
        echo "$prog: version $v used twice: ${seen[$v]} and $base" >&2
        exit 2
    fi
    seen[$v]=$base
done

# The bookkeeping table, created under the same lock as the migrations.
if ! psql_run >/dev/null <<SQL
SET client_min_messages = warning;
BEGIN;
SELECT pg_advisory_xact_lock($lock_key);
CREATE TABLE IF NOT EXISTS schema_migration (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
COMMIT;
SQL
then
    echo "$prog: cannot prepare schema_migration in $(printf '%s' "$KEFU_DATABASE_URL" | sed -E 's#//([^:@/]*):[^@/]*@#//\1:***@#')" >&2
    exit 1
fi

applied=0
skipped=0
for f in "${files[@]}"; do
    base=$(basename "$f")
    [[ $base =~ ^([0-9]+)_(.*)\.sql$ ]]
    v=${BASH_REMATCH[1]}
    name=${BASH_REMATCH[2]}
    # Cheap check outside the lock; the authoritative one is inside it.
    if [[ $(psql_run -At -v v="$v" <<<"SELECT count(*) FROM schema_migration WHERE version = :'v';") != 0 ]]; then
        skipped=$((skipped + 1))
        continue
    fi
    # One transaction: lock, re-check, the file, its row. psql's \if skips the
    # file when another runner applied it while we waited for the lock.
    # psql runs in the file's directory so that \i needs no quoting.
    out=$(cd "$(dirname "$f")" &&
          psql_run -At -v v="$v" -v n="$name" -v f="$base" -v lk="$lock_key" 2>&1 <<'SQL'
BEGIN;
SELECT pg_advisory_xact_lock(:lk) \g /dev/null
SELECT count(*) > 0 AS already FROM schema_migration WHERE version = :'v' \gset
\if :already
ROLLBACK;
\echo KEFU_MIGRATE_SKIPPED
\else
\i :f
INSERT INTO schema_migration(version, name) VALUES (:'v', :'n');
COMMIT;
\echo KEFU_MIGRATE_APPLIED
\endif
SQL
    ) || {
        printf '%s\n' "$out" >&2
        echo "$prog: $base failed; nothing of it was applied" >&2
        exit 1
    }
    case $out in
        *KEFU_MIGRATE_APPLIED*) say "applied $base"; applied=$((applied + 1)) ;;
        *KEFU_MIGRATE_SKIPPED*) skipped=$((skipped + 1)) ;;
        *) printf '%s\n' "$out" >&2
           echo "$prog: $base: unexpected psql output" >&2; exit 1 ;;
    esac
    # Notices and warnings from the file are worth showing.
    grep -v -E '^KEFU_MIGRATE_(APPLIED|SKIPPED)$' <<<"$out" | sed '/^$/d' >&2 || true
done

if [[ $applied == 0 ]]; then
    say "up to date ($skipped migration(s) already applied)"
else
    say "$applied applied, $skipped already present"
fi
