/* kefu — unit tests of the CSV reader of the operator imports
   (services/cli/admin_csv.c): RFC 4180 quoting, line ends, line numbers,
   bad records reported by line and skipped, UTF-8, and the header map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "admin.h"
#include "admin_csv.h"

/* Reads all of text; each record is appended to out as
   "LINE:field|field|...\n" and each bad one as "LINE:!error\n". */
static void s_read(const char *text, size_t size, char *out, size_t out_size)
{
    csv_t *csv = csv_new(text, size);
    assert_non_null(csv);
    csv_record_t rec;
    int got;
    out[0] = '\0';
    while ((got = csv_next(csv, &rec)) != CSV_END) {
        size_t used = strlen(out);
        if (got == CSV_BAD) {
            snprintf(out + used, out_size - used, "%zu:!%s\n", rec.line, rec.error);
            continue;
        }
        snprintf(out + used, out_size - used, "%zu:", rec.line);
        for (size_t i = 0; i < rec.count; i++) {
            used = strlen(out);
            assert_int_equal(strlen(rec.fields[i]), rec.lens[i]);
            snprintf(out + used, out_size - used, "%s%s", i ? "|" : "", rec.fields[i]);
        }
        used = strlen(out);
        snprintf(out + used, out_size - used, "\n");
    }
    /* The end stays the end. */
    assert_int_equal(csv_next(csv, &rec), CSV_END);
    csv_destroy(&csv);
    assert_null(csv);
}

