/* kefu-admin — checks of single fields in the operators' files, the same
   for the organisation file and the CSV imports: identifiers as the store's
   CHECK constraints allow them, unit numbers, owner segments, languages and
   ISO 8601 times. Pure functions, no I/O. */
#ifndef KF_ADMIN_FIELD_H
#define KF_ADMIN_FIELD_H

#include <stdbool.h>
#include <stddef.h>

/* Identifiers (deploy/migrations/001_organisation.sql). */
bool adm_is_department_id(const char *s); /* ^[a-z][a-z0-9-]{0,31}$ */
bool adm_is_staff_id(const char *s);      /* ^[a-z][a-z0-9._-]{0,63}$ */
bool adm_is_project_id(const char *s);    /* ^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$ */

/* A building code: 1 to 16 letters, digits or '-'. */
bool adm_is_building_code(const char *s);

/* A unit number: 1 to 16 letters, digits or '-', at least one a digit
   ("1201", "A-302", "B12"). */
bool adm_is_unit_no(const char *s);

/* A plausible e-mail address: one '@' with text on both sides, no spaces,
   at most 254 bytes. */
bool adm_is_email(const char *s);

/* Text people wrote (names, notes): valid UTF-8 is the caller's concern;
   here: not blank, at most max bytes, no control characters. */
bool adm_is_text(const char *s, size_t max);

/* True when s is in the NULL-terminated list. */
bool adm_in(const char *const *list, const char *s);

/* The store's name of an owner segment given in English (any case) or
   Chinese: first-home 刚需, upgrade 改善, investor 投资, high-end 高端,
   retirement 养老. NULL when s is none of them. */
const char *adm_segment(const char *s);

/* "zh" or "en" for zh, en, ZH, EN, 中文, 英文; NULL otherwise. */
const char *adm_lang(const char *s);

/* Removes ASCII spaces and tabs at both ends of s, in place; returns s. */
char *adm_trim(char *s);

/* A time as written: a date and a time of day, and the offset from UTC
   when one was given. */
typedef struct {
    int year, month, day, hour, minute, second;
    int usec;        /* fraction of the second, in microseconds */
    bool has_offset; /* false: a local time in the configured zone */
    int offset_min;  /* minutes east of UTC */
} adm_time_t;

/* Parses an ISO 8601 time: YYYY-MM-DD, then 'T' or one space, HH:MM,
   optionally :SS and a fraction of up to 6 digits, then optionally Z,
   +HH, +HHMM or +HH:MM (or -). The date must exist (2024-02-29 does,
   2025-02-29 does not), hours 00-23, no leap seconds, years 1900-9999,
   offsets up to 14 hours. Returns 0, or -1 with why filled. */
int adm_time_parse(const char *s, adm_time_t *t, char *why, size_t why_size);

/* Writes "YYYY-MM-DD HH:MM:SS.ffffff" (the local part) into buf. */
void adm_time_local(const adm_time_t *t, char *buf, size_t size);

/* Writes the offset as "+HH:MM" into buf, or "" for a local time. */
void adm_time_offset(const adm_time_t *t, char *buf, size_t size);

#endif
