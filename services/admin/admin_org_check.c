/* kefu-admin — checking an organisation file (deploy/ORG-FORMAT.md). */
#include "admin_org.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_field.h"
#include "catalog.h"
#include "phone.h"

#define ORG_TEXT_MAX 200 /* bytes of a name, Chinese name, city or note */
#define ORG_FLOORS_MAX 200
#define ORG_UNITS_PER_FLOOR_MAX 99 /* unit numbers are floor * 100 + n */
#define ORG_SECS_MAX 2147483647LL  /* the store's integer */
#define ORG_STAGES_MAX 20          /* stages of a policy, steps of a stage (012) */
#define ORG_YUAN_DIGITS 13         /* digits of whole yuan: fen stay far inside bigint */

/* One state of the organisation, as the checks need it: maps from id to
   a small object. "place" is the file's place of a row the file lists. */
typedef struct {
    json_t *departments; /* id -> {head, place} */
    json_t *staff;       /* id -> {department, manager, active, place} */
    json_t *projects;    /* id -> {gm, place} */
    json_t *rules;       /* kind|category|project -> {department, owner, place} */
} s_view_t;

struct org {
    s_view_t before; /* the store */
    s_view_t after;  /* the store with the file applied */
    json_t *setting; /* the store's approval setting: {admin, service_centre} */
    json_t *refs;    /* the file's approver references: [{place, staff | head, fallback?}] */
    json_t *plan;
};

static void s_view_init(s_view_t *view)
{
    view->departments = json_object();
    view->staff = json_object();
    view->projects = json_object();
    view->rules = json_object();
}

static void s_view_free(s_view_t *view)
{
    json_decref(view->departments);
    json_decref(view->staff);
    json_decref(view->projects);
    json_decref(view->rules);
}

org_t *org_new(void)
{
    org_t *self = (org_t *)calloc(1, sizeof *self);
    s_view_init(&self->before);
    s_view_init(&self->after);
    self->setting = json_object();
    self->refs = json_array();
    self->plan = json_object();
    return self;
}

void org_destroy(org_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    org_t *self = *self_p;
    s_view_free(&self->before);
    s_view_free(&self->after);
    json_decref(self->setting);
    json_decref(self->refs);
    json_decref(self->plan);
    free(self);
    *self_p = NULL;
}

/* A JSON string, or null for NULL. */
static json_t *s_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* The string at key of obj, or NULL when absent or null. */
static const char *s_text(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* The key of a routing rule in the rules map. */
static void s_rule_key(const char *kind, const char *category, const char *project, char *out,
                       size_t size)
{
    snprintf(out, size, "%s|%s|%s", kind ? kind : "*", category ? category : "*",
             project ? project : "*");
}

void org_store_department(org_t *self, const char *id, const char *head)
{
    json_object_set_new(self->before.departments, id,
                        json_pack("{s:o}", "head", s_str_or_null(head)));
}

void org_store_staff(org_t *self, const char *id, const char *department, const char *manager,
                     bool active)
{
    json_object_set_new(self->before.staff, id,
                        json_pack("{s:s, s:o, s:b}", "department", department, "manager",
                                  s_str_or_null(manager), "active", active));
}

void org_store_extension(org_t *self, const char *id, const char *extension)
{
    json_t *staff = json_object_get(self->before.staff, id);
    if (staff && extension)
        json_object_set_new(staff, "extension", json_string(extension));
}

void org_store_project(org_t *self, const char *id, const char *gm)
{
    json_object_set_new(self->before.projects, id, json_pack("{s:o}", "gm", s_str_or_null(gm)));
}

void org_store_rule(org_t *self, const char *kind, const char *category, const char *project,
                    const char *department, const char *owner)
{
    char key[128];
    s_rule_key(kind, category, project, key, sizeof key);
    json_object_set_new(
        self->before.rules, key,
        json_pack("{s:s, s:o}", "department", department, "owner", s_str_or_null(owner)));
}

void org_store_setting(org_t *self, const char *admin, const char *service_centre)
{
    json_object_set_new(self->setting, "admin", s_str_or_null(admin));
    json_object_set_new(self->setting, "service_centre", s_str_or_null(service_centre));
}

json_t *org_plan(org_t *self)
{
    return self->plan;
}

/* ---- shape of the file ---------------------------------------------------- */

/* The checks of one run: the problems and the place being looked at. */
typedef struct {
    adm_problems_t *problems;
    org_t *org;
} s_run_t;

/* Reports keys of obj that are not in allowed ("comment" always is). */
static void s_keys(s_run_t *run, const json_t *obj, const char *place, const char *const *allowed)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        if (strcmp(key, "comment") == 0 || adm_in(allowed, key))
            continue;
        char list[256] = "";
        for (size_t i = 0; allowed[i]; i++) {
            size_t used = strlen(list);
            snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", allowed[i]);
        }
        adm_problem(run->problems, 0, place, "unknown_key", "unknown key '%s' (known: %s)", key,
                    list);
    }
}

/* The string at obj.key: NULL when absent or null (reported when
   required), or when not a string (reported). */
static const char *s_string(s_run_t *run, const json_t *obj, const char *key, const char *base,
                            bool required)
{
    char place[256];
    snprintf(place, sizeof place, "%s.%s", base, key);
    json_t *value = json_object_get(obj, key);
    if (!value || json_is_null(value)) {
        if (required)
            adm_problem(run->problems, 0, place, "missing", "is required");
        return NULL;
    }
    if (!json_is_string(value)) {
        adm_problem(run->problems, 0, place, "wrong_type", "must be a string");
        return NULL;
    }
    return json_string_value(value);
}

/* A text field people wrote; NULL when absent or bad (reported). */
static const char *s_words(s_run_t *run, const json_t *obj, const char *key, const char *base,
                           bool required)
{
    const char *s = s_string(run, obj, key, base, required);
    if (s && !adm_is_text(s, ORG_TEXT_MAX)) {
        char place[256];
        snprintf(place, sizeof place, "%s.%s", base, key);
        adm_problem(run->problems, 0, place, "bad_value",
                    "must be 1 to %d bytes of text without control characters, not blank",
                    ORG_TEXT_MAX);
        return NULL;
    }
    return s;
}

/* An identifier checked by valid(); NULL when absent or bad (reported). */
static const char *s_ident(s_run_t *run, const json_t *obj, const char *key, const char *base,
                           bool required, bool (*valid)(const char *), const char *what)
{
    const char *s = s_string(run, obj, key, base, required);
    if (s && !valid(s)) {
        char place[256];
        snprintf(place, sizeof place, "%s.%s", base, key);
        adm_problem(run->problems, 0, place, "bad_value", "'%.80s' is not %s", s, what);
        return NULL;
    }
    return s;
}

/* One of names; NULL when absent or not one of them (reported). */
static const char *s_enum(s_run_t *run, const json_t *obj, const char *key, const char *base,
                          bool required, const char *const *names)
{
    const char *s = s_string(run, obj, key, base, required);
    if (s && !adm_in(names, s)) {
        char place[256], list[256] = "";
        snprintf(place, sizeof place, "%s.%s", base, key);
        for (size_t i = 0; names[i]; i++) {
            size_t used = strlen(list);
            snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
        }
        adm_problem(run->problems, 0, place, "bad_value", "'%.80s' is not one of: %s", s, list);
        return NULL;
    }
    return s;
}

/* A whole number in [min, max] at value; -1 when not (reported). */
static int s_int_value(s_run_t *run, const json_t *value, const char *place, long long min,
                       long long max, long long *out)
{
    if (!json_is_integer(value)) {
        adm_problem(run->problems, 0, place, "wrong_type", "must be a whole number");
        return -1;
    }
    long long n = json_integer_value(value);
    if (n < min || n > max) {
        adm_problem(run->problems, 0, place, "bad_value", "%lld is not in %lld..%lld", n, min, max);
        return -1;
    }
    *out = n;
    return 0;
}

