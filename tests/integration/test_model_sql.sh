#!/usr/bin/env bash
# The store's CHECK lists agree with the wire model (issue 12, item 1): every
# column whose CHECK lists the values it accepts (ticket.kind, staff.role,
# approval_step.status ...) accepts exactly the values of the enumeration
# proto/model.json maps it to, and no such list is outside the model.
# Against a store migrated as in production (deploy/migrate.sh); model_sql.py
# compares. KEFU_MODEL=FILE checks another model file (to see it fail). Also:
# ticket numbers are formatted by one SQL function, kefu_ticket_no (item 4).
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/lib.sh"

it_init model_sql
it_pg_start
model=${KEFU_MODEL:-$KEFU_SOURCE_DIR/proto/model.json}
it_psql "SELECT c.conrelid::regclass::text || E'\t' || pg_get_constraintdef(c.oid)
           FROM pg_constraint c
          WHERE c.contype = 'c' AND c.connamespace = 'public'::regnamespace
          ORDER BY 1" >"$IT_DIR/constraints.txt"
it_note "$(wc -l <"$IT_DIR/constraints.txt") CHECK constraints in the store"
python3 "$here/model_sql.py" "$model" "$IT_DIR/constraints.txt" ||
    it_fail "the store's CHECK lists disagree with $model (above)"
# One SQL function makes ticket numbers (item 4): no other function of the
# migrated store formats one.
makers=$(it_psql "SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc
                   WHERE pronamespace = 'public'::regnamespace AND prosrc LIKE '%''KF-%'")
[[ $makers == kefu_ticket_no ]] ||
    it_fail "ticket numbers are formatted by: $makers (expected kefu_ticket_no alone)"
# six digits at least, and a longer id never cut (it would repeat a number)
nos=$(it_psql "SELECT kefu_ticket_no(42, '2026-06-01 12:00+08') || ' ' ||
                      kefu_ticket_no(1234567, '2026-06-01 12:00+08')")
[[ $nos == "KF-2026-000042 KF-2026-1234567" ]] || it_fail "ticket numbers read: $nos"
it_note "PASS"
