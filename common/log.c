/* kefu — logging: one key=value line per event on stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static kf_log_level_t s_level = KF_LOG_INFO;
static char s_daemon[64] = "kefu";
static const char *const s_level_names[] = {"debug", "info", "warn", "error"};

int kf_log_init(const char *daemon, const char *level)
{
    if (daemon && *daemon)
        snprintf(s_daemon, sizeof s_daemon, "%s", daemon);
    if (!level)
        return -1;
    for (int i = 0; i < 4; i++) {
        if (strcmp(level, s_level_names[i]) == 0) {
            s_level = (kf_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

/* True when value must be quoted to stay one token of a key=value line. */
static bool s_needs_quotes(const char *value)
{
    if (!*value)
        return true;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            return true;
    return false;
}

const char *kf_log_quote(const char *value, char *buf, unsigned n)
{
    if (!buf || n == 0)
        return buf;
    if (!value)
        value = "";
    if (!s_needs_quotes(value)) {
        snprintf(buf, n, "%s", value);
        return buf;
    }
    if (n < 3) {
        buf[0] = '\0';
        return buf;
    }
    /* Escapes keep a value on one line, so a hostile string cannot forge
       a log line; room for the closing quote is always kept. */
    unsigned used = 0;
    buf[used++] = '"';
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        char esc[5];
        if (*p == '"' || *p == '\\')
            snprintf(esc, sizeof esc, "\\%c", *p);
        else if (*p == '\n')
            snprintf(esc, sizeof esc, "\\n");
        else if (*p == '\r')
            snprintf(esc, sizeof esc, "\\r");
        else if (*p == '\t')
            snprintf(esc, sizeof esc, "\\t");
        else if (*p < ' ' || *p == 0x7f)
            snprintf(esc, sizeof esc, "\\x%02x", *p);
        else
            esc[0] = (char)*p, esc[1] = '\0';
        size_t len = strlen(esc);
        if (used + len + 2 > n)
            break;
        memcpy(buf + used, esc, len);
        used += (unsigned)len;
    }
    buf[used++] = '"';
    buf[used] = '\0';
    return buf;
}

void kf_log(kf_log_level_t level, const char *event, const char *fmt, ...)
{
    if (level < s_level || level > KF_LOG_ERROR)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);

    char line[2048];
    int used = snprintf(
        line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s daemon=%s event=%s",
        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
        ts.tv_nsec / 1000000, s_level_names[level], s_daemon, event ? event : "-");
    if (used < 0)
        return;
    if (fmt && *fmt && (size_t)used < sizeof line - 2) {
        line[used++] = ' ';
        va_list args;
        va_start(args, fmt);
        int more = vsnprintf(line + used, sizeof line - (size_t)used, fmt, args);
        va_end(args);
        if (more > 0)
            used += more;
    }
    if ((size_t)used > sizeof line - 2)
        used = (int)sizeof line - 2; /* truncated: keep room for the newline */
    /* One call is one line: a stray newline in the caller's text must not
       start what would look like another record. */
    for (int i = 0; i < used; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[used++] = '\n';
    line[used] = '\0';
    fputs(line, stderr);
    fflush(stderr);
}