/* The array at root.key: NULL when absent or null; reported when not an
   array. */
static json_t *s_array(s_run_t *run, const json_t *root, const char *key)
{
    json_t *value = json_object_get(root, key);
    if (!value || json_is_null(value))
        return NULL;
    if (!json_is_array(value)) {
        char place[64];
        snprintf(place, sizeof place, "$.%s", key);
        adm_problem(run->problems, 0, place, "wrong_type", "must be an array");
        return NULL;
    }
    return value;
}

/* Element i of a list as an object; NULL when not one (reported). */
static json_t *s_element(s_run_t *run, json_t *list, size_t i, const char *place)
{
    json_t *item = json_array_get(list, i);
    if (!json_is_object(item)) {
        adm_problem(run->problems, 0, place, "wrong_type", "must be an object");
        return NULL;
    }
    return item;
}

/* ---- departments, staff, projects ------------------------------------------ */

static void s_departments(s_run_t *run, json_t *root)
{
    static const char *const keys[] = {"id", "name", "name_zh", "head", NULL};
    json_t *list = s_array(run, root, "departments");
    json_t *out = json_array();
    json_object_set_new(run->org->plan, "departments", out);
    for (size_t i = 0; list && i < json_array_size(list); i++) {
        char base[64];
        snprintf(base, sizeof base, "$.departments[%zu]", i);
        json_t *d = s_element(run, list, i, base);
        if (!d)
            continue;
        s_keys(run, d, base, keys);
        const char *id = s_ident(run, d, "id", base, true, adm_is_department_id,
                                 "a department id (a-z, 0-9, '-'; up to 32, starting a-z)");
        const char *name = s_words(run, d, "name", base, true);
        const char *name_zh = s_words(run, d, "name_zh", base, true);
        const char *head = s_ident(run, d, "head", base, false, adm_is_staff_id, "a staff id");
        if (!id)
            continue;
        json_t *seen = json_object_get(run->org->after.departments, id);
        if (seen && s_text(seen, "place")) {
            char place[96];
            snprintf(place, sizeof place, "%s.id", base);
            adm_problem(run->problems, 0, place, "duplicate", "%s is listed already at %s", id,
                        s_text(seen, "place"));
            continue;
        }
        json_object_set_new(run->org->after.departments, id,
                            json_pack("{s:o, s:s}", "head", s_str_or_null(head), "place", base));
        json_array_append_new(out, json_pack("{s:s, s:o, s:o, s:o}", "id", id, "name",
                                             s_str_or_null(name), "name_zh", s_str_or_null(name_zh),
                                             "head", s_str_or_null(head)));
    }
}

/* A staff member's optional phone extension (CTI): 2-16 digits, not one
   an earlier staff member of the file has (seen maps each to its place
   and staff id).
   Returns it, or NULL when absent or refused (reported). */
static const char *s_extension(s_run_t *run, const json_t *s, const char *id, const char *base,
                               json_t *seen)
{
    const char *extension = s_string(run, s, "extension", base, false);
    size_t n = extension ? strlen(extension) : 0;
    char place[96];
    snprintf(place, sizeof place, "%s.extension", base);
    if (extension && (n < 2 || n > 16 || strspn(extension, "0123456789") != n)) {
        adm_problem(run->problems, 0, place, "bad_value",
                    "'%.40s' is not a phone extension (2 to 16 digits)", extension);
        return NULL;
    }
    const json_t *other = extension ? json_object_get(seen, extension) : NULL;
    if (other) {
        adm_problem(run->problems, 0, place, "duplicate", "extension %s is listed already at %s",
                    extension, s_text(other, "place"));
        return NULL;
    }
    if (extension && id)
        json_object_set_new(seen, extension, json_pack("{s:s, s:s}", "place", base, "staff", id));
    return extension;
}

/* Refuses the extensions of the file (seen) that staff members of the
   store keep: those the file does not list (their rows stay as they are). */
static void s_extensions_kept(s_run_t *run, const json_t *seen)
{
    const char *id;
    json_t *before;
    json_object_foreach(run->org->before.staff, id, before)
    {
        const char *extension = s_text(before, "extension");
        const json_t *file = extension ? json_object_get(seen, extension) : NULL;
        if (!file || strcmp(s_text(file, "staff"), id) == 0 ||
            s_text(json_object_get(run->org->after.staff, id), "place"))
            continue;
        char place[96];
        snprintf(place, sizeof place, "%s.extension", s_text(file, "place"));
        adm_problem(run->problems, 0, place, "duplicate",
                    "extension %s is %s's in the store, who is not in this file", extension, id);
    }
}

static void s_staff(s_run_t *run, json_t *root)
{
    static const char *const keys[] = {"id",      "name",      "department", "role",
                                       "manager", "email",     "phone",      "lang",
                                       "active",  "extension", NULL};
    json_t *list = s_array(run, root, "staff");
    json_t *out = json_array();
    json_t *extensions = json_object(); /* extension -> the place that has it */
    json_object_set_new(run->org->plan, "staff", out);
    for (size_t i = 0; list && i < json_array_size(list); i++) {
        char base[64], place[96];
        snprintf(base, sizeof base, "$.staff[%zu]", i);
        json_t *s = s_element(run, list, i, base);
        if (!s)
            continue;
        s_keys(run, s, base, keys);
        const char *id = s_ident(run, s, "id", base, true, adm_is_staff_id,
                                 "a staff id (a-z, 0-9, '.', '_', '-'; up to 64, starting a-z)");
        const char *name = s_words(run, s, "name", base, true);
        const char *department =
            s_ident(run, s, "department", base, true, adm_is_department_id, "a department id");
        const char *role = s_enum(run, s, "role", base, true, kf_roles);
        const char *manager =
            s_ident(run, s, "manager", base, false, adm_is_staff_id, "a staff id");
        const char *email = s_string(run, s, "email", base, false);
        if (email && !adm_is_email(email)) {
            snprintf(place, sizeof place, "%s.email", base);
            adm_problem(run->problems, 0, place, "bad_value", "'%.80s' is not an e-mail address",
                        email);
        }
        const char *raw_phone = s_string(run, s, "phone", base, false);
        char phone[KF_PHONE_MAX] = "";
        if (raw_phone && kf_phone_normalise(raw_phone, phone) != 0) {
            snprintf(place, sizeof place, "%s.phone", base);
            adm_problem(run->problems, 0, place, "bad_phone",
                        "'%.40s' is not a phone number (" KF_PHONE_RULE ")", raw_phone);
        }
        const char *lang = s_enum(run, s, "lang", base, false, kf_langs);
        const char *extension = s_extension(run, s, id, base, extensions);
        json_t *active_json = json_object_get(s, "active");
        bool active = true;
        if (active_json && !json_is_boolean(active_json)) {
            snprintf(place, sizeof place, "%s.active", base);
            adm_problem(run->problems, 0, place, "wrong_type", "must be true or false");
        } else if (active_json) {
            active = json_is_true(active_json);
        }
        if (manager && id && strcmp(manager, id) == 0) {
            snprintf(place, sizeof place, "%s.manager", base);
            adm_problem(run->problems, 0, place, "bad_value", "%s cannot be their own manager", id);
            manager = NULL;
        }
        if (!id)
            continue;
        json_t *seen = json_object_get(run->org->after.staff, id);
        if (seen && s_text(seen, "place")) {
            snprintf(place, sizeof place, "%s.id", base);
            adm_problem(run->problems, 0, place, "duplicate", "%s is listed already at %s", id,
                        s_text(seen, "place"));
            continue;
        }
        json_object_set_new(run->org->after.staff, id,
                            json_pack("{s:o, s:o, s:b, s:s}", "department",
                                      s_str_or_null(department), "manager", s_str_or_null(manager),
                                      "active", active, "place", base));
        json_array_append_new(
            out,
            json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:b, s:o}", "id", id, "name",
                      s_str_or_null(name), "department", s_str_or_null(department), "role",
                      s_str_or_null(role), "manager", s_str_or_null(manager), "email",
                      s_str_or_null(email), "phone", s_str_or_null(phone[0] ? phone : NULL), "lang",
                      lang ? lang : "zh", "active", active, "extension", s_str_or_null(extension)));
    }
    s_extensions_kept(run, extensions);
    json_decref(extensions);
}