static void s_expect(const char *text, const char *want)
{
    char got[4096];
    s_read(text, strlen(text), got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("input:\n%s\nwant:\n%s\ngot:\n%s", text, want, got);
}

static void test_plain(void **state)
{
    s_expect("a,b,c\n1,2,3\n", "1:a|b|c\n2:1|2|3\n");
    s_expect("a,b,c\r\n1,2,3\r\n", "1:a|b|c\n2:1|2|3\n"); /* CRLF */
    s_expect("a,b\r1,2\r", "1:a|b\n2:1|2\n");             /* old Mac */
    s_expect("a,b\n1,2", "1:a|b\n2:1|2\n");               /* no final line end */
    s_expect("a,,c\n,,\n", "1:a||c\n2:||\n");             /* empty fields */
    s_expect("a,b,\n", "1:a|b|\n");                       /* trailing comma */
    s_expect("", "");
    s_expect("\n\r\n\n", "");             /* only empty lines */
    s_expect("a\n\n\nb\n", "1:a\n4:b\n"); /* empty lines skipped, counted */
    s_expect(" a , b \n", "1: a | b \n"); /* spaces are data */
}

static void test_quoted(void **state)
{
    s_expect("\"a,b\",c\n", "1:a,b|c\n");
    s_expect("\"say \"\"hi\"\"\",x\n", "1:say \"hi\"|x\n");
    s_expect("\"\",x\n", "1:|x\n");
    s_expect("\"\"\"\"\n", "1:\"\n");
    /* Line ends inside quotes are data; the next record's line is right. */
    s_expect("\"line one\nline two\",b\nc,d\n", "1:line one\nline two|b\n3:c|d\n");
    s_expect("\"a\r\nb\"\r\nc\r\n", "1:a\r\nb\n3:c\n");
    s_expect("x,\"a\n\n\nb\"\ny\n", "1:x|a\n\n\nb\n5:y\n");
    s_expect("\"a\",\"b\"", "1:a|b\n");
    s_expect("\"中文,逗号\",王芳\n", "1:中文,逗号|王芳\n");
}

static void test_bad_records(void **state)
{
    /* A quote inside an unquoted field: that line is reported, the next is read. */
    s_expect("ok,1\nbad\"x,2\nok,3\n",
             "1:ok|1\n2:!field 1: a quote inside an unquoted field (quote the field and double "
             "the quote: \"a\"\"b\")\n3:ok|3\n");
    s_expect("a,\"b\"c\nd\n", "1:!field 2: text after the closing quote\n2:d\n");
    s_expect("a,\"b\" \nd\n", "1:!field 2: text after the closing quote\n2:d\n");
    /* An unterminated quote ends the input. */
    s_expect("a\n\"never closed,x\ny\n",
             "1:a\n2:!field 1: the quote opened on line 2 is never closed\n");
    /* A NUL byte. */
    const char nul[] = "a,b\nc\0d,e\nf\n";
    char got[512];
    s_read(nul, sizeof nul - 1, got, sizeof got);
    assert_string_equal(got, "1:a|b\n2:!field 1: contains a NUL byte\n3:f\n");
}

static void test_utf8(void **state)
{
    /* A byte order mark at the start is not data. */
    s_expect("\xEF\xBB\xBFname,phone\n张三,138\n", "1:name|phone\n2:张三|138\n");
    /* GBK bytes, a truncated sequence, an overlong encoding, a surrogate:
       each rejects its record by line and the reader goes on. */
    s_expect("a\n\xD6\xD0\xCE\xC4,1\nb\n",
             "1:a\n2:!field 1 is not valid UTF-8 (save the file as UTF-8, not GBK)\n3:b\n");
    s_expect("x,\xE4\xB8\n", "1:!field 2 is not valid UTF-8 (save the file as UTF-8, not GBK)\n");
    s_expect("\xC0\xAF\n", "1:!field 1 is not valid UTF-8 (save the file as UTF-8, not GBK)\n");
    s_expect("\xED\xA0\x80\n", "1:!field 1 is not valid UTF-8 (save the file as UTF-8, not GBK)\n");
    s_expect("\"ok\n\xFF\"\nz\n",
             "1:!field 1 is not valid UTF-8 (save the file as UTF-8, not GBK)\n3:z\n");
}

static void test_many_fields(void **state)
{
    /* More fields than the reader's first allocation, and a long field. */
    char text[8192];
    size_t used = 0;
    for (int i = 0; i < 100; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s%d", i ? "," : "", i);
    used += (size_t)snprintf(text + used, sizeof text - used, "\n\"");
    for (int i = 0; i < 3000; i++)
        text[used++] = 'x';
    snprintf(text + used, sizeof text - used, "\"\n");
    csv_t *csv = csv_new(text, strlen(text));
    csv_record_t rec;
    assert_int_equal(csv_next(csv, &rec), CSV_RECORD);
    assert_int_equal(rec.count, 100);
    assert_string_equal(rec.fields[99], "99");
    assert_int_equal(csv_next(csv, &rec), CSV_RECORD);
    assert_int_equal(rec.count, 1);
    assert_int_equal(rec.lens[0], 3000);
    assert_int_equal(rec.line, 2);
    assert_int_equal(csv_next(csv, &rec), CSV_END);
    csv_destroy(&csv);
}

static void test_header(void **state)
{
    static const char *const phone_aliases[] = {"电话", NULL};
    const csv_column_t cols[] = {
        {"name", NULL, true}, {"phone", phone_aliases, true}, {"lang", NULL, false}};
    int index[3];
    adm_problems_t problems;

    /* Any order, any case, spaces around, an alias. */
    csv_t *csv = csv_new("电话, NAME \n", 13);
    csv_record_t rec;
    assert_int_equal(csv_next(csv, &rec), CSV_RECORD);
    adm_problems_init(&problems, 10);
    assert_int_equal(csv_header(&rec, cols, 3, index, &problems), 0);
    assert_int_equal(index[0], 1);
    assert_int_equal(index[1], 0);
    assert_int_equal(index[2], -1);
    adm_problems_free(&problems);
    csv_destroy(&csv);

    /* Unknown, repeated and missing columns are each named. */
    const char *bad = "name,nmae,name,lang\n";
    csv = csv_new(bad, strlen(bad));
    assert_int_equal(csv_next(csv, &rec), CSV_RECORD);
    adm_problems_init(&problems, 10);
    assert_int_equal(csv_header(&rec, cols, 3, index, &problems), -1);
    assert_int_equal(problems.total, 3);
    assert_string_equal(problems.items[0].message,
                        "unknown column 'nmae' (known: name, phone, lang)");
    assert_string_equal(problems.items[1].message, "column name is given twice (fields 1 and 3)");
    assert_string_equal(problems.items[2].message, "the required column phone is missing");
    assert_string_equal(problems.items[2].place, "header");
    assert_int_equal(problems.items[2].line, 1);
    adm_problems_free(&problems);
    csv_destroy(&csv);
}

static void test_problems(void **state)
{
    /* At most max are kept, all are counted by reason, sorting is by line
       and stable. */
    adm_problems_t p;
    adm_problems_init(&p, 3);
    adm_problem(&p, 9, "phone", "bad_phone", "nine");
    adm_problem(&p, 2, "unit", "unknown_unit", "two");
    adm_problem(&p, 9, "segment", "bad_segment", "nine again");
    adm_problem(&p, 1, "phone", "bad_phone", "not kept");
    adm_problems_count(&p, "unknown_unit", 5);
    assert_int_equal(p.count, 3);
    assert_int_equal(p.total, 9);
    adm_problems_sort(&p);
    assert_string_equal(p.items[0].message, "two");
    assert_string_equal(p.items[1].message, "nine");
    assert_string_equal(p.items[2].message, "nine again");
    assert_int_equal(p.nreasons, 3);
    assert_string_equal(p.reasons[0].code, "bad_phone");
    assert_int_equal(p.reasons[0].count, 2);
    assert_int_equal(p.reasons[1].count, 6);
    adm_problems_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),       cmocka_unit_test(test_quoted),
        cmocka_unit_test(test_bad_records), cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_many_fields), cmocka_unit_test(test_header),
        cmocka_unit_test(test_problems),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
