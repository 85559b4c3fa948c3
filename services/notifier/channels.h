/* notifier — delivering one message on its channel: SMS through an HTTP
   gateway (POST JSON {to, text, id}, libcurl), e-mail over SMTP (libcurl's
   smtp://, one connection kept open between messages), or, for either
   channel whose endpoint is not configured, one JSON line appended to the
   file channel (development; KEFU_NOTIFY_FILE).

   Every delivery carries the notification's id (the gateway's id field,
   the e-mail's Message-ID, the file line's "id"), which is what makes a
   resend after a crash recognisable at the receiving end. */
#ifndef NOTIFIER_CHANNELS_H
#define NOTIFIER_CHANNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What became of one attempt. */
typedef enum {
    SEND_OK = 0, /* delivered (accepted by the gateway or server, or written) */
    SEND_RETRY,  /* failed for now: try again later */
    SEND_FAIL    /* refused for good (bad address, rejected recipient) */
} send_outcome_t;

/* A claimed notification, as the store holds it. */
typedef struct {
    int64_t id;
    const char *event_id;
    const char *event_type;
    const char *ticket; /* may be "" */
    const char *recipient_kind;
    const char *recipient_id;
    const char *channel; /* "sms" or "email" */
    const char *address;
    const char *lang;
    const char *subject; /* e-mail only, may be "" */
    const char *body;
    bool urgent;
    int attempts;     /* including this one */
    bool interrupted; /* a notifier died while sending it before */
} note_t;

typedef struct {
    const char *file_path;     /* file channel; "" for none */
    const char *sms_url;       /* SMS gateway; "" sends SMS to the file channel */
    const char *sms_token;     /* bearer token for the gateway, "" for none */
    const char *sms_id_prefix; /* the gateway's id is prefix + notification id */
    long sms_timeout_ms;
    const char *smtp_url; /* smtp://host:port or smtps://...; "" sends e-mail to the file */
    const char *smtp_user, *smtp_password; /* "" for no authentication */
    const char *smtp_from, *smtp_from_name;
    long smtp_timeout_ms;
} channels_config_t;

typedef struct channels channels_t;

/* Sets up the transports; NULL with a message in err when a channel has
   neither its endpoint nor the file channel, or the file cannot be opened. */
channels_t *channels_new(const channels_config_t *config, char *err, size_t err_size);
void channels_destroy(channels_t **self_p);

/* How channel ("sms" or "email") is delivered: "http", "smtp" or "file". */
const char *channels_via(const channels_t *self, const char *channel);

/* Delivers note. On anything but SEND_OK, error says why (no address in it). */
send_outcome_t channels_send(channels_t *self, const note_t *note, char *error, size_t error_size);

/* Marks in found[i] whether the file channel holds a line for ids[i]
   (count of them): how a message interrupted by a crash is recognised as
   written. Returns 0, or -1 when the file cannot be read. */
int channels_file_holds(channels_t *self, const int64_t *ids, size_t count, bool *found);

/* Reopens the file channel (after the file was rotated). */
int channels_reopen(channels_t *self);

/* The outcome of an HTTP status from the gateway: 2xx delivered; 408,
   425, 429 and 5xx retried; other codes (4xx: a request the gateway will
   never take) failed; 0 (no answer) retried. */
send_outcome_t channels_http_outcome(long status);

/* The outcome of a failed SMTP conversation by the server's last reply
   code: a 5xx refusal of the message or recipient fails it, except
   authentication trouble (530, 534, 535, 538), which is kefu's
   configuration and retried; 4xx and no reply (0) are retried. */
send_outcome_t channels_smtp_outcome(long code);

#endif