/* Adds unit number unit of a building to the plan, unless listed already
   in this building (reported at place). */
static void s_unit(s_run_t *run, json_t *seen, json_t *units, const char *project, const char *code,
                   const char *unit, const char *place)
{
    if (json_object_get(seen, unit)) {
        adm_problem(run->problems, 0, place, "duplicate", "unit %s is listed twice in building %s",
                    unit, code);
        return;
    }
    json_object_set_new(seen, unit, json_true());
    json_array_append_new(
        units, json_pack("{s:s, s:s, s:s}", "project", project, "building", code, "unit", unit));
}

/* The building codes of building entry b (at base): code, or codes for
   several built alike; a new array of {code, place}. */
static json_t *s_building_codes(s_run_t *run, json_t *b, const char *base)
{
    char place[160];
    json_t *codes = json_array();
    json_t *code = json_object_get(b, "code"), *list = json_object_get(b, "codes");
    if ((code && !json_is_null(code)) == (list && !json_is_null(list))) {
        adm_problem(run->problems, 0, base, "missing", "give exactly one of code and codes");
    } else if (code && !json_is_null(code)) {
        const char *c = s_ident(run, b, "code", base, true, adm_is_building_code,
                                "a building code (1-16 letters, digits or '-')");
        if (c)
            json_array_append_new(codes, json_pack("{s:s, s:s}", "code", c, "place", base));
    } else if (!json_is_array(list) || json_array_size(list) == 0) {
        snprintf(place, sizeof place, "%s.codes", base);
        adm_problem(run->problems, 0, place, "wrong_type",
                    "must be a non-empty array of building codes");
    } else {
        for (size_t i = 0; i < json_array_size(list); i++) {
            snprintf(place, sizeof place, "%s.codes[%zu]", base, i);
            const char *c = json_string_value(json_array_get(list, i));
            if (!c || !adm_is_building_code(c))
                adm_problem(run->problems, 0, place, "bad_value",
                            "%s%.40s%s is not a building code (1-16 letters, digits or '-')",
                            c ? "'" : "", c ? c : "this", c ? "'" : "");
            else
                json_array_append_new(codes, json_pack("{s:s, s:s}", "code", c, "place", place));
        }
    }
    return codes;
}

/* The floors of building entry b: floors N (1..N) or [from, to], with
   units_per_floor, and the skip_floors. */
typedef struct {
    long long from, to, per_floor; /* to < from: no floors */
    json_t *skipped;               /* {"FLOOR": true} */
} s_floors_t;

/* Reads floors and units_per_floor of b (at base) into fl. */
static void s_building_floors(s_run_t *run, json_t *b, const char *base, s_floors_t *fl)
{
    char place[160];
    long long from = 0, to = -1, per_floor = 0;
    json_t *floors = json_object_get(b, "floors");
    json_t *per = json_object_get(b, "units_per_floor");
    bool has_floors = floors && !json_is_null(floors);
    snprintf(place, sizeof place, "%s.floors", base);
    if (has_floors && json_is_array(floors)) {
        long long a = 0, z = 0;
        if (json_array_size(floors) != 2) {
            adm_problem(run->problems, 0, place, "bad_value",
                        "must be a number of floors or [first, last]");
        } else {
            char inner[192];
            snprintf(inner, sizeof inner, "%s[0]", place);
            int ok = s_int_value(run, json_array_get(floors, 0), inner, 1, ORG_FLOORS_MAX, &a);
            snprintf(inner, sizeof inner, "%s[1]", place);
            ok |= s_int_value(run, json_array_get(floors, 1), inner, 1, ORG_FLOORS_MAX, &z);
            if (ok == 0 && a > z)
                adm_problem(run->problems, 0, place, "bad_value",
                            "the first floor %lld is above the last %lld", a, z);
            else if (ok == 0) {
                from = a;
                to = z;
            }
        }
    } else if (has_floors) {
        long long n;
        if (s_int_value(run, floors, place, 1, ORG_FLOORS_MAX, &n) == 0) {
            from = 1;
            to = n;
        }
    }
    snprintf(place, sizeof place, "%s.units_per_floor", base);
    if (per && !json_is_null(per)) {
        if (!has_floors)
            adm_problem(run->problems, 0, place, "bad_value", "needs floors");
        else if (s_int_value(run, per, place, 1, ORG_UNITS_PER_FLOOR_MAX, &per_floor) != 0)
            to = -1;
    } else if (has_floors) {
        adm_problem(run->problems, 0, place, "missing", "is required with floors");
        to = -1;
    }
    fl->from = from;
    fl->to = to;
    fl->per_floor = per_floor;
}

/* Reads skip_floors of b (at base) into fl->skipped (a new object). */
static void s_building_skips(s_run_t *run, json_t *b, const char *base, s_floors_t *fl)
{
    char place[160];
    long long from = fl->from, to = fl->to;
    json_t *skip = json_object_get(b, "skip_floors");
    json_t *skipped = json_object();
    if (skip && !json_is_null(skip)) {
        snprintf(place, sizeof place, "%s.skip_floors", base);
        if (!json_is_array(skip))
            adm_problem(run->problems, 0, place, "wrong_type", "must be an array of floors");
        for (size_t i = 0; json_is_array(skip) && i < json_array_size(skip); i++) {
            char inner[192];
            long long f;
            snprintf(inner, sizeof inner, "%s[%zu]", place, i);
            if (s_int_value(run, json_array_get(skip, i), inner, from ? from : 1,
                            to >= from ? to : ORG_FLOORS_MAX, &f) == 0) {
                char key[16];
                snprintf(key, sizeof key, "%lld", f);
                json_object_set_new(skipped, key, json_true());
            }
        }
    }
    fl->skipped = skipped;
}

/* The units of building bcode (the c-th code of its entry at base): those
   of the floors, then the explicit ones (reported for the first code only). */
static void s_building_units(s_run_t *run, const char *project, const char *bcode, size_t c,
                             const char *base, const s_floors_t *fl, json_t *explicit)
{
    json_t *units = json_object_get(run->org->plan, "units");
    json_t *seen = json_object();
    char uplace[192];
    for (long long f = fl->from; fl->per_floor > 0 && f <= fl->to; f++) {
        char fkey[16];
        snprintf(fkey, sizeof fkey, "%lld", f);
        if (json_object_get(fl->skipped, fkey))
            continue;
        for (long long u = 1; u <= fl->per_floor; u++) {
            char unit[24];
            snprintf(unit, sizeof unit, "%lld", f * 100 + u);
            snprintf(uplace, sizeof uplace, "%s.floors", base);
            s_unit(run, seen, units, project, bcode, unit, uplace);
        }
    }
    for (size_t i = 0; explicit && i < json_array_size(explicit); i++) {
        snprintf(uplace, sizeof uplace, "%s.units[%zu]", base, i);
        json_t *v = json_array_get(explicit, i);
        const char *unit = json_string_value(v);
        if (!unit) {
            if (c == 0)
                adm_problem(run->problems, 0, uplace, "wrong_type",
                            "must be a unit number as a string, e.g. \"1201\"");
            continue;
        }
        if (!adm_is_unit_no(unit)) {
            if (c == 0)
                adm_problem(run->problems, 0, uplace, "bad_value",
                            "'%.40s' is not a unit number (1-16 letters, digits or '-', "
                            "with a digit)",
                            unit);
            continue;
        }
        if (c == 0 || !json_object_get(seen, unit))
            s_unit(run, seen, units, project, bcode, unit, uplace);
    }
    json_decref(seen);
}

/* The units of one building description: floors x units_per_floor and an
   explicit list, for each of its codes. */
