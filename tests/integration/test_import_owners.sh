#!/usr/bin/env bash
# kefu-admin import-owners (deploy/ORG-FORMAT.md) against a real store:
#  1. 100,000 generated owner rows on the demo organisation's units, eight of them
#     bad in different ways: each bad row is reported with its line and reason, the
#     others are loaded (phones normalised, Chinese segments mapped, quoting kept);
#     the time is reported, not asserted;
#  2. the same file again changes nothing;
#  3. a phone the store knows under another name is rejected, or with
#     --replace-names takes the file's name;
#  4. a bad header refuses the whole file.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init import_owners
it_pg_start
csv=$IT_DIR/owners.csv
rows=100000

# Row i (line i + 2) owns unit i mod 864 of the demo organisation: 2 projects x
# 6 buildings x 18 floors x 4 units. Every third phone is written as people type it.
awk -v n=$rows 'BEGIN {
    printf "name,phone,project,building,unit,segment,lang\r\n"
    split("first-home upgrade investor high-end retirement 刚需 改善 投资 高端 养老", seg, " ")
    for (i = 0; i < n; i++) {
        u = i % 864
        project = u < 432 ? "HZ-XH" : "SH-PD"; u = u % 432
        building = int(u / 72) + 1; u = u % 72
        unit = (int(u / 4) + 1) * 100 + u % 4 + 1
        phone = sprintf("139%08d", i)
        if (i % 3 == 0) phone = sprintf("+86 139-%04d-%04d", int(i / 10000), i % 10000)
        printf "业主%d,%s,%s,%d,%d,%s,%s\r\n", i, phone, project, building, unit, seg[i % 10 + 1], i % 7 == 0 ? "en" : ""
    }
}' >"$csv"
# The bad rows (file line numbers), and two good but unusual ones.
sed -i -e '1001s/^\([^,]*\),[^,]*,/\1,139 0000 100O,/' \
       -e '2001s/^\([^,]*,[^,]*,[^,]*,[^,]*\),[^,]*,/\1,9999,/' \
       -e '3001s/^\([^,]*,[^,]*\),[^,]*,/\1,NOPE,/' \
       -e '4001s/^\([^,]*,[^,]*,[^,]*,[^,]*,[^,]*\),[^,]*,/\1,rich,/' \
       -e '6001s/^[^,]*/\xd6\xd0\xce\xc4/' \
       -e '7001s/^[^,]*/Li "Lee"/' \
       -e '8001s/,[^,]*\r$/\r/' \
       -e '9001s/^[^,]*/"Wang, ""Jr"""/' "$csv"
# Line 5001: the phone of line 5000 with another name. Line 11001: the phone and
# name of line 11000 on another unit (an owner of two units): good.
phone5000=$(sed -n '5000p' "$csv" | cut -d, -f2)
sed -i "5001s/^\([^,]*\),[^,]*,/\1,$phone5000,/" "$csv"
line11000=$(sed -n '11000p' "$csv")
sed -i "11001s/^[^,]*,[^,]*,/$(cut -d, -f1,2 <<<"$line11000"),/" "$csv"
[[ $(wc -l <"$csv") == $((rows + 1)) ]] || it_fail "the generated file has $(wc -l <"$csv") lines"

# ---- 1. load ----------------------------------------------------------------------
t0=${EPOCHREALTIME/./}
rc=0
kefu-admin import-owners --json "$csv" >"$IT_DIR/load.json" 2>"$IT_DIR/load.err" || rc=$?
ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
[[ $rc == 5 ]] || it_fail "import-owners exited $rc, expected 5 (loaded with rejects): $(tail -n 5 "$IT_DIR/load.err")"
it_note "100,000 owner rows: ${ms} ms wall ($(jq -r .elapsed_ms "$IT_DIR/load.json") ms in kefu; load average $(cut -d' ' -f1 /proc/loadavg))"
got=$(jq -c '[.rows, .loaded, .rejected, .owners.created, .owners.changed, .units_linked]' "$IT_DIR/load.json")
[[ $got == "[100000,99992,8,99991,0,99992]" ]] ||
    it_fail "rows, loaded, rejected, created, changed, linked: $got"
rejects=$(jq -r '.rejects[] | "\(.line) \(.code) \(.place)"' "$IT_DIR/load.json" | tr '\n' ';')
want="1001 bad_phone phone;2001 unknown_unit unit;3001 unknown_project project;4001 bad_segment segment;5001 phone_conflict name;6001 bad_csv ;7001 bad_csv ;8001 bad_csv ;"
[[ $rejects == "$want" ]] || it_fail "rejected lines and reasons: $rejects; expected $want"
# The same, for people, on stderr.
grep -qxF "$csv: line 5001: name: the same phone is on line 5000 with another name" "$IT_DIR/load.err" &&
grep -qxF "$csv: line 6001: field 1 is not valid UTF-8 (save the file as UTF-8, not GBK)" "$IT_DIR/load.err" &&
grep -qxF "$csv: line 8001: has 6 fields; the header has 7" "$IT_DIR/load.err" &&
grep -qxF "$csv: line 2001: unit: project HZ-XH has no unit 9999 in building 4" "$IT_DIR/load.err" ||
    it_fail "the rejects on stderr are not as expected: $(head -n 10 "$IT_DIR/load.err")"

