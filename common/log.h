/* kefu — logging: one key=value line per event on stderr.

   Lines look like
     ts=2026-11-23T07:30:00.123Z level=info daemon=intake event=submit.accepted ticket=KF-2026-000001
   Never log a phone number or a name in clear at info level: use
   kf_mask_phone (phone.h). */
#ifndef KF_LOG_H
#define KF_LOG_H

typedef enum { KF_LOG_DEBUG, KF_LOG_INFO, KF_LOG_WARN, KF_LOG_ERROR } kf_log_level_t;

/* Sets the program name and the level ("debug", "info", "warn", "error");
   returns -1 when level is not one of those. */
int kf_log_init(const char *daemon, const char *level);

/* Logs event with extra key=value text (printf format, may be NULL). */
void kf_log(kf_log_level_t level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define kf_debug(...) kf_log(KF_LOG_DEBUG, __VA_ARGS__)
#define kf_info(...) kf_log(KF_LOG_INFO, __VA_ARGS__)
#define kf_warn(...) kf_log(KF_LOG_WARN, __VA_ARGS__)
#define kf_error(...) kf_log(KF_LOG_ERROR, __VA_ARGS__)

/* Writes value into buf (size n) quoted for a log line when it holds
   spaces, quotes or '=': message="store down". Returns buf. */
const char *kf_log_quote(const char *value, char *buf, unsigned n);

#endif