static void s_building(s_run_t *run, const char *project, json_t *b, const char *base,
                       json_t *codes_seen)
{
    static const char *const keys[] = {"code",        "codes", "floors", "units_per_floor",
                                       "skip_floors", "units", NULL};
    char place[160];
    json_t *buildings = json_object_get(run->org->plan, "buildings");
    s_keys(run, b, base, keys);
    json_t *codes = s_building_codes(run, b, base);
    s_floors_t fl;
    s_building_floors(run, b, base, &fl);
    s_building_skips(run, b, base, &fl);
    json_t *explicit = json_object_get(b, "units");
    snprintf(place, sizeof place, "%s.units", base);
    if (explicit && !json_is_null(explicit) && !json_is_array(explicit)) {
        adm_problem(run->problems, 0, place, "wrong_type", "must be an array of unit numbers");
        explicit = NULL;
    }

    size_t ncodes = json_array_size(codes);
    for (size_t c = 0; c < ncodes; c++) {
        json_t *entry = json_array_get(codes, c);
        const char *bcode = s_text(entry, "code");
        char key[64];
        snprintf(key, sizeof key, "%s", bcode);
        json_t *dup = json_object_get(codes_seen, key);
        if (dup) {
            adm_problem(run->problems, 0, s_text(entry, "place"), "duplicate",
                        "building %s of %s is listed already at %s", bcode, project,
                        json_string_value(dup));
            continue;
        }
        json_object_set_new(codes_seen, key, json_string(s_text(entry, "place")));
        json_array_append_new(buildings,
                              json_pack("{s:s, s:s}", "project", project, "code", bcode));
        s_building_units(run, project, bcode, c, base, &fl, explicit);
    }
    json_decref(fl.skipped);
    json_decref(codes);
}

static void s_projects(s_run_t *run, json_t *root)
{
    static const char *const keys[] = {"id", "name", "city", "gm", "buildings", NULL};
    json_t *list = s_array(run, root, "projects");
    json_t *out = json_array();
    json_object_set_new(run->org->plan, "projects", out);
    json_object_set_new(run->org->plan, "buildings", json_array());
    json_object_set_new(run->org->plan, "units", json_array());
    for (size_t i = 0; list && i < json_array_size(list); i++) {
        char base[64], place[96];
        snprintf(base, sizeof base, "$.projects[%zu]", i);
        json_t *p = s_element(run, list, i, base);
        if (!p)
            continue;
        s_keys(run, p, base, keys);
        const char *id = s_ident(run, p, "id", base, true, adm_is_project_id,
                                 "a project code (letters, digits, '_', '-'; up to 32)");
        const char *name = s_words(run, p, "name", base, true);
        const char *city = s_words(run, p, "city", base, false);
        const char *gm = s_ident(run, p, "gm", base, false, adm_is_staff_id, "a staff id");
        if (!id)
            continue;
        json_t *seen = json_object_get(run->org->after.projects, id);
        if (seen && s_text(seen, "place")) {
            snprintf(place, sizeof place, "%s.id", base);
            adm_problem(run->problems, 0, place, "duplicate", "%s is listed already at %s", id,
                        s_text(seen, "place"));
            continue;
        }
        json_object_set_new(run->org->after.projects, id,
                            json_pack("{s:o, s:s}", "gm", s_str_or_null(gm), "place", base));
        json_array_append_new(out, json_pack("{s:s, s:o, s:o, s:o}", "id", id, "name",
                                             s_str_or_null(name), "city", s_str_or_null(city), "gm",
                                             s_str_or_null(gm)));
        json_t *buildings = json_object_get(p, "buildings");
        snprintf(place, sizeof place, "%s.buildings", base);
        if (buildings && !json_is_null(buildings) && !json_is_array(buildings)) {
            adm_problem(run->problems, 0, place, "wrong_type", "must be an array");
            continue;
        }
        json_t *codes_seen = json_object();
        for (size_t b = 0; buildings && b < json_array_size(buildings); b++) {
            char bbase[128];
            snprintf(bbase, sizeof bbase, "%s.buildings[%zu]", base, b);
            json_t *building = s_element(run, buildings, b, bbase);
            if (building)
                s_building(run, id, building, bbase, codes_seen);
        }
        json_decref(codes_seen);
    }
}

/* ---- routing rules and SLA policies ---------------------------------------- */

static void s_rules(s_run_t *run, json_t *root)
{
    static const char *const keys[] = {"kind",  "category", "project", "department",
                                       "owner", "note",     NULL};
    json_t *list = s_array(run, root, "routing_rules");
    json_t *out = json_array();
    json_object_set_new(run->org->plan, "routing_rules", out);
    for (size_t i = 0; list && i < json_array_size(list); i++) {
        char base[64];
        snprintf(base, sizeof base, "$.routing_rules[%zu]", i);
        json_t *r = s_element(run, list, i, base);
        if (!r)
            continue;
        s_keys(run, r, base, keys);
        size_t before = run->problems->total;
        const char *kind = s_enum(run, r, "kind", base, false, kf_kinds);
        const char *category = s_enum(run, r, "category", base, false, kf_categories);
        const char *project =
            s_ident(run, r, "project", base, false, adm_is_project_id, "a project code");
        const char *department =
            s_ident(run, r, "department", base, true, adm_is_department_id, "a department id");
        const char *owner = s_ident(run, r, "owner", base, false, adm_is_staff_id, "a staff id");
        const char *note = s_words(run, r, "note", base, false);
        if (run->problems->total != before)
            continue; /* a rule half understood would be checked against the wrong key */
        char key[128];
        s_rule_key(kind, category, project, key, sizeof key);
        json_t *seen = json_object_get(run->org->after.rules, key);
        if (seen && s_text(seen, "place")) {
            adm_problem(run->problems, 0, base, "duplicate",
                        "a rule for kind %s, category %s, project %s is listed already at %s",
                        kind ? kind : "any", category ? category : "any", project ? project : "any",
                        s_text(seen, "place"));
            continue;
        }
        json_object_set_new(run->org->after.rules, key,
                            json_pack("{s:s, s:o, s:o, s:s}", "department", department, "owner",
                                      s_str_or_null(owner), "project", s_str_or_null(project),
                                      "place", base));
        json_array_append_new(
            out, json_pack("{s:i, s:o, s:o, s:o, s:s, s:o, s:o}", "ord", (int)i, "kind",
                           s_str_or_null(kind), "category", s_str_or_null(category), "project",
                           s_str_or_null(project), "department", department, "owner",
                           s_str_or_null(owner), "note", s_str_or_null(note)));
    }
}

static void s_slas(s_run_t *run, json_t *root)
{
    static const char *const keys[] = {"kind",         "priority",      "first_response_secs",
                                       "resolve_secs", "escalate_secs", NULL};
    static const char *const secs[] = {"first_response_secs", "resolve_secs", "escalate_secs"};
    json_t *list = s_array(run, root, "sla_policies");
    json_t *out = json_array();
    json_t *seen = json_object();
    json_object_set_new(run->org->plan, "sla_policies", out);
    for (size_t i = 0; list && i < json_array_size(list); i++) {
        char base[64], place[96];
        snprintf(base, sizeof base, "$.sla_policies[%zu]", i);
        json_t *p = s_element(run, list, i, base);
        if (!p)
            continue;
        s_keys(run, p, base, keys);
        const char *kind = s_enum(run, p, "kind", base, true, kf_kinds);
        const char *priority = s_enum(run, p, "priority", base, true, kf_priorities);
        long long values[3] = {0, 0, 0};
        bool ok = kind && priority;
        for (size_t k = 0; k < 3; k++) {
            snprintf(place, sizeof place, "%s.%s", base, secs[k]);
            json_t *v = json_object_get(p, secs[k]);
            if (!v || json_is_null(v)) {
                adm_problem(run->problems, 0, place, "missing", "is required (seconds)");
                ok = false;
            } else if (s_int_value(run, v, place, 1, ORG_SECS_MAX, &values[k]) != 0) {
                ok = false;
            }
        }
        if (!ok)
            continue;
        char key[64];
        snprintf(key, sizeof key, "%s|%s", kind, priority);
        const char *at = json_string_value(json_object_get(seen, key));
        if (at) {
            adm_problem(run->problems, 0, base, "duplicate",
                        "a policy for %s %s is listed already at %s", kind, priority, at);
            continue;
        }
        json_object_set_new(seen, key, json_string(base));
        json_array_append_new(out, json_pack("{s:s, s:s, s:I, s:I, s:I}", "kind", kind, "priority",
                                             priority, "first_response_secs", (json_int_t)values[0],
                                             "resolve_secs", (json_int_t)values[1], "escalate_secs",
                                             (json_int_t)values[2]));
    }
    json_decref(seen);
}

