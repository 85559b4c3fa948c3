/* notifier — building e-mail messages (see mail.h). */
#include "mail.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_WORD_BYTES 45 /* raw bytes per encoded word: 60 base64 chars + 12 = 72 <= 75 */
#define S_PLAIN_MAX 76  /* a longer ASCII value is encoded (and so folded) too */

static const char s_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Appends the base64 of size bytes at data to out (room assumed). */
static size_t s_base64(const unsigned char *data, size_t size, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < size; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < size)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < size)
            v |= data[i + 2];
        out[o++] = s_b64[(v >> 18) & 63];
        out[o++] = s_b64[(v >> 12) & 63];
        out[o++] = i + 1 < size ? s_b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < size ? s_b64[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

void mail_message_id(char *buf, size_t size, int64_t notification, const char *domain)
{
    snprintf(buf, size, "<kefu.notification.%" PRId64 "@%s>", notification,
             domain && *domain ? domain : "localhost");
}

const char *mail_domain(const char *address)
{
    const char *at = address ? strrchr(address, '@') : NULL;
    return at && at[1] ? at + 1 : "localhost";
}

bool mail_address_ok(const char *address)
{
    if (!address)
        return false;
    size_t len = strlen(address);
    const char *at = strchr(address, '@');
    if (len == 0 || len > 254 || !at || at == address || !at[1] || strchr(at + 1, '@'))
        return false;
    for (const unsigned char *p = (const unsigned char *)address; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("\"<>(),;:\\[]", *p))
            return false;
    return true;
}

/* True when text can stand in a header as it is. */
static bool s_plain(const char *text)
{
    if (strlen(text) > S_PLAIN_MAX || strstr(text, "=?"))
        return false;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p < ' ' || *p >= 0x7f)
            return false;
    return true;
}

/* The length of the UTF-8 sequence starting with byte c (1 for a stray byte). */
static size_t s_seq_len(unsigned char c)
{
    return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

char *mail_encode_header(const char *text)
{
    if (!text)
        text = "";
    if (s_plain(text))
        return strdup(text);
    size_t len = strlen(text);
    /* Each word: 10 + 60 + 2 bytes, plus 3 for the folding CRLF SP. */
    size_t words = len / 16 + 2;
    char *out = (char *)malloc(words * 80 + 1);
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    out[0] = '\0';
    while (i < len) {
        size_t take = 0;
        while (i + take < len) {
            size_t seq = s_seq_len((unsigned char)text[i + take]);
            if (i + take + seq > len)
                seq = len - i - take;
            if (take + seq > S_WORD_BYTES)
                break;
            take += seq;
        }
        if (o > 0) {
            memcpy(out + o, "\r\n ", 3);
            o += 3;
        }
        memcpy(out + o, "=?UTF-8?B?", 10);
        o += 10;
        o += s_base64((const unsigned char *)text + i, take, out + o);
        memcpy(out + o, "?=", 3);
        o += 2;
        i += take;
    }
    if (o == 0)
        snprintf(out, 3, "%s", "");
    return out;
}

/* body with LF line ends as CRLF text, base64 in lines of 76. */
static char *s_body(const char *body)
{
    size_t len = strlen(body), lines = 1;
    for (const char *p = body; *p; p++)
        lines += *p == '\n';
    char *crlf = (char *)calloc(len + lines + 1, 1);
    if (!crlf)
        return NULL;
    size_t n = 0;
    for (const char *p = body; *p; p++) {
        if (*p == '\n' && (p == body || p[-1] != '\r'))
            crlf[n++] = '\r';
        crlf[n++] = *p;
    }
    size_t encoded = (n + 2) / 3 * 4;
    char *out = (char *)malloc(encoded + (encoded / 76 + 1) * 2 + 1);
    char *flat = (char *)malloc(encoded + 1);
    if (!out || !flat) {
        free(crlf);
        free(out);
        free(flat);
        return NULL;
    }
    s_base64((const unsigned char *)crlf, n, flat);
    size_t o = 0;
    for (size_t i = 0; i < encoded; i += 76) {
        size_t take = encoded - i < 76 ? encoded - i : 76;
        memcpy(out + o, flat + i, take);
        o += take;
        out[o++] = '\r';
        out[o++] = '\n';
    }
    out[o] = '\0';
    free(crlf);
    free(flat);
    return out;
}

char *mail_build(const mail_t *mail)
{
    if (!mail_address_ok(mail->from) || !mail_address_ok(mail->to))
        return NULL;
    char date[64], message_id[128];
    time_t t = (time_t)mail->date;
    struct tm local;
    localtime_r(&t, &local);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &local);
    mail_message_id(message_id, sizeof message_id, mail->notification, mail_domain(mail->from));
    char *subject = mail_encode_header(mail->subject);
    char *from_name =
        mail->from_name && *mail->from_name ? mail_encode_header(mail->from_name) : NULL;
    char *body = s_body(mail->body ? mail->body : "");
    char *out = NULL;
    if (subject && body) {
        size_t size = strlen(subject) + strlen(body) + (from_name ? strlen(from_name) : 0) +
                      strlen(mail->from) + strlen(mail->to) + 512;
        out = (char *)malloc(size);
        if (out)
            snprintf(out, size,
                     "From: %s%s<%s>\r\n"
                     "To: <%s>\r\n"
                     "Subject: %s\r\n"
                     "Date: %s\r\n"
                     "Message-ID: %s\r\n"
                     "X-Kefu-Notification: %" PRId64 "\r\n"
                     "%s%s%s"
                     "MIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=UTF-8\r\n"
                     "Content-Transfer-Encoding: base64\r\n"
                     "\r\n"
                     "%s",
                     from_name ? from_name : "", from_name ? " " : "", mail->from, mail->to,
                     subject, date, message_id, mail->notification,
                     mail->event ? "X-Kefu-Event: " : "", mail->event ? mail->event : "",
                     mail->event ? "\r\n" : "", body);
    }
    free(subject);
    free(from_name);
    free(body);
    return out;
}
