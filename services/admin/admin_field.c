/* kefu-admin — checks of single fields in the operators' files. */
#include "admin_field.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool s_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool s_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool s_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* True when s has 1..max bytes, the first passing first() and the rest
   passing rest(). */
static bool s_ident(const char *s, size_t max, bool (*first)(char), bool (*rest)(char))
{
    if (!s || !*s || !first(s[0]))
        return false;
    size_t n = 1;
    for (const char *p = s + 1; *p; p++, n++)
        if (!rest(*p))
            return false;
    return n <= max;
}

static bool s_dept_rest(char c)
{
    return s_lower(c) || s_digit(c) || c == '-';
}

static bool s_staff_rest(char c)
{
    return s_lower(c) || s_digit(c) || c == '.' || c == '_' || c == '-';
}

static bool s_alnum(char c)
{
    return s_lower(c) || s_upper(c) || s_digit(c);
}

static bool s_project_rest(char c)
{
    return s_alnum(c) || c == '_' || c == '-';
}

static bool s_code(char c)
{
    return s_alnum(c) || c == '-';
}

bool adm_is_department_id(const char *s)
{
    return s_ident(s, 32, s_lower, s_dept_rest);
}

bool adm_is_staff_id(const char *s)
{
    return s_ident(s, 64, s_lower, s_staff_rest);
}

bool adm_is_project_id(const char *s)
{
    return s_ident(s, 32, s_alnum, s_project_rest);
}

bool adm_is_building_code(const char *s)
{
    return s_ident(s, 16, s_code, s_code);
}

bool adm_is_unit_no(const char *s)
{
    if (!s_ident(s, 16, s_code, s_code))
        return false;
    for (const char *p = s; *p; p++)
        if (s_digit(*p))
            return true;
    return false;
}

bool adm_is_email(const char *s)
{
    if (!s)
        return false;
    size_t len = strlen(s);
    const char *at = strchr(s, '@');
    if (len > 254 || !at || at == s || at[1] == '\0' || strchr(at + 1, '@'))
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

bool adm_is_text(const char *s, size_t max)
{
    if (!s)
        return false;
    size_t len = strlen(s);
    if (len == 0 || len > max || strspn(s, " \t") == len)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            return false;
    return true;
}

bool adm_in(const char *const *list, const char *s)
{
    if (!s)
        return false;
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

const char *adm_segment(const char *s)
{
    static const struct {
        const char *name;
        const char *zh;
    } segments[] = {{"first-home", "刚需"},
                    {"upgrade", "改善"},
                    {"investor", "投资"},
                    {"high-end", "高端"},
                    {"retirement", "养老"}};
    if (!s)
        return NULL;
    for (size_t i = 0; i < sizeof segments / sizeof segments[0]; i++)
        if (strcasecmp(s, segments[i].name) == 0 || strcmp(s, segments[i].zh) == 0)
            return segments[i].name;
    return NULL;
}

const char *adm_lang(const char *s)
{
    if (!s)
        return NULL;
    if (strcasecmp(s, "zh") == 0 || strcmp(s, "中文") == 0)
        return "zh";
    if (strcasecmp(s, "en") == 0 || strcmp(s, "英文") == 0)
        return "en";
    return NULL;
}

char *adm_trim(char *s)
{
    size_t len = strlen(s), lead = strspn(s, " \t");
    while (len > lead && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    memmove(s, s + lead, len - lead);
    s[len - lead] = '\0';
    return s;
}

/* Reads exactly n digits at *p into *out and advances; -1 when not. */
static int s_digits(const char **p, int n, int *out)
{
    int value = 0;
    for (int i = 0; i < n; i++) {
        if (!s_digit((*p)[i]))
            return -1;
        value = value * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = value;
    return 0;
}

static int s_days_in(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* Fills why and returns -1. */
static int s_why(char *why, size_t size, const char *s, const char *what)
{
    snprintf(why, size, "'%.60s' is not a time: %s", s, what);
    return -1;
}

int adm_time_parse(const char *s, adm_time_t *t, char *why, size_t why_size)
{
    static const char *const shape =
        "expected YYYY-MM-DD HH:MM[:SS[.ffffff]] with an optional offset (Z, +08:00)";
    memset(t, 0, sizeof *t);
    if (!s)
        return s_why(why, why_size, "", shape);
    const char *p = s;
    if (s_digits(&p, 4, &t->year) != 0 || *p++ != '-' || s_digits(&p, 2, &t->month) != 0 ||
        *p++ != '-' || s_digits(&p, 2, &t->day) != 0)
        return s_why(why, why_size, s, shape);
    if (*p != 'T' && *p != ' ')
        return s_why(why, why_size, s, shape);
    p++;
    if (s_digits(&p, 2, &t->hour) != 0 || *p++ != ':' || s_digits(&p, 2, &t->minute) != 0)
        return s_why(why, why_size, s, shape);
    if (*p == ':') {
        p++;
        if (s_digits(&p, 2, &t->second) != 0)
            return s_why(why, why_size, s, shape);
        if (*p == '.' || *p == ',') {
            p++;
            int n = 0, usec = 0;
            while (s_digit(*p) && n < 6) {
                usec = usec * 10 + (*p++ - '0');
                n++;
            }
            if (n == 0 || s_digit(*p))
                return s_why(why, why_size, s, "a fraction of a second has 1 to 6 digits");
            for (; n < 6; n++)
                usec *= 10;
            t->usec = usec;
        }
    }
    if (*p == 'Z' || *p == 'z') {
        t->has_offset = true;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh = 0, om = 0;
        if (s_digits(&p, 2, &oh) != 0)
            return s_why(why, why_size, s, "an offset is +HH, +HHMM or +HH:MM");
        bool colon = *p == ':';
        if (colon)
            p++;
        if ((colon || s_digit(*p)) && s_digits(&p, 2, &om) != 0)
            return s_why(why, why_size, s, "an offset is +HH, +HHMM or +HH:MM");
        if (oh > 14 || om > 59 || oh * 60 + om > 14 * 60)
            return s_why(why, why_size, s, "the offset is over 14 hours");
        t->has_offset = true;
        t->offset_min = sign * (oh * 60 + om);
    }
    if (*p != '\0')
        return s_why(why, why_size, s, shape);
    if (t->year < 1900)
        return s_why(why, why_size, s, "the year is before 1900");
    if (t->month < 1 || t->month > 12)
        return s_why(why, why_size, s, "the month is not 01-12");
    if (t->day < 1 || t->day > s_days_in(t->year, t->month))
        return s_why(why, why_size, s, "that day does not exist");
    if (t->hour > 23)
        return s_why(why, why_size, s, "the hour is not 00-23");
    if (t->minute > 59)
        return s_why(why, why_size, s, "the minute is not 00-59");
    if (t->second > 59)
        return s_why(why, why_size, s, "the second is not 00-59");
    return 0;
}

void adm_time_local(const adm_time_t *t, char *buf, size_t size)
{
    snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d.%06d", t->year, t->month, t->day, t->hour,
             t->minute, t->second, t->usec);
}

void adm_time_offset(const adm_time_t *t, char *buf, size_t size)
{
    if (!t->has_offset) {
        snprintf(buf, size, "%s", "");
        return;
    }
    int off = t->offset_min < 0 ? -t->offset_min : t->offset_min;
    snprintf(buf, size, "%c%02d:%02d", t->offset_min < 0 ? '-' : '+', off / 60, off % 60);
}