/* ---- approval policies ------------------------------------------------------------ */

/* An amount in yuan at obj.key (a whole number, or a string with at most
   two decimals: never a float) as fen; -1 when absent (*fen untouched),
   -2 when bad (reported), 0 when read. */
static int s_yuan(s_run_t *run, const json_t *obj, const char *key, const char *base,
                  long long *fen)
{
    char place[256];
    snprintf(place, sizeof place, "%s.%s", base, key);
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return -1;
    if (json_is_integer(v)) {
        long long n = json_integer_value(v);
        if (n < 0 || n >= 10000000000000LL) {
            adm_problem(run->problems, 0, place, "bad_value",
                        "%lld is not an amount of 0 to %d digits of yuan", n, ORG_YUAN_DIGITS);
            return -2;
        }
        *fen = n * 100;
        return 0;
    }
    const char *t = json_string_value(v);
    size_t whole = t ? strspn(t, "0123456789") : 0, frac = 0;
    if (t && t[whole] == '.')
        frac = strspn(t + whole + 1, "0123456789");
    bool ok = t && whole >= 1 && whole <= ORG_YUAN_DIGITS &&
              (t[whole] == '\0' ||
               (t[whole] == '.' && frac >= 1 && frac <= 2 && t[whole + 1 + frac] == '\0'));
    if (!ok) {
        adm_problem(run->problems, 0, place, "bad_value",
                    "must be yuan as a whole number or a string with at most two decimals "
                    "(\"4999.50\"), not a float");
        return -2;
    }
    long long n = 0;
    for (size_t i = 0; i < whole; i++)
        n = n * 10 + (t[i] - '0');
    n *= 100;
    if (frac >= 1)
        n += (t[whole + 1] - '0') * 10;
    if (frac == 2)
        n += t[whole + 2] - '0';
    *fen = n;
    return 0;
}

/* "123.45" from fen. */
static json_t *s_yuan_text(long long fen)
{
    char text[32];
    snprintf(text, sizeof text, "%lld.%02lld", fen / 100, fen % 100);
    return json_string(text);
}

/* The approver of a step: {"staff": id} | {"head": department} |
   {"role": "owner_manager" | "project_gm"}. Fills kind and ref (NULL for
   a role) and returns 0, or -1 (reported). Staff and heads are checked
   against the organisation afterwards (s_check_approvers). */
static int s_approver(s_run_t *run, const json_t *step, const char *base, const char **kind,
                      const char **ref)
{
    static const char *const keys[] = {"staff", "head", "role", NULL};
    static const char *const roles[] = {"owner_manager", "project_gm", NULL};
    char place[256];
    snprintf(place, sizeof place, "%s.approver", base);
    json_t *a = json_object_get(step, "approver");
    if (!a || json_is_null(a)) {
        adm_problem(run->problems, 0, place, "missing",
                    "is required: {\"staff\": ID}, {\"head\": DEPARTMENT} or {\"role\": "
                    "\"owner_manager\" | \"project_gm\"}");
        return -1;
    }
    if (!json_is_object(a)) {
        adm_problem(run->problems, 0, place, "wrong_type", "must be an object");
        return -1;
    }
    size_t before = run->problems->total;
    s_keys(run, a, place, keys);
    int named = 0;
    for (size_t i = 0; keys[i]; i++)
        named += json_object_get(a, keys[i]) != NULL;
    if (named != 1) {
        adm_problem(run->problems, 0, place, "bad_value",
                    "must name exactly one of staff, head or role");
        return -1;
    }
    *ref = NULL;
    if (json_object_get(a, "staff")) {
        *kind = "staff";
        *ref = s_ident(run, a, "staff", place, true, adm_is_staff_id, "a staff id");
    } else if (json_object_get(a, "head")) {
        *kind = "head";
        *ref = s_ident(run, a, "head", place, true, adm_is_department_id, "a department id");
    } else {
        *kind = s_enum(run, a, "role", place, true, roles);
    }
    if (run->problems->total != before || !*kind || (strcmp(*kind, "staff") == 0 && !*ref) ||
        (strcmp(*kind, "head") == 0 && !*ref))
        return -1;
    if (*ref)
        json_array_append_new(run->org->refs, json_pack("{s:s, s:s}", "place", place, *kind, *ref));
    return 0;
}

/* One step of a stage: its plan (for kefu_approval_policy_put) into
   steps, and its canonical form (the store's columns) into canon. */
static void s_policy_step(s_run_t *run, json_t *step, const char *base, json_t *steps,
                          json_t *canon)
{
    static const char *const keys[] = {"label",    "approver",   "deadline_s",
                                       "remind_s", "on_timeout", NULL};
    char place[256];
    size_t before = run->problems->total;
    s_keys(run, step, base, keys);
    const char *label = s_words(run, step, "label", base, true);
    const char *kind = NULL, *ref = NULL;
    s_approver(run, step, base, &kind, &ref);
    long long deadline = 0, remind = 0;
    json_t *v = json_object_get(step, "deadline_s");
    snprintf(place, sizeof place, "%s.deadline_s", base);
    if (!v || json_is_null(v))
        adm_problem(run->problems, 0, place, "missing", "is required (seconds)");
    else
        s_int_value(run, v, place, 1, ORG_SECS_MAX, &deadline);
    v = json_object_get(step, "remind_s");
    snprintf(place, sizeof place, "%s.remind_s", base);
    if (v && !json_is_null(v) && s_int_value(run, v, place, 1, ORG_SECS_MAX, &remind) == 0 &&
        deadline > 0 && remind >= deadline) {
        adm_problem(run->problems, 0, place, "bad_value",
                    "a reminder at %lld s must come before the deadline (%lld s)", remind,
                    deadline);
    }
    const char *on_timeout = s_enum(run, step, "on_timeout", base, true, kf_on_timeouts);
    if (run->problems->total != before)
        return;
    json_t *approver = json_object();
    json_object_set_new(approver,
                        strcmp(kind, "staff") == 0  ? "staff"
                        : strcmp(kind, "head") == 0 ? "head"
                                                    : "role",
                        json_string(ref ? ref : kind));
    json_t *plan = json_pack("{s:s, s:o, s:I, s:s}", "label", label, "approver", approver,
                             "deadline_s", (json_int_t)deadline, "on_timeout", on_timeout);
    if (remind)
        json_object_set_new(plan, "remind_s", json_integer((json_int_t)remind));
    json_array_append_new(steps, plan);
    json_array_append_new(canon, json_pack("{s:s, s:s, s:o, s:I, s:o, s:s}", "label", label, "kind",
                                           kind, "approver", s_str_or_null(ref), "deadline_s",
                                           (json_int_t)deadline, "remind_s",
                                           remind ? json_integer((json_int_t)remind) : json_null(),
                                           "on_timeout", on_timeout));
}

/* The stages of a policy into plan and canon; returns how many there are,
   or -1 when any is bad (reported). */