[[ $(it_psql "SELECT count(*) FROM homeowner") == 99991 ]] || it_fail "homeowner count is not 99991"
[[ $(it_psql "SELECT count(*) FROM homeowner_unit") == 99992 ]] || it_fail "homeowner_unit count is not 99992"
# Phones normalised in C (+86 and separators gone), Chinese segments mapped, quoting kept.
[[ $(it_psql "SELECT name || '|' || segment || '|' || lang FROM homeowner WHERE phone = '13900000000'") == "业主0|first-home|en" ]] ||
    it_fail "the '+86 139-0000-0000' row is not stored as 13900000000"
[[ $(it_psql "SELECT segment FROM homeowner WHERE phone = '13900000005'") == first-home ]] ||
    it_fail "刚需 was not stored as first-home"
[[ $(it_psql "SELECT name FROM homeowner WHERE phone = '13900008999'") == 'Wang, "Jr"' ]] ||
    it_fail "a quoted name with a comma and quotes was not kept"
[[ $(it_psql "SELECT count(*) FROM homeowner h JOIN homeowner_unit l ON l.homeowner_id = h.id WHERE h.name = '业主10998'") == 2 ]] ||
    it_fail "the owner of two units does not have two units"
[[ $(it_psql "SELECT count(*) FROM homeowner WHERE phone !~ '^[0-9]{5,15}\$'") == 0 ]] ||
    it_fail "a phone is not normalised"
segments=$(it_psql "SELECT segment, count(*) FROM homeowner GROUP BY 1 ORDER BY 1" | tr '\n' ' ')
[[ $segments == "first-home|20000 high-end|20000 investor|20000 retirement|19991 upgrade|20000 " ]] ||
    it_fail "segments: $segments"
[[ $(it_psql "SELECT (counts->>'created')::int FROM import_run WHERE kind = 'owners'") == 99991 ]] ||
    it_fail "the run is not in import_run"

# ---- 2. the same file again: nothing changes ------------------------------------------
versions() { it_psql "SELECT md5(string_agg(id::text || ':' || xmin::text, ',' ORDER BY id)) FROM homeowner"; }
before=$(versions)
rc=0
kefu-admin import-owners --json "$csv" >"$IT_DIR/again.json" 2>/dev/null || rc=$?
[[ $rc == 5 && $(jq -c '[.rejected, .owners.created, .owners.changed, .units_linked, .run]' "$IT_DIR/again.json") == "[8,0,0,0,null]" ]] ||
    it_fail "a re-run ($rc) reported $(jq -c . "$IT_DIR/again.json")"
[[ $(versions) == "$before" ]] || it_fail "a re-run rewrote owner rows"
[[ $(it_psql "SELECT count(*) FROM import_run WHERE kind = 'owners'") == 1 ]] || it_fail "a no-change run left an import_run row"

# ---- 3. a known phone under another name ------------------------------------------------
printf 'phone,name,project,building,unit,segment\n13900000001,王小明,HZ-XH,1,102,改善\n' >"$IT_DIR/rename.csv"
rc=0
err=$(kefu-admin import-owners "$IT_DIR/rename.csv" 2>&1) || rc=$?
[[ $rc == 1 ]] && grep -q "line 2: name: the store knows this phone under another name" <<<"$err" ||
    it_fail "a name conflict with the store ($rc): $err"
[[ $(it_psql "SELECT name FROM homeowner WHERE phone = '13900000001'") == 业主1 ]] || it_fail "a refused rename was applied"
out=$(kefu-admin import-owners --replace-names --json "$IT_DIR/rename.csv") || it_fail "--replace-names failed: $out"
[[ $(jq -c '[.owners.created, .owners.changed]' <<<"$out") == "[0,1]" ]] || it_fail "--replace-names: $out"
[[ $(it_psql "SELECT name || ' ' || segment FROM homeowner WHERE phone = '13900000001'") == "王小明 upgrade" ]] ||
    it_fail "--replace-names did not take the file's name and segment"

# ---- 4. a bad header refuses the file ------------------------------------------------------
printf 'name,phone,project,building,unit,segmnt\nA,13800000001,HZ-XH,1,101,刚需\n' >"$IT_DIR/header.csv"
rc=0
err=$(kefu-admin import-owners "$IT_DIR/header.csv" 2>&1) || rc=$?
[[ $rc == 1 ]] && grep -q "line 1: header: unknown column 'segmnt'" <<<"$err" &&
    grep -q "line 1: header: the required column segment is missing" <<<"$err" ||
    it_fail "a bad header ($rc): $err"
[[ $(it_psql "SELECT count(*) FROM homeowner WHERE phone = '13800000001'") == 0 ]] || it_fail "a refused file was loaded"
rc=0
err=$(kefu-admin import-owners "$IT_DIR/nonexistent.csv" 2>&1) || rc=$?
[[ $rc == 2 ]] && grep -q "cannot open" <<<"$err" || it_fail "a missing file ($rc): $err"
it_note "all owner import checks passed"
