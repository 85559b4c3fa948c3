/* kefu — unit tests of configuration from the environment: the typed
   table, its validation, --help and the Markdown table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"
#include "config.h"
#include "health.h"

static const kf_setting_t s_table[] = {
    KF_SETTINGS_COMMON,
    KF_SET_INT("KEFU_TEST_PORT", "7700", 1, 65535, "a port"),
    KF_SET_INT("KEFU_TEST_EMPTY", "", 0, 10, "no default"),
    KF_SET_STRING("KEFU_TEST_TEXT", "", "optional text"),
    KF_SET_URL("KEFU_TEST_URL", "", "http|https", "optional URL"),
    KF_SET_TZ("KEFU_TEST_TZ", "UTC", "a zone"),
    {.name = "KEFU_TEST_FILES",
     .def = "/tmp",
     .type = KF_TYPE_PATH,
     .reloadable = true,
     .help = "files re-read"},
    KF_SETTINGS_END,
};

/* A table with one setting that needs a value and has no default. */
static const kf_setting_t s_required[] = {
    KF_SET_ENDPOINT("KEFU_TEST_PEER", "", "the peer"),
    KF_SETTINGS_END,
};

/* Runs kf_config_check on table and returns what it printed (free it). */
static char *s_check(const kf_setting_t *table, int *rc)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    *rc = kf_config_check(out, "kefu-test", table);
    fclose(out);
    return text;
}

/* Expects kf_config_check to refuse var=value, saying each fragment. */
static void s_refused(const char *var, const char *value, const char *fragment)
{
    setenv(var, value, 1);
    int rc = 0;
    char *text = s_check(s_table, &rc);
    assert_int_equal(rc, -1);
    char expected[200];
    snprintf(expected, sizeof expected, "kefu-test: %s=%s: ", var, value);
    if (!strstr(text, expected) || !strstr(text, fragment))
        fail_msg("%s=%s: got '%s', expected '%s' and '%s'", var, value, text, expected, fragment);
    free(text);
    unsetenv(var);
}

static void test_str(void **state)
{
    unsetenv("KEFU_LOG_LEVEL");
    assert_string_equal(kf_config_str(s_table, "KEFU_LOG_LEVEL"), "info");
    assert_string_equal(kf_config_str(s_table, "KEFU_DATABASE_URL"), "postgresql:///kefu");
    setenv("KEFU_LOG_LEVEL", "debug", 1);
    assert_string_equal(kf_config_str(s_table, "KEFU_LOG_LEVEL"), "debug");
    /* an empty variable counts as unset */
    setenv("KEFU_LOG_LEVEL", "", 1);
    assert_string_equal(kf_config_str(s_table, "KEFU_LOG_LEVEL"), "info");
    unsetenv("KEFU_LOG_LEVEL");
}

static void test_int(void **state)
{
    long v = -1;
    unsetenv("KEFU_TEST_PORT");
    assert_int_equal(kf_config_int(s_table, "KEFU_TEST_PORT", &v), 0);
    assert_int_equal(v, 7700); /* the default */
    setenv("KEFU_TEST_PORT", "80", 1);
    assert_int_equal(kf_config_int(s_table, "KEFU_TEST_PORT", &v), 0);
    assert_int_equal(v, 80);
    setenv("KEFU_TEST_PORT", "65535", 1); /* the bounds are inclusive */
    assert_int_equal(kf_config_int(s_table, "KEFU_TEST_PORT", &v), 0);
    assert_int_equal(v, 65535);
    const char *bad[] = {"0", "65536", "-3", "12x", "x", " ", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("KEFU_TEST_PORT", bad[i], 1);
        v = 42;
        assert_int_equal(kf_config_int(s_table, "KEFU_TEST_PORT", &v), -1);
        assert_int_equal(v, 42);
    }
    unsetenv("KEFU_TEST_PORT");
    assert_int_equal(kf_config_int(s_table, "KEFU_TEST_EMPTY", &v), -1);
}

/* The defaults pass, except an integer without one. */
static void test_check_defaults(void **state)
{
    setenv("KEFU_TEST_EMPTY", "3", 1);
    int rc = -2;
    char *text = s_check(s_table, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(text, "");
    free(text);
    unsetenv("KEFU_TEST_EMPTY");
    text = s_check(s_table, &rc);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(text, "KEFU_TEST_EMPTY=: no value, expected integer 0..10"));
    free(text);
}

static void test_check_bad_values(void **state)
{
    setenv("KEFU_TEST_EMPTY", "3", 1);
    s_refused("KEFU_TEST_PORT", "12x", "not an integer, expected one in [1, 65535]");
    s_refused("KEFU_TEST_PORT", "0", "out of range [1, 65535]");
    s_refused("KEFU_TEST_PORT", "70000", "out of range [1, 65535]");
    s_refused("KEFU_BUS_PUB", "tcp://bus", "not a ZeroMQ endpoint");
    s_refused("KEFU_BUS_PUB", "bus:7701", "not a ZeroMQ endpoint");
    s_refused("KEFU_BUS_SUB", "tcp://:7702", "not a ZeroMQ endpoint");
    s_refused("KEFU_BUS_PULL", "tcp://bus:77x4", "not a ZeroMQ endpoint");
    s_refused("KEFU_LOG_LEVEL", "loud", "must be one of debug, info, warn or error");
    s_refused("KEFU_TEST_URL", "ftp://example.com", "not a URL, expected URL (http or https)");
    s_refused("KEFU_TEST_TZ", "Mars/Olympus_Mons", "no such time zone");
    s_refused("KEFU_TEST_TZ", "../../etc/passwd", "no such time zone");
    unsetenv("KEFU_TEST_EMPTY");
}

