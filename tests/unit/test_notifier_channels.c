/* kefu — unit tests of the notifier's channels without a network: how
   gateway and SMTP replies are classified (delivered, retry, failed for
   good), the file channel's lines, and how a line written before a crash
   is recognised by its id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "channels.h"

static void test_http_outcomes(void **state)
{
    assert_int_equal(channels_http_outcome(200), SEND_OK);
    assert_int_equal(channels_http_outcome(202), SEND_OK);
    assert_int_equal(channels_http_outcome(0), SEND_RETRY);
    assert_int_equal(channels_http_outcome(408), SEND_RETRY);
    assert_int_equal(channels_http_outcome(429), SEND_RETRY);
    assert_int_equal(channels_http_outcome(500), SEND_RETRY);
    assert_int_equal(channels_http_outcome(503), SEND_RETRY);
    assert_int_equal(channels_http_outcome(400), SEND_FAIL);
    assert_int_equal(channels_http_outcome(401), SEND_FAIL);
    assert_int_equal(channels_http_outcome(404), SEND_FAIL);
    assert_int_equal(channels_http_outcome(301), SEND_FAIL);
}

static void test_smtp_outcomes(void **state)
{
    assert_int_equal(channels_smtp_outcome(550), SEND_FAIL);
    assert_int_equal(channels_smtp_outcome(553), SEND_FAIL);
    assert_int_equal(channels_smtp_outcome(554), SEND_FAIL);
    assert_int_equal(channels_smtp_outcome(535), SEND_RETRY); /* our credentials */
    assert_int_equal(channels_smtp_outcome(530), SEND_RETRY);
    assert_int_equal(channels_smtp_outcome(421), SEND_RETRY);
    assert_int_equal(channels_smtp_outcome(451), SEND_RETRY);
    assert_int_equal(channels_smtp_outcome(0), SEND_RETRY);
}

static void test_needs_an_endpoint(void **state)
{
    char err[300];
    channels_config_t config = {.file_path = "",
                                .sms_url = "",
                                .sms_token = "",
                                .sms_id_prefix = "kefu-",
                                .smtp_url = "smtp://127.0.0.1:1",
                                .smtp_user = "",
                                .smtp_password = "",
                                .smtp_from = "notify@kefu.example",
                                .smtp_from_name = ""};
    assert_null(channels_new(&config, err, sizeof err));
    assert_non_null(strstr(err, "KEFU_SMS_URL"));
    config.smtp_from = "not an address";
    config.sms_url = "http://127.0.0.1:1/sms";
    assert_null(channels_new(&config, err, sizeof err));
    assert_non_null(strstr(err, "KEFU_SMTP_FROM"));
}

static void test_file_channel(void **state)
{
    char path[] = "/tmp/kefu-test-channel.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[300];
    channels_config_t config = {.file_path = path,
                                .sms_url = "",
                                .sms_token = "",
                                .sms_id_prefix = "kefu-",
                                .smtp_url = "",
                                .smtp_user = "",
                                .smtp_password = "",
                                .smtp_from = "notify@kefu.example",
                                .smtp_from_name = ""};
    channels_t *channels = channels_new(&config, err, sizeof err);
    assert_non_null(channels);
    assert_string_equal(channels_via(channels, "sms"), "file");
    assert_string_equal(channels_via(channels, "email"), "file");
    note_t note = {.id = 7,
                   .event_id = "e1",
                   .event_type = "ticket.routed",
                   .ticket = "KF-2026-000001",
                   .recipient_kind = "homeowner",
                   .recipient_id = "3",
                   .channel = "sms",
                   .address = "13800138000",
                   .lang = "zh",
                   .subject = "",
                   .body = "第一行\n\"引号\"",
                   .attempts = 1};
    char error[200];
    assert_int_equal(channels_send(channels, &note, error, sizeof error), SEND_OK);
    note.id = 1234;
    note.channel = "email";
    note.subject = "主题";
    assert_int_equal(channels_send(channels, &note, error, sizeof error), SEND_OK);
    note.address = "";
    assert_int_equal(channels_send(channels, &note, error, sizeof error), SEND_FAIL);

    /* One JSON object a line, "id" first. */
    FILE *file = fopen(path, "r");
    char line[1024];
    assert_non_null(fgets(line, sizeof line, file));
    assert_memory_equal(line, "{\"id\":7,", 8);
    json_error_t json_err;
    json_t *obj = json_loads(line, 0, &json_err);
    assert_non_null(obj);
    assert_string_equal(json_string_value(json_object_get(obj, "text")), "第一行\n\"引号\"");
    assert_string_equal(json_string_value(json_object_get(obj, "to")), "13800138000");
    json_decref(obj);
    assert_non_null(fgets(line, sizeof line, file));
    assert_memory_equal(line, "{\"id\":1234,", 11);
    assert_null(fgets(line, sizeof line, file));
    fclose(file);

    int64_t ids[] = {1234, 8, 7, 123};
    bool found[4];
    assert_int_equal(channels_file_holds(channels, ids, 4, found), 0);
    assert_true(found[0]);
    assert_false(found[1]);
    assert_true(found[2]);
    assert_false(found[3]); /* 123 is a prefix of 1234, not a match */
    channels_destroy(&channels);
    assert_null(channels);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_outcomes),
        cmocka_unit_test(test_smtp_outcomes),
        cmocka_unit_test(test_needs_an_endpoint),
        cmocka_unit_test(test_file_channel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
