/* kefu — unit tests of the notifier's e-mail building: RFC 2047 subjects
   that round-trip and never split a character, the Message-ID derived
   from the notification id, the base64 text/plain body, and addresses
   that cannot inject a header or an SMTP command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "envelope.h"
#include "mail.h"

/* Decodes base64 text (no line breaks) into out; returns the size. */
static size_t s_unbase64(const char *text, size_t len, unsigned char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len && text[i] != '='; i++) {
        const char *p = strchr(alphabet, text[i]);
        assert_non_null(p);
        acc = (acc << 6) | (uint32_t)(p - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return o;
}

/* Decodes a header value of encoded words back to UTF-8, checking each
   word's length and that each holds whole characters. */
static char *s_decode_words(const char *value)
{
    char *out = (char *)calloc(strlen(value) + 1, 1);
    size_t o = 0;
    const char *p = value;
    while (*p) {
        assert_memory_equal(p, "=?UTF-8?B?", 10);
        const char *end = strstr(p + 10, "?=");
        assert_non_null(end);
        assert_true(end + 2 - p <= 75);
        size_t n = s_unbase64(p + 10, (size_t)(end - p - 10), (unsigned char *)out + o);
        assert_true(kf_utf8_valid(out + o, n));
        o += n;
        p = end + 2;
        if (*p) {
            assert_memory_equal(p, "\r\n ", 3);
            p += 3;
        }
    }
    out[o] = '\0';
    return out;
}

static void test_plain_subjects_stay(void **state)
{
    char *value = mail_encode_header("Ticket KF-2026-000001 routed");
    assert_string_equal(value, "Ticket KF-2026-000001 routed");
    free(value);
    /* "=?" would be read as an encoded word: encode it. */
    value = mail_encode_header("a =?b");
    assert_memory_equal(value, "=?UTF-8?B?", 10);
    free(value);
}

static void test_chinese_subjects_round_trip(void **state)
{
    const char *subjects[] = {
        "【新工单】KF-2026-000001 投诉·渗漏：卫生间漏水",
        "业主反映：卫生间漏水，楼下天花板渗水，已经持续一周，墙面起皮发霉，多次报修无人上门，"
        "要求立即处理并赔偿损失，否则将向媒体反映",
        "mixed 中文 and English 😀 emoji",
        "line\r\nbreak",
    };
    for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
        char *value = mail_encode_header(subjects[i]);
        assert_null(strstr(value, "\n\n"));
        char *back = s_decode_words(value);
        assert_string_equal(back, subjects[i]);
        free(back);
        free(value);
    }
}

static void test_message_id(void **state)
{
    char id[128];
    mail_message_id(id, sizeof id, 42, "kefu.example");
    assert_string_equal(id, "<kefu.notification.42@kefu.example>");
    mail_message_id(id, sizeof id, 42, NULL);
    assert_string_equal(id, "<kefu.notification.42@localhost>");
    assert_string_equal(mail_domain("notify@kefu.example"), "kefu.example");
    assert_string_equal(mail_domain("nobody"), "localhost");
}

static void test_addresses(void **state)
{
    assert_true(mail_address_ok("eng.zhao@kefu.example"));
    assert_true(mail_address_ok("a+b@x.y"));
    const char *bad[] = {
        "",        "nobody",  "@x.y",      "a@",    "a@b@c", "a b@x.y", "a@x.y\r\nRCPT TO:<c@d>",
        "<a@x.y>", "a,b@x.y", "\"a\"@x.y", "张@x.y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(mail_address_ok(bad[i]));
    assert_false(mail_address_ok(NULL));
}

static void test_message(void **state)
{
    mail_t mail = {.from = "notify@kefu.example",
                   .from_name = "kefu 客服中心",
                   .to = "eng.zhao@kefu.example",
                   .subject = "【新工单】KF-2026-000001",
                   .body = "赵强，您好：\n\n工单已分派给您。\n",
                   .notification = 77,
                   .event = "01a20777-e237-7e64-a467-448d2cae9ae7",
                   .date = 1795420800};
    char *message = mail_build(&mail);
    assert_non_null(message);
    assert_non_null(strstr(message, "\r\nTo: <eng.zhao@kefu.example>\r\n"));
    assert_non_null(strstr(message, "\r\nMessage-ID: <kefu.notification.77@kefu.example>\r\n"));
    assert_non_null(strstr(message, "\r\nX-Kefu-Notification: 77\r\n"));
    assert_non_null(strstr(message, "\r\nContent-Type: text/plain; charset=UTF-8\r\n"));
    assert_non_null(strstr(message, "\r\nContent-Transfer-Encoding: base64\r\n"));
    assert_non_null(strstr(message, "\r\nMIME-Version: 1.0\r\n"));
    assert_memory_equal(message, "From: =?UTF-8?B?", 16);
    /* Every line ends with CRLF and is at most 78 bytes. */
    for (const char *line = message; *line;) {
        const char *eol = strstr(line, "\r\n");
        assert_non_null(eol);
        assert_true(eol - line <= 78);
        line = eol + 2;
    }
    /* The body is the text with CRLF line ends. */
    const char *body = strstr(message, "\r\n\r\n") + 4;
    char flat[512] = "";
    for (const char *p = body; *p; p++)
        if (*p != '\r' && *p != '\n')
            strncat(flat, p, 1);
    unsigned char decoded[512];
    size_t n = s_unbase64(flat, strlen(flat), decoded);
    decoded[n] = '\0';
    assert_string_equal((char *)decoded, "赵强，您好：\r\n\r\n工单已分派给您。\r\n");
    free(message);
    /* An address that would add a header or a command is refused. */
    mail.to = "eng.zhao@kefu.example\r\nBcc: x@y.z";
    assert_null(mail_build(&mail));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_subjects_stay),
        cmocka_unit_test(test_chinese_subjects_round_trip),
        cmocka_unit_test(test_message_id),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