/* Good values of each type pass; empty optional ones too. */
static void test_check_good_values(void **state)
{
    setenv("KEFU_TEST_EMPTY", "0", 1);
    setenv("KEFU_BUS_PUB", "tcp://*:7701", 1);
    setenv("KEFU_BUS_SUB", "ipc:///run/kefu/sub", 1);
    setenv("KEFU_TEST_URL", "https://sms.example.com/send", 1);
    setenv("KEFU_DATABASE_URL", "host=db user=kefu", 1);
    int rc = -2;
    char *text = s_check(s_table, &rc);
    assert_int_equal(rc, 0);
    free(text);
    unsetenv("KEFU_TEST_EMPTY");
    unsetenv("KEFU_BUS_PUB");
    unsetenv("KEFU_BUS_SUB");
    unsetenv("KEFU_TEST_URL");
    unsetenv("KEFU_DATABASE_URL");
}

/* A database URL libpq refuses is named, its text (a password) is not. */
static void test_check_database_url(void **state)
{
    setenv("KEFU_TEST_EMPTY", "3", 1);
    setenv("KEFU_DATABASE_URL", "postgresql://kefu:s3cret@[::1/kefu", 1);
    int rc = 0;
    char *text = s_check(s_table, &rc);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(text, "KEFU_DATABASE_URL is not a libpq URL"));
    assert_null(strstr(text, "s3cret"));
    free(text);
    unsetenv("KEFU_DATABASE_URL");
    unsetenv("KEFU_TEST_EMPTY");
}

/* The shared settings' own defaults pass their check. */
static void test_check_shared_defaults(void **state)
{
    static const kf_setting_t shared[] = {KF_SETTINGS_COMMON, KF_SETTINGS_HEALTH("9100"),
                                          KF_SETTINGS_CURVE, KF_SETTINGS_END};
    for (const kf_setting_t *s = shared; s->name; s++)
        unsetenv(s->name);
    int rc = -2;
    char *text = s_check(shared, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(text, "");
    free(text);
}

/* A setting that needs a value and has none is refused, by name. */
static void test_check_empty_required(void **state)
{
    unsetenv("KEFU_TEST_PEER");
    int rc = 0;
    char *text = s_check(s_required, &rc);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(text, "kefu-test: KEFU_TEST_PEER=: no value, expected ZeroMQ endpoint"));
    free(text);
    setenv("KEFU_TEST_PEER", "tcp://peer:1", 1);
    text = s_check(s_required, &rc);
    assert_int_equal(rc, 0);
    free(text);
    unsetenv("KEFU_TEST_PEER");
}

/* Runs print on s_table into a string (free it). */
static char *s_print(void (*print)(FILE *, const kf_setting_t *))
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    print(out, s_table);
    fclose(out);
    return text;
}

static void test_help(void **state)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    kf_config_help(out, "kefu-test", "Tests things.", s_table);
    fclose(out);
    assert_non_null(strstr(text, "kefu-test"));
    assert_non_null(strstr(text, "Tests things."));
    for (const kf_setting_t *s = s_table; s->name; s++) {
        assert_non_null(strstr(text, s->name));
        assert_non_null(strstr(text, s->help));
    }
    assert_non_null(strstr(text, "tcp://127.0.0.1:7701"));
    assert_non_null(strstr(text, "  KEFU_TEST_PORT                integer 1..65535: a port "
                                 "(default: 7700)\n"));
    assert_non_null(strstr(text, "path, reloadable with SIGHUP: files re-read (default: /tmp)"));
    assert_non_null(strstr(text, "one of debug, info, warn or error"));
    assert_non_null(strstr(text, "optional text (default: none)"));
    free(text);
}

static void test_markdown(void **state)
{
    char *text = s_print(kf_config_markdown);
    assert_true(strncmp(text, "| variable | type | default | meaning |\n| --- |", 45) == 0);
    assert_non_null(strstr(text, "| `KEFU_TEST_PORT` | integer 1..65535 | `7700` | a port |\n"));
    assert_non_null(strstr(text, "| `KEFU_TEST_TEXT` | text | — | optional text |\n"));
    assert_non_null(strstr(text, "| `KEFU_TEST_FILES` | path | `/tmp` | files re-read; re-read on "
                                 "SIGHUP |\n"));
    size_t rows = 0;
    for (const char *c = text; (c = strchr(c, '\n')); c++)
        rows++;
    assert_int_equal(rows, 2 + sizeof s_table / sizeof s_table[0] - 1);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_check_defaults),
        cmocka_unit_test(test_check_bad_values),
        cmocka_unit_test(test_check_good_values),
        cmocka_unit_test(test_check_database_url),
        cmocka_unit_test(test_check_shared_defaults),
        cmocka_unit_test(test_check_empty_required),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_markdown),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