static int s_policy_stages(s_run_t *run, json_t *p, const char *base, json_t *plan, json_t *canon)
{
    static const char *const keys[] = {"rule", "quorum", "steps", NULL};
    char place[256];
    size_t before = run->problems->total;
    snprintf(place, sizeof place, "%s.stages", base);
    json_t *stages = json_object_get(p, "stages");
    if (!json_is_array(stages) || json_array_size(stages) == 0 ||
        json_array_size(stages) > ORG_STAGES_MAX) {
        adm_problem(run->problems, 0, place, stages ? "bad_value" : "missing",
                    "must be an array of 1 to %d stages, run in order", ORG_STAGES_MAX);
        return -1;
    }
    for (size_t i = 0; i < json_array_size(stages); i++) {
        char sbase[192];
        snprintf(sbase, sizeof sbase, "%s.stages[%zu]", base, i);
        json_t *stage = s_element(run, stages, i, sbase);
        if (!stage)
            continue;
        s_keys(run, stage, sbase, keys);
        const char *rule = s_enum(run, stage, "rule", sbase, true, kf_stage_rules);
        snprintf(place, sizeof place, "%s.steps", sbase);
        json_t *steps = json_object_get(stage, "steps");
        if (!json_is_array(steps) || json_array_size(steps) == 0 ||
            json_array_size(steps) > ORG_STAGES_MAX) {
            adm_problem(run->problems, 0, place, steps ? "bad_value" : "missing",
                        "must be an array of 1 to %d steps, run side by side", ORG_STAGES_MAX);
            continue;
        }
        size_t nsteps = json_array_size(steps);
        long long quorum = 0;
        json_t *q = json_object_get(stage, "quorum");
        snprintf(place, sizeof place, "%s.quorum", sbase);
        if (rule && strcmp(rule, "quorum") == 0) {
            if (!q || json_is_null(q))
                adm_problem(run->problems, 0, place, "missing",
                            "is required with rule quorum: how many of the %zu steps must approve",
                            nsteps);
            else
                s_int_value(run, q, place, 1, (long long)nsteps, &quorum);
        } else if (q && !json_is_null(q)) {
            adm_problem(run->problems, 0, place, "bad_value", "is only for rule quorum");
        }
        json_t *psteps = json_array(), *csteps = json_array();
        for (size_t k = 0; k < nsteps; k++) {
            char stbase[224];
            snprintf(stbase, sizeof stbase, "%s.steps[%zu]", sbase, k);
            json_t *step = s_element(run, steps, k, stbase);
            if (step)
                s_policy_step(run, step, stbase, psteps, csteps);
        }
        if (!rule) {
            json_decref(psteps);
            json_decref(csteps);
            continue;
        }
        json_t *pstage = json_pack("{s:s, s:o}", "rule", rule, "steps", psteps);
        if (quorum)
            json_object_set_new(pstage, "quorum", json_integer((json_int_t)quorum));
        json_array_append_new(plan, pstage);
        json_array_append_new(canon,
                              json_pack("{s:s, s:o, s:o}", "rule", rule, "quorum",
                                        quorum ? json_integer((json_int_t)quorum) : json_null(),
                                        "steps", csteps));
    }
    return run->problems->total == before ? (int)json_array_size(stages) : -1;
}

/* A policy's fallback approver (required: a staff id), where a step goes
   when its approver's delegate and manager are not there. The approver
   references of the policy (refs from first_ref on) learn it, for the
   chain check; it is a reference itself. NULL when missing or bad. */
static const char *s_policy_fallback(s_run_t *run, const json_t *p, const char *base,
                                     size_t first_ref)
{
    char place[128];
    snprintf(place, sizeof place, "%s.fallback", base);
    if (!json_object_get(p, "fallback") || json_is_null(json_object_get(p, "fallback"))) {
        adm_problem(run->problems, 0, place, "missing",
                    "is required: the staff member a step goes to when its approver has "
                    "neither delegate nor manager (a deputy, the customer-service centre head, "
                    "an approval desk)");
        return NULL;
    }
    const char *fallback = s_ident(run, p, "fallback", base, true, adm_is_staff_id, "a staff id");
    if (!fallback)
        return NULL;
    for (size_t i = first_ref; i < json_array_size(run->org->refs); i++)
        json_object_set_new(json_array_get(run->org->refs, i), "fallback", json_string(fallback));
    json_array_append_new(run->org->refs,
                          json_pack("{s:s, s:s}", "place", place, "staff", fallback));
    return fallback;
}

/* Who hears of the policy's requests at risk and of stalled steps
   (optional; default all five). A new array, or NULL when bad. */
static json_t *s_policy_warn_to(s_run_t *run, const json_t *p, const char *base)
{
    static const char *const who[] = {
        "approver", "delegate", "requester", "owner_manager", "service_centre_head", NULL};
    char place[128];
    snprintf(place, sizeof place, "%s.warn_to", base);
    json_t *list = json_object_get(p, "warn_to");
    json_t *out = json_array();
    if (!list || json_is_null(list)) {
        for (size_t i = 0; who[i]; i++)
            json_array_append_new(out, json_string(who[i]));
        return out;
    }
    if (!json_is_array(list) || json_array_size(list) == 0) {
        adm_problem(run->problems, 0, place, "wrong_type",
                    "must be a non-empty list of: approver, delegate, requester, owner_manager, "
                    "service_centre_head");
        json_decref(out);
        return NULL;
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *name = json_string_value(json_array_get(list, i));
        size_t k = 0;
        while (name && who[k] && strcmp(who[k], name) != 0)
            k++;
        if (!name || !who[k]) {
            adm_problem(run->problems, 0, place, "bad_value",
                        "item %zu is not one of: approver, delegate, requester, owner_manager, "
                        "service_centre_head",
                        i);
            json_decref(out);
            return NULL;
        }
        json_array_append_new(out, json_string(name));
    }
    return out;
}

/* approval_policies: each checked, and planned as {policy, canon}: the
   JSON kefu_approval_policy_put (migration 012) takes, and the policy as
   the store's columns would hold it, to compare with what is there. */
static void s_policies(s_run_t *run, json_t *root)
{
    static const char *const keys[] = {"id",      "name",   "type",     "min_yuan", "max_yuan",
                                       "default", "stages", "fallback", "warn_to",  NULL};
    json_t *list = s_array(run, root, "approval_policies");
    json_t *out = json_array();
    json_t *seen = json_object();
    json_object_set_new(run->org->plan, "approval_policies", out);
    for (size_t i = 0; list && i < json_array_size(list); i++) {
        char base[64], place[128];
        snprintf(base, sizeof base, "$.approval_policies[%zu]", i);
        json_t *p = s_element(run, list, i, base);
        if (!p)
            continue;
        size_t before = run->problems->total;
        s_keys(run, p, base, keys);
        const char *id = s_ident(run, p, "id", base, true, adm_is_department_id,
                                 "a policy id (a-z, 0-9, '-'; up to 32, starting a-z)");
        const char *name = s_words(run, p, "name", base, false);
        const char *type = s_enum(run, p, "type", base, true, kf_request_types);
        long long min_fen = 0, max_fen = 0;
        s_yuan(run, p, "min_yuan", base, &min_fen);
        int has_max = s_yuan(run, p, "max_yuan", base, &max_fen);
        if (has_max == 0 && max_fen <= min_fen) {
            snprintf(place, sizeof place, "%s.max_yuan", base);
            adm_problem(
                run->problems, 0, place, "bad_value",
                "the band [min_yuan, max_yuan) is empty: max_yuan must be above %lld.%02lld",
                min_fen / 100, min_fen % 100);
        }
        json_t *d = json_object_get(p, "default");
        bool is_default = true;
        if (d && !json_is_null(d) && !json_is_boolean(d)) {
            snprintf(place, sizeof place, "%s.default", base);
            adm_problem(run->problems, 0, place, "wrong_type", "must be true or false");
        } else if (d && !json_is_null(d)) {
            is_default = json_is_true(d);
        }
        json_t *pstages = json_array(), *cstages = json_array();
        size_t first_ref = json_array_size(run->org->refs);
        int nstages = s_policy_stages(run, p, base, pstages, cstages);
        const char *fallback = s_policy_fallback(run, p, base, first_ref);
        json_t *warn_to = s_policy_warn_to(run, p, base);
        if (id) {
            const char *at = json_string_value(json_object_get(seen, id));
            if (at) {
                snprintf(place, sizeof place, "%s.id", base);
                adm_problem(run->problems, 0, place, "duplicate",
                            "policy %s is listed already at %s", id, at);
            } else {
                json_object_set_new(seen, id, json_string(base));
            }
        }
        /* Requests running under the policy keep the copy they took at open
           (migration 016): any edit is safe for them. */
        if (run->problems->total != before || !id || !type || nstages < 0 || !fallback ||
            !warn_to) {
            json_decref(pstages);
            json_decref(cstages);
            json_decref(warn_to);
            continue;
        }
        json_t *policy =
            json_pack("{s:s, s:s, s:s, s:o, s:b, s:o, s:s, s:O}", "id", id, "name",
                      name ? name : id, "type", type, "min_yuan", s_yuan_text(min_fen), "default",
                      is_default, "stages", pstages, "fallback", fallback, "warn_to", warn_to);
        if (has_max == 0)
            json_object_set_new(policy, "max_yuan", s_yuan_text(max_fen));
        json_t *canon = json_pack(
            "{s:s, s:s, s:I, s:o, s:b, s:b, s:o, s:s, s:o}", "name", name ? name : id, "type", type,
            "min_fen", (json_int_t)min_fen, "max_fen",
            has_max == 0 ? json_integer((json_int_t)max_fen) : json_null(), "default", is_default,
            "active", true, "stages", cstages, "fallback", fallback, "warn_to", warn_to);
        json_array_append_new(
            out, json_pack("{s:s, s:o, s:o}", "id", id, "policy", policy, "canon", canon));
    }
    json_decref(seen);
}

