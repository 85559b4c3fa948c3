/* kefu — unit tests of configuration from the environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

static const kf_setting_t s_table[] = {
    KF_SETTINGS_COMMON,
    {"KEFU_TEST_PORT", "7700", "a port"},
    {"KEFU_TEST_EMPTY", "", "no default"},
    KF_SETTINGS_END,
};

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
    assert_int_equal(kf_config_int(s_table, "KEFU_TEST_PORT", 1, 65535, &v), 0);
    assert_int_equal(v, 7700);
    setenv("KEFU_TEST_PORT", "80", 1);
    assert_int_equal(kf_config_int(s_table, "KEFU_TEST_PORT", 1, 65535, &v), 0);
    assert_int_equal(v, 80);
    const char *bad[] = {"0", "65536", "-3", "12x", "x", " ", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("KEFU_TEST_PORT", bad[i], 1);
        v = 42;
        assert_int_equal(kf_config_int(s_table, "KEFU_TEST_PORT", 1, 65535, &v), -1);
        assert_int_equal(v, 42);
    }
    unsetenv("KEFU_TEST_PORT");
    assert_int_equal(kf_config_int(s_table, "KEFU_TEST_EMPTY", 0, 10, &v), -1);
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
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
