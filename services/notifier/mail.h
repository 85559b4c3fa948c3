/* notifier — e-mail messages as RFC 5322 text: UTF-8 subjects as RFC 2047
   encoded words, bodies as text/plain; charset=UTF-8 in base64, and a
   Message-ID derived from the notification id, so that a message sent
   again after a crash carries the same Message-ID and mail clients show
   it once. Pure text building, unit-tested (test_notifier_mail.c). */
#ifndef NOTIFIER_MAIL_H
#define NOTIFIER_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *from;      /* sender address, e.g. kefu@kefu.example */
    const char *from_name; /* display name, may be NULL */
    const char *to;        /* recipient address */
    const char *subject;   /* UTF-8, one line */
    const char *body;      /* UTF-8, LF line ends */
    int64_t notification;  /* the notification id */
    const char *event;     /* the causing event's id, may be NULL */
    int64_t date;          /* seconds since the epoch */
} mail_t;

/* The Message-ID of a notification: <kefu.notification.ID@DOMAIN>. */
void mail_message_id(char *buf, size_t size, int64_t notification, const char *domain);

/* The domain of an address (after its '@'), or "localhost". */
const char *mail_domain(const char *address);

/* True for an address kefu will put in a header and an SMTP command: one
   '@' between non-empty parts, at most 254 bytes, printable ASCII without
   spaces, quotes, angle brackets, commas, semicolons or backslashes. */
bool mail_address_ok(const char *address);

/* text as a header value: as it is when it is short printable ASCII,
   otherwise as RFC 2047 "B" encoded words of UTF-8, each at most 75
   bytes, never splitting a character, folded with CRLF SP. A new string. */
char *mail_encode_header(const char *text);

/* The whole message, header and base64 body, with CRLF line ends. A new
   string, or NULL when an address is not acceptable. */
char *mail_build(const mail_t *mail);

#endif