/* ---- the state afterwards ------------------------------------------------------ */

/* Copies the store's rows that the file does not list into after. */
static void s_merge(s_run_t *run, bool deactivate)
{
    json_t *maps[][2] = {{run->org->before.departments, run->org->after.departments},
                         {run->org->before.staff, run->org->after.staff},
                         {run->org->before.projects, run->org->after.projects},
                         {run->org->before.rules, run->org->after.rules}};
    for (size_t m = 0; m < 4; m++) {
        const char *key;
        json_t *value;
        json_object_foreach(maps[m][0], key, value)
        {
            if (json_object_get(maps[m][1], key))
                continue;
            json_t *copy = json_deep_copy(value);
            if (m == 1 && deactivate && json_is_true(json_object_get(copy, "active"))) {
                json_object_set_new(copy, "active", json_false());
                json_object_set_new(copy, "deactivated", json_true());
            }
            json_object_set_new(maps[m][1], key, copy);
        }
    }
}

/* Where to report a row: its place in the file, or "store: WHAT ID". */
static const char *s_where(const json_t *row, const char *what, const char *id, const char *field,
                           char *buf, size_t size)
{
    const char *place = s_text(row, "place");
    if (place)
        snprintf(buf, size, "%s.%s", place, field);
    else
        snprintf(buf, size, "store: %s %s", what, id);
    return buf;
}

/* Why staff id cannot be referred to in view (NULL when it can): unknown
   or inactive. */
static const char *s_staff_problem(const s_view_t *view, const char *id, char *buf, size_t size)
{
    json_t *s = json_object_get(view->staff, id);
    if (!s) {
        snprintf(buf, size, "%s is not a staff member of this file or the store", id);
        return buf;
    }
    if (!json_is_true(json_object_get(s, "active"))) {
        if (json_is_true(json_object_get(s, "deactivated")))
            snprintf(buf, size,
                     "%s is not in this file, and absent_staff \"deactivate\" would make them "
                     "inactive",
                     id);
        else
            snprintf(buf, size, "%s is inactive", id);
        return buf;
    }
    return NULL;
}

/* Reports a reference problem: always for rows of the file; for rows only
   in the store, only when this import causes it (it was fine before). */
static void s_reference(s_run_t *run, const json_t *row, const char *what, const char *id,
                        const char *field, const char *why_after, const char *why_before)
{
    if (!why_after)
        return;
    if (!s_text(row, "place") && why_before)
        return; /* the store was like this already */
    char place[192];
    s_where(row, what, id, field, place, sizeof place);
    adm_problem(run->problems, 0, place, "reference", "%s", why_after);
}

static void s_check_staff(s_run_t *run)
{
    const char *id;
    json_t *s;
    json_t *in_cycle = json_object();
    size_t nstaff = json_object_size(run->org->after.staff);
    json_object_foreach(run->org->after.staff, id, s)
    {
        char a[256], b[256], place[192];
        const char *department = s_text(s, "department");
        const char *manager = s_text(s, "manager");
        bool file = s_text(s, "place") != NULL;
        if (file && department && !json_object_get(run->org->after.departments, department)) {
            s_where(s, "staff", id, "department", place, sizeof place);
            adm_problem(run->problems, 0, place, "reference",
                        "%s is not a department of this file or the store", department);
        }
        if (manager && json_is_true(json_object_get(s, "active"))) {
            json_t *old = json_object_get(run->org->before.staff, id);
            const char *before = NULL;
            if (old && json_is_true(json_object_get(old, "active")) && s_text(old, "manager") &&
                strcmp(s_text(old, "manager"), manager) == 0)
                before = s_staff_problem(&run->org->before, manager, b, sizeof b);
            else
                before = "changed";
            s_reference(run, s, "staff", id, "manager",
                        s_staff_problem(&run->org->after, manager, a, sizeof a),
                        file ? NULL : before);
        }
        /* A management cycle through a row of the file. */
        if (!file || json_object_get(in_cycle, id))
            continue;
        const char *at = manager;
        size_t steps = 0;
        while (at && steps++ <= nstaff && strcmp(at, id) != 0) {
            json_t *next = json_object_get(run->org->after.staff, at);
            at = next ? s_text(next, "manager") : NULL;
        }
        if (!at || strcmp(at, id) != 0)
            continue;
        char chain[512];
        snprintf(chain, sizeof chain, "%s", id);
        for (const char *m = manager; m;) {
            size_t used = strlen(chain);
            snprintf(chain + used, sizeof chain - used, " -> %s", m);
            json_object_set_new(in_cycle, m, json_true());
            if (strcmp(m, id) == 0)
                break;
            json_t *next = json_object_get(run->org->after.staff, m);
            m = next ? s_text(next, "manager") : NULL;
        }
        s_where(s, "staff", id, "manager", place, sizeof place);
        adm_problem(run->problems, 0, place, "cycle", "managers go round in a circle: %s", chain);
    }
    json_decref(in_cycle);
}

/* Checks a head or general manager: field of each row of map. */
static void s_check_leaders(s_run_t *run, json_t *after, json_t *before, const char *what,
                            const char *field)
{
    const char *id;
    json_t *row;
    json_object_foreach(after, id, row)
    {
        const char *leader = s_text(row, field);
        if (!leader)
            continue;
        char a[256], b[256];
        json_t *old = json_object_get(before, id);
        const char *why_before = "changed";
        if (old && s_text(old, field) && strcmp(s_text(old, field), leader) == 0)
            why_before = s_staff_problem(&run->org->before, leader, b, sizeof b);
        s_reference(run, row, what, id, field,
                    s_staff_problem(&run->org->after, leader, a, sizeof a), why_before);
    }
}

