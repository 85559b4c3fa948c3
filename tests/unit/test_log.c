/* kefu — unit tests of log lines and quoting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Runs fn with stderr sent to a temporary file; returns what it wrote
   (caller frees). */
static char *s_capture(void (*fn)(void))
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    fn();
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    long size = ftell(tmp);
    assert_true(size >= 0);
    char *text = calloc(1, (size_t)size + 1);
    rewind(tmp);
    assert_int_equal(fread(text, 1, (size_t)size, tmp), (size_t)size);
    fclose(tmp);
    return text;
}

static void s_log_some(void)
{
    kf_debug("hidden.debug", NULL);
    kf_info("submit.accepted", "ticket=%s", "KF-2026-000001");
    kf_warn("frame.refused", "code=%s message=%s", "bad_utf8", "\"a\nb\"");
    kf_error("plain", NULL);
}

static void test_lines(void **state)
{
    assert_int_equal(kf_log_init("intake", "info"), 0);
    char *text = s_capture(s_log_some);
    /* three lines: debug is below the level */
    int lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 3);
    assert_null(strstr(text, "hidden.debug"));
    char *line = strtok(text, "\n");
    assert_non_null(line);
    /* ts=YYYY-MM-DDTHH:MM:SS.mmmZ */
    assert_memory_equal(line, "ts=", 3);
    assert_int_equal(strlen(line) > 28, 1);
    assert_int_equal(line[7], '-');
    assert_int_equal(line[13], 'T');
    assert_int_equal(line[22], '.');
    assert_int_equal(line[26], 'Z');
    assert_int_equal(line[27], ' ');
    assert_string_equal(line + 28,
                        "level=info daemon=intake event=submit.accepted ticket=KF-2026-000001");
    line = strtok(NULL, "\n");
    assert_non_null(strstr(line, "level=warn daemon=intake event=frame.refused code=bad_utf8"));
    line = strtok(NULL, "\n");
    assert_non_null(strstr(line, "level=error daemon=intake event=plain"));
    free(text);

    assert_int_equal(kf_log_init("intake", "debug"), 0);
    text = s_capture(s_log_some);
    assert_non_null(strstr(text, "level=debug daemon=intake event=hidden.debug"));
    free(text);
    assert_int_equal(kf_log_init("intake", "error"), 0);
    text = s_capture(s_log_some);
    assert_null(strstr(text, "level=warn"));
    assert_non_null(strstr(text, "level=error"));
    free(text);
}

static void test_init(void **state)
{
    assert_int_equal(kf_log_init("x", "warn"), 0);
    assert_int_equal(kf_log_init("x", "verbose"), -1);
    assert_int_equal(kf_log_init("x", "INFO"), -1);
    assert_int_equal(kf_log_init("x", ""), -1);
    assert_int_equal(kf_log_init("x", NULL), -1);
}

static void test_quote(void **state)
{
    char buf[64];
    assert_string_equal(kf_log_quote("plain", buf, sizeof buf), "plain");
    assert_string_equal(kf_log_quote("store down", buf, sizeof buf), "\"store down\"");
    assert_string_equal(kf_log_quote("a=b", buf, sizeof buf), "\"a=b\"");
    assert_string_equal(kf_log_quote("say \"hi\"", buf, sizeof buf), "\"say \\\"hi\\\"\"");
    assert_string_equal(kf_log_quote("two\nlines", buf, sizeof buf), "\"two\\nlines\"");
    assert_string_equal(kf_log_quote("back\\slash", buf, sizeof buf), "\"back\\\\slash\"");
    assert_string_equal(kf_log_quote("bell\a", buf, sizeof buf), "\"bell\\x07\"");
    assert_string_equal(kf_log_quote("", buf, sizeof buf), "\"\"");
    assert_string_equal(kf_log_quote(NULL, buf, sizeof buf), "\"\"");
    assert_string_equal(kf_log_quote("中文", buf, sizeof buf), "中文");
    /* truncated, but still closed */
    char small[8];
    assert_string_equal(kf_log_quote("a b c d e f", small, sizeof small), "\"a b c\"");
    assert_string_equal(kf_log_quote("abcdefghij", small, sizeof small), "abcdefg");
    char tiny[2];
    assert_string_equal(kf_log_quote("a b", tiny, sizeof tiny), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_quote),
    };
    return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