/* Checks each routing rule's project, department and owner. */
static void s_check_rules(s_run_t *run)
{
    const char *key;
    json_t *r;
    json_object_foreach(run->org->after.rules, key, r)
    {
        char place[192], a[256], b[256];
        bool file = s_text(r, "place") != NULL;
        const char *project = s_text(r, "project");
        const char *department = s_text(r, "department");
        const char *owner = s_text(r, "owner");
        char id[160];
        snprintf(id, sizeof id, "(kind|category|project = %s)", key);
        if (file && project && !json_object_get(run->org->after.projects, project)) {
            s_where(r, "routing rule", id, "project", place, sizeof place);
            adm_problem(run->problems, 0, place, "reference",
                        "%s is not a project of this file or the store", project);
        }
        json_t *dept = json_object_get(run->org->after.departments, department);
        if (file && !dept) {
            s_where(r, "routing rule", id, "department", place, sizeof place);
            adm_problem(run->problems, 0, place, "reference",
                        "%s is not a department of this file or the store", department);
            continue;
        }
        json_t *old_dept = json_object_get(run->org->before.departments, department);
        if (!owner) {
            /* The department head takes the tickets. */
            bool had = old_dept && s_text(old_dept, "head");
            if (dept && !s_text(dept, "head") && (file || had)) {
                s_where(r, "routing rule", id, "owner", place, sizeof place);
                adm_problem(run->problems, 0, place, "reference",
                            "no owner, and department %s has no head to take its tickets",
                            department);
            }
            continue;
        }
        const char *why_after = s_staff_problem(&run->org->after, owner, a, sizeof a);
        const char *why_before = s_staff_problem(&run->org->before, owner, b, sizeof b);
        s_reference(run, r, "routing rule", id, "owner", why_after, why_before);
        if (why_after)
            continue;
        /* The owner must work in the rule's department. */
        const char *in = s_text(json_object_get(run->org->after.staff, owner), "department");
        json_t *old_owner = json_object_get(run->org->before.staff, owner);
        const char *was = old_owner ? s_text(old_owner, "department") : NULL;
        if (in && strcmp(in, department) != 0 && (file || (was && strcmp(was, department) == 0))) {
            s_where(r, "routing rule", id, "owner", place, sizeof place);
            adm_problem(run->problems, 0, place, "reference", "%s works in department %s, not %s",
                        owner, in, department);
        }
    }
}

/* The approval administrator after the import: the file's, else the store's. */
static const char *s_admin_after(const s_run_t *run)
{
    const char *admin = s_text(json_object_get(run->org->plan, "approval_setting"), "admin");
    return admin ? admin : s_text(run->org->setting, "admin");
}

/* A step whose approver is staff: its timeout chain (the approver's
   manager, the policy's fallback, the approval administrator; delegates
   come and go, so they do not count) must reach someone else. */
static void s_check_chain(s_run_t *run, const json_t *ref, const char *staff)
{
    const char *fallback = s_text(ref, "fallback");
    if (!fallback)
        return; /* the fallback reference itself */
    char why[256];
    const char *manager = s_text(json_object_get(run->org->after.staff, staff), "manager");
    const char *admin = s_admin_after(run);
    bool to_manager = manager && strcmp(manager, staff) != 0 &&
                      !s_staff_problem(&run->org->after, manager, why, sizeof why);
    bool to_fallback = strcmp(fallback, staff) != 0;
    bool to_admin = admin && strcmp(admin, staff) != 0;
    if (to_manager || to_fallback || to_admin)
        return;
    adm_problem(run->problems, 0, s_text(ref, "place"), "chain",
                "the timeout chain of this step ends nowhere: its approver %s has no active "
                "manager, the policy's fallback is %s and the approval administrator is %s; "
                "name another fallback",
                staff, fallback, admin ? admin : "not named");
}

/* The organisation's approval settings: the administrator (active staff)
   and the customer-service centre (a department), and an administrator
   at all when the file has approval policies. */
static void s_check_setting(s_run_t *run, bool has_policies)
{
    json_t *setting = json_object_get(run->org->plan, "approval_setting");
    const char *admin = s_text(setting, "admin");
    const char *centre = s_text(setting, "service_centre");
    char why[256];
    if (admin && s_staff_problem(&run->org->after, admin, why, sizeof why))
        adm_problem(run->problems, 0, "$.approval_admin", "reference", "%s", why);
    if (centre && !json_object_get(run->org->after.departments, centre))
        adm_problem(run->problems, 0, "$.service_centre", "reference",
                    "%s is not a department of this file or the store", centre);
    if (has_policies && !s_admin_after(run))
        adm_problem(run->problems, 0, "$.approval_admin", "missing",
                    "is required with approval policies: the approval administrator is where "
                    "every approval step's timeout chain ends (a staff id)");
}

/* Checks the approvers the file's policies name against the organisation
   afterwards: a staff member who exists and is active; a department that
   exists and has an active head. */
static void s_check_approvers(s_run_t *run)
{
    for (size_t i = 0; i < json_array_size(run->org->refs); i++) {
        json_t *r = json_array_get(run->org->refs, i);
        const char *place = s_text(r, "place");
        const char *staff = s_text(r, "staff");
        const char *head = s_text(r, "head");
        char why[256];
        if (head) {
            json_t *dept = json_object_get(run->org->after.departments, head);
            if (!dept) {
                adm_problem(run->problems, 0, place, "reference",
                            "unknown department '%s' (not in this file or the store)", head);
                continue;
            }
            staff = s_text(dept, "head");
            if (!staff) {
                adm_problem(run->problems, 0, place, "reference",
                            "department %s has no head to decide this step", head);
                continue;
            }
        } else if (!json_object_get(run->org->after.staff, staff)) {
            adm_problem(run->problems, 0, place, "reference",
                        "unknown staff member '%s' (not in this file or the store)", staff);
            continue;
        }
        if (s_staff_problem(&run->org->after, staff, why, sizeof why)) {
            adm_problem(run->problems, 0, place, "reference", "%s%s%s%s",
                        head ? "the head of " : "", head ? head : "", head ? ": " : "", why);
            continue;
        }
        s_check_chain(run, r, staff);
    }
}

int org_check(org_t *self, json_t *root, adm_problems_t *problems)
{
    s_run_t run = {.problems = problems, .org = self};
    static const char *const keys[] = {"format",
                                       "absent_staff",
                                       "departments",
                                       "staff",
                                       "projects",
                                       "routing_rules",
                                       "sla_policies",
                                       "approval_policies",
                                       "approval_admin",
                                       "service_centre",
                                       NULL};
    s_view_free(&self->after);
    s_view_init(&self->after);
    json_array_clear(self->refs);
    json_object_clear(self->plan);
    if (!json_is_object(root)) {
        adm_problem(problems, 0, "$", "wrong_type", "the file must hold one JSON object");
        return -1;
    }
    s_keys(&run, root, "$", keys);
    const char *format = s_string(&run, root, "format", "$", true);
    if (format && strcmp(format, ORG_FORMAT) != 0)
        adm_problem(problems, 0, "$.format", "bad_value",
                    "'%.40s' is not a format this kefu reads (\"%s\")", format, ORG_FORMAT);
    static const char *const absent[] = {"keep", "deactivate", NULL};
    const char *absent_staff = s_enum(&run, root, "absent_staff", "$", false, absent);
    json_object_set_new(self->plan, "absent_staff",
                        json_string(absent_staff ? absent_staff : "keep"));
    const char *admin =
        s_ident(&run, root, "approval_admin", "$", false, adm_is_staff_id, "a staff id");
    const char *centre =
        s_ident(&run, root, "service_centre", "$", false, adm_is_department_id, "a department id");
    json_object_set_new(self->plan, "approval_setting",
                        json_pack("{s:o, s:o}", "admin", s_str_or_null(admin), "service_centre",
                                  s_str_or_null(centre)));

    s_departments(&run, root);
    s_staff(&run, root);
    s_projects(&run, root);
    s_rules(&run, root);
    s_slas(&run, root);
    s_policies(&run, root);

    s_merge(&run, absent_staff && strcmp(absent_staff, "deactivate") == 0);
    s_check_staff(&run);
    s_check_leaders(&run, self->after.departments, self->before.departments, "department", "head");
    s_check_leaders(&run, self->after.projects, self->before.projects, "project", "gm");
    s_check_rules(&run);
    s_check_setting(&run, json_array_size(json_object_get(root, "approval_policies")) > 0);
    s_check_approvers(&run);
    return problems->total == 0 ? 0 : -1;
}
