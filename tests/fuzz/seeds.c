/* kefu — writes the seed corpus of the fuzz targets (tests/fuzz/corpus/).

   Usage: fuzz_seeds PROTO-EXAMPLES-DIR CORPUS-DIR
   Writes CORPUS-DIR/TARGET/seed-NAME for every target: the examples of
   proto/envelope.md (read from their .hex files) and hand-made valid and
   hostile inputs, each named after what it exercises. The files are
   committed; re-run this only to change the seeds (see README.md). Crash
   regressions (crash-*) are added by hand, never by this program. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <msgpack.h>

static const char *s_corpus;
static int s_written;

static void s_die(const char *what, const char *path)
{
    fprintf(stderr, "fuzz_seeds: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

/* Writes one seed file. */
static void s_write(const char *target, const char *name, const void *data, size_t size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s_corpus, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        s_die("cannot create", path);
    snprintf(path, sizeof path, "%s/%s/seed-%s", s_corpus, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        s_die("cannot write", path);
    s_written++;
}

/* ---- msgpack helpers --------------------------------------------- */

typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} buf_t;

static void s_init(buf_t *b)
{
    msgpack_sbuffer_init(&b->sb);
    msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
}

static void s_str(buf_t *b, const char *s)
{
    msgpack_pack_str_with_body(&b->pk, s, strlen(s));
}

static void s_raw(buf_t *b, const char *bytes, size_t size)
{
    msgpack_sbuffer_write(&b->sb, bytes, size);
}

/* Packs a map of string pairs; a value "#nil" is nil, "#int" the int 7,
   "#bin" a bin of 2 bytes, "#map" an empty map, "#neg" the int -1,
   "#i:N" the integer N, "#true" true, "#float" the float64 80000.5. */
static void s_pairs(buf_t *b, const char *const *pairs)
{
    size_t n = 0;
    while (pairs[2 * n])
        n++;
    msgpack_pack_map(&b->pk, n);
    for (size_t i = 0; i < n; i++) {
        const char *v = pairs[2 * i + 1];
        s_str(b, pairs[2 * i]);
        if (strcmp(v, "#nil") == 0)
            msgpack_pack_nil(&b->pk);
        else if (strcmp(v, "#int") == 0)
            msgpack_pack_int(&b->pk, 7);
        else if (strcmp(v, "#neg") == 0)
            msgpack_pack_int(&b->pk, -1);
        else if (strncmp(v, "#i:", 3) == 0)
            msgpack_pack_int64(&b->pk, strtoll(v + 3, NULL, 10));
        else if (strcmp(v, "#true") == 0)
            msgpack_pack_true(&b->pk);
        else if (strcmp(v, "#float") == 0)
            msgpack_pack_double(&b->pk, 80000.5);
        else if (strcmp(v, "#bin") == 0) {
            msgpack_pack_bin(&b->pk, 2);
            msgpack_pack_bin_body(&b->pk, "\x00\x01", 2);
        } else if (strcmp(v, "#map") == 0)
            msgpack_pack_map(&b->pk, 0);
        else
            s_str(b, v);
    }
}

/* Writes a body seed of pairs for target, with an optional prefix byte. */
static void s_body_seed(const char *target, const char *name, int prefix, const char *const *pairs)
{
    buf_t b;
    s_init(&b);
    if (prefix >= 0) {
        char c = (char)prefix;
        s_raw(&b, &c, 1);
    }
    s_pairs(&b, pairs);
    s_write(target, name, b.sb.data, b.sb.size);
    msgpack_sbuffer_destroy(&b.sb);
}

/* ---- envelope seeds ------------------------------------------------ */

/* Writes an envelope seed: the topic's length byte, topic, frame. */
static void s_env_seed(const char *name, const char *topic, size_t topic_size, const void *frame,
                       size_t frame_size)
{
    size_t size = 1 + topic_size + frame_size;
    unsigned char *data = malloc(size);
    if (!data)
        exit(1);
    data[0] = (unsigned char)topic_size;
    memcpy(data + 1, topic, topic_size);
    memcpy(data + 1 + topic_size, frame, frame_size);
    s_write("envelope", name, data, size);
    free(data);
}

/* Packs the header of a valid request of type with n keys in all (the
   caller packs n - 7 more, usually "body" and its map). */
static void s_header(buf_t *b, const char *type, size_t n)
{
    msgpack_pack_map(&b->pk, n);
    s_str(b, "v");
    msgpack_pack_int(&b->pk, 1);
    s_str(b, "type");
    s_str(b, type);
    s_str(b, "id");
    s_str(b, "0b7f6a52-8c1e-4d3a-9f20-6e5d4c3b2a19");
    s_str(b, "seq");
    msgpack_pack_int(&b->pk, 0);
    s_str(b, "at");
    msgpack_pack_int64(&b->pk, INT64_C(1795419000123));
    s_str(b, "src");
    s_str(b, "kefu-cli");
    s_str(b, "corr");
    msgpack_pack_nil(&b->pk);
}

/* Reads an example of proto/examples (NAME.hex): frame 1, then frame 2. */
static void s_example(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.hex", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        s_die("cannot open", path);
    unsigned char frame[2][70000];
    size_t size[2] = {0, 0};
    int which = -1;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "# frame 1", 9) == 0)
            which = 0;
        else if (strncmp(line, "# frame 2", 9) == 0)
            which = 1;
        if (line[0] == '#' || which < 0)
            continue;
        for (char *p = line; p[0] && p[1] && p[0] != '\n'; p += 2) {
            unsigned int byte;
            if (sscanf(p, "%2x", &byte) != 1 || size[which] >= sizeof frame[which])
                s_die("bad hex in", path);
            frame[which][size[which]++] = (unsigned char)byte;
        }
    }
    fclose(f);
    if (!size[0] || !size[1])
        s_die("no frames in", path);
    char seed[128];
    snprintf(seed, sizeof seed, "example-%s", name);
    s_env_seed(seed, (const char *)frame[0], size[0], frame[1], size[1]);
    if (strcmp(name, "submit") == 0) {
        /* Hostile variants of the submit example. */
        s_env_seed("submit-truncated", (const char *)frame[0], size[0], frame[1], size[1] / 2);
        unsigned char longer[sizeof frame[1] + 1];
        memcpy(longer, frame[1], size[1]);
        longer[size[1]] = 0xc0;
        s_env_seed("submit-trailing-byte", (const char *)frame[0], size[0], longer, size[1] + 1);
        s_env_seed("submit-topic-mismatch", "ticket.show", 11, frame[1], size[1]);
        s_env_seed("submit-topic-empty", "", 0, frame[1], size[1]);
        char topic65[65];
        memset(topic65, 's', sizeof topic65);
        s_env_seed("submit-topic-65-bytes", topic65, sizeof topic65, frame[1], size[1]);
    }
}

/* Envelopes whose bodies nest deeply or carry floats and huge integers. */
static void s_body_shape_seeds(void)
{
    buf_t b;
    s_init(&b);
    s_header(&b, "ticket.list", 8);
    s_str(&b, "body");
    msgpack_pack_map(&b.pk, 0);
    s_env_seed("minimal-list", "ticket.list", 11, b.sb.data, b.sb.size);
    msgpack_sbuffer_destroy(&b.sb);

    /* Nested body values up to and past the depth limit, floats, unknown
       top-level keys. */
    s_init(&b);
    s_header(&b, "ticket.show", 10);
    s_str(&b, "x-extra");
    msgpack_pack_array(&b.pk, 2);
    msgpack_pack_double(&b.pk, 1.5);
    msgpack_pack_float(&b.pk, -0.25f);
    s_str(&b, "x-uint64");
    msgpack_pack_uint64(&b.pk, UINT64_MAX);
    s_str(&b, "body");
    msgpack_pack_map(&b.pk, 2);
    s_str(&b, "history");
    msgpack_pack_array(&b.pk, 1);
    msgpack_pack_map(&b.pk, 1);
    s_str(&b, "deep");
    msgpack_pack_array(&b.pk, 1);
    msgpack_pack_array(&b.pk, 1);
    msgpack_pack_array(&b.pk, 0);
    s_str(&b, "n");
    msgpack_pack_int64(&b.pk, INT64_MIN);
    s_env_seed("nested-deep", "ticket.show", 11, b.sb.data, b.sb.size);
    msgpack_sbuffer_destroy(&b.sb);

    /* Floats in a body (a report's figures). */
    s_init(&b);
    s_header(&b, "reply.ok", 8);
    s_str(&b, "body");
    msgpack_pack_map(&b.pk, 3);
    s_str(&b, "rate");
    msgpack_pack_double(&b.pk, 85.7);
    s_str(&b, "nps");
    msgpack_pack_float(&b.pk, -12.5f);
    s_str(&b, "count");
    msgpack_pack_int(&b.pk, 42);
    s_env_seed("body-floats", "reply.ok", 8, b.sb.data, b.sb.size);
    msgpack_sbuffer_destroy(&b.sb);
}

/* Envelopes a decoder must refuse for one fault each. */
static void s_bad_envelope_seeds(void)
{
    buf_t b;

    /* Bad UTF-8 in the body (one error only, so that a decoder missing
       that check accepts it); a duplicate key; v 2; a negative seq. */
    s_init(&b);
    s_header(&b, "submit", 8);
    s_str(&b, "body");
    msgpack_pack_map(&b.pk, 1);
    s_str(&b, "summary");
    msgpack_pack_str_with_body(&b.pk, "\xe5\x8d\xab\xed\xa0\x80", 6); /* a surrogate */
    s_env_seed("bad-utf8-in-body", "submit", 6, b.sb.data, b.sb.size);
    msgpack_sbuffer_destroy(&b.sb);

    s_init(&b);
    s_header(&b, "submit", 8);
    s_str(&b, "body");
    msgpack_pack_map(&b.pk, 2);
    s_str(&b, "a");
    s_str(&b, "1");
    s_str(&b, "a");
    s_str(&b, "2");
    s_env_seed("duplicate-key-in-body", "submit", 6, b.sb.data, b.sb.size);
    msgpack_sbuffer_destroy(&b.sb);

    s_init(&b);
    msgpack_pack_map(&b.pk, 8);
    s_str(&b, "v");
    msgpack_pack_int(&b.pk, 2);
    s_str(&b, "type");
    s_str(&b, "submit");
    s_str(&b, "id");
    s_str(&b, "x");
    s_str(&b, "seq");
    msgpack_pack_int(&b.pk, -5);
    s_str(&b, "at");
    msgpack_pack_int(&b.pk, 0);
    s_str(&b, "src");
    msgpack_pack_bin(&b.pk, 1);
    msgpack_pack_bin_body(&b.pk, "x", 1);
    s_str(&b, "corr");
    s_str(&b, "");
    s_str(&b, "body");
    msgpack_pack_array(&b.pk, 0);
    s_env_seed("v2-negative-seq-bin", "submit", 6, b.sb.data, b.sb.size);
    msgpack_sbuffer_destroy(&b.sb);

    /* Declared sizes far beyond the frame. */
    s_env_seed("array32-huge", "submit", 6, "\xdd\xff\xff\xff\xff", 5);
    s_env_seed("map32-huge", "submit", 6, "\xdf\xff\xff\xff\xff", 5);
    s_env_seed("str32-huge", "submit", 6, "\xdb\xff\xff\xff\xff", 5);
    s_env_seed("ext-and-reserved", "submit", 6, "\x92\xd4\x01\x02\xc1", 5);
    s_env_seed("nested-arrays", "submit", 6, "\x91\x91\x91\x91\x91\x91\x91\x91\x90", 9);
    s_env_seed("empty-frame", "submit", 6, "", 0);
}

static void s_envelope_seeds(const char *examples)
{
    s_example(examples, "submit");
    s_example(examples, "reply-ok");
    s_example(examples, "reply-error");
    s_example(examples, "ticket-submitted");
    s_body_shape_seeds();
    s_bad_envelope_seeds();
}

/* ---- JSON seeds ---------------------------------------------------- */

static void s_json(const char *name, const char *text)
{
    s_write("body_json", name, text, strlen(text));
}

static void s_json_seeds(void)
{
    s_json("event-submitted",
           "{\"ticket\":\"KF-2026-000001\",\"kind\":\"complaint\",\"category\":\"leak\","
           "\"channel\":\"phone\",\"priority\":\"high\",\"project\":\"HZ-XH\",\"building\":\"3\","
           "\"unit\":\"1502\",\"summary\":\"卫生间天花板漏水\",\"received_at\":1795419000161,"
           "\"actor\":\"wang.li\"}");
    s_json("history", "{\"history\":[{\"at\":1,\"action\":\"routed\",\"note\":null},"
                      "{\"at\":2,\"action\":\"transferred\",\"to\":\"eng.zhao\"}],\"count\":2}");
    s_json("numbers", "{\"a\":9223372036854775807,\"b\":-9223372036854775808,\"c\":1.5e300,"
                      "\"d\":-0.0,\"e\":0,\"f\":true,\"g\":false,\"h\":null}");
    s_json("escapes",
           "{\"s\":\"\\u4e2d\\ud83d\\ude00\\n\\t\\\"\",\"\\u00e9\":\"\",\"\":\"empty key\"}");
    s_json("depth-4", "{\"a\":[[[{}]]]}");
    s_json("depth-5", "{\"a\":[[[[1]]]]}");
    s_json("lone-surrogate", "{\"s\":\"\\ud800\"}");
    s_json("nul-escape", "{\"s\":\"a\\u0000b\"}");
    s_json("duplicate-key", "{\"a\":1,\"a\":2}");
    s_json("not-an-object", "[1,2,3]");
    s_json("empty-object", "{}");
    s_json("truncated", "{\"a\":[1,2");
    s_json("big-integer", "{\"a\":18446744073709551616}");
}

/* ticket.list searches: by number and words of the summary. */
static void s_search_seeds(void)
{
    const char *const list_search[] = {
        "no",    "KF-2026-000042", "q", "漏水\xe3\x80\x80卫生间 100% a_b\\c",
        "phone", "13800138000",    NULL};
    s_body_seed("req_list", "search", -1, list_search);
    const char *const list_many_words[] = {"q", "1 2 3 4 5 6 7 8 9", NULL};
    s_body_seed("req_list", "q-nine-words", -1, list_many_words);
}

/* ticket.list's queues and staff.list (fuzz_req_list decodes each body as
   both requests). */
static void s_queue_seeds(void)
{
    const char *const queue[] = {"department", "eng",    "state",  "overdue",
                                 "limit",      "#i:100", "cursor", "1764950399123456.42",
                                 NULL};
    s_body_seed("req_list", "queue-department-overdue", -1, queue);
    const char *const bad_state[] = {"state", "late", "department", "#int", NULL};
    s_body_seed("req_list", "queue-bad-state", -1, bad_state);
    const char *const staff[] = {"q",       "eng 刘_%", "department", "eng", "role",
                                 "manager", "cursor",   "eng.liu",    NULL};
    s_body_seed("req_list", "staff-filters", -1, staff);
    const char *const staff_bad[] = {"role", "boss", "cursor", "Eng Liu", "limit", "#i:0", NULL};
    s_body_seed("req_list", "staff-bad-role-cursor", -1, staff_bad);
}

/* ---- request seeds -------------------------------------------------- */

#define SUBMIT_OK                                                                                  \
    "actor", "wang.li", "idem", "call-20261123-0007", "kind", "complaint", "category", "leak",     \
        "channel", "phone", "priority", "high", "project", "HZ-XH", "building", "3", "unit",       \
        "1502", "phone", "138 0013 8000", "name", "张伟", "summary", "卫生间天花板漏水", "detail", \
        "楼上卫生间漏水三天了。"

static void s_request_seeds(void)
{
    const char *const ok[] = {SUBMIT_OK, NULL};
    s_body_seed("req_submit", "example", -1, ok);
    const char *const minimal[] = {"actor",    "agent.li", "kind",    "repair",
                                   "category", "heating",  "channel", "wechat",
                                   "project",  "SH-PD",    "phone",   "+86 (021) 5555-0100",
                                   "summary",  "no heat",  NULL};
    s_body_seed("req_submit", "minimal", -1, minimal);
    const char *const no_unit[] = {"actor", "agent.li", "kind",    "complaint", "category",
                                   "leak",  "channel",  "phone",   "project",   "HZ-XH",
                                   "phone", "12345",    "summary", "x",         "building",
                                   "3",     "detail",   "#nil",    NULL};
    s_body_seed("req_submit", "building-without-unit", -1, no_unit);
    const char *const hostile[] = {"actor",    "  ",   "kind",    "rant", "category", "#int",
                                   "channel",  "#bin", "project", "#map", "phone",    "1",
                                   "priority", "#neg", "summary", "",     NULL};
    s_body_seed("req_submit", "hostile-types", -1, hostile);
    const char *const bad_phone[] = {"actor", "agent.li",    "kind",    "complaint", "category",
                                     "leak",  "channel",     "phone",   "project",   "HZ-XH",
                                     "phone", "23800138000", "summary", "x",         NULL};
    s_body_seed("req_submit", "mobile-not-starting-1", -1, bad_phone);

    const char *const list_ok[] = {"actor", "mgr.chen",  "status",  "routed",
                                   "owner", "eng.zhao",  "project", "HZ-XH",
                                   "kind",  "complaint", NULL};
    s_body_seed("req_list", "filters", -1, list_ok);
    const char *const list_min[] = {"actor", "agent.li", NULL};
    s_body_seed("req_list", "minimal", -1, list_min);
    const char *const list_bad[] = {"actor", "agent.li", "limit", "#neg", "status", "open", NULL};
    s_body_seed("req_list", "bad-limit-status", -1, list_bad);
    buf_t b;
    s_init(&b);
    msgpack_pack_map(&b.pk, 2);
    s_str(&b, "actor");
    s_str(&b, "agent.li");
    s_str(&b, "limit");
    msgpack_pack_uint64(&b.pk, UINT64_MAX);
    s_write("req_list", "limit-uint64-max", b.sb.data, b.sb.size);
    msgpack_sbuffer_destroy(&b.sb);
    const char *const list_phone[] = {"phone",  "+86 138-0013-8000",   "since", "2026-11-01",
                                      "until",  "#i:1764950400000",    "limit", "#i:2",
                                      "cursor", "1764950399123456.42", NULL};
    s_body_seed("req_list", "phone-range-cursor", -1, list_phone);
    const char *const list_dates[] = {"since", "2024-02-29", "until", "2024-03-01", NULL};
    s_body_seed("req_list", "dates-leap-day", -1, list_dates);
    const char *const list_bad_cursor[] = {"cursor", "1764950399123456.0", "since", "2026-02-30",
                                           NULL};
    s_body_seed("req_list", "bad-cursor-date", -1, list_bad_cursor);
    const char *const list_empty_range[] = {"since", "#i:5", "until", "#i:5",
                                            "phone", "#int", NULL};
    s_body_seed("req_list", "empty-range", -1, list_empty_range);

    const char *const owner_ok[] = {"phone", "+86 138-0013-8000", NULL};
    s_body_seed("req_owner", "typed-phone", -1, owner_ok);
    const char *const owner_landline[] = {"phone", "0571-8888 6666", "actor", "gm.hz", NULL};
    s_body_seed("req_owner", "landline", -1, owner_landline);
    const char *const owner_none[] = {"name", "张伟", NULL};
    s_body_seed("req_owner", "no-phone", -1, owner_none);
    const char *const owner_bad[] = {"phone", "138001380001", NULL};
    s_body_seed("req_owner", "mobile-12-digits", -1, owner_bad);

    const char *const show[] = {"actor", "agent.li", "ticket", "KF-2026-000001", NULL};
    s_body_seed("req_action", "show", 0, show);
    const char *const respond[] = {"actor", "eng.zhao",   "ticket", "KF-2026-000001",
                                   "note",  "已联系业主", NULL};
    s_body_seed("req_action", "respond", 1, respond);
    const char *const transfer[] = {"actor",          "eng.zhao", "ticket",
                                    "KF-2026-000001", "to",       "pm.sun",
                                    "reason",         "物业负责", NULL};
    s_body_seed("req_action", "transfer", 2, transfer);
    const char *const resolve[] = {"actor", "eng.zhao", "ticket", "KF-2026-000001",
                                   "note",  "#nil",     NULL};
    s_body_seed("req_action", "resolve", 3, resolve);
    const char *const no_reason[] = {"actor", "eng.zhao", "ticket", "KF-1", "to", "pm.sun", NULL};
    s_body_seed("req_action", "transfer-without-reason", 2, no_reason);
}

/* ---- kefu-approval's and kefu-survey's request seeds ------------------ */

static void s_approval_seeds(void)
{
    const char *const open[] = {"ticket",   "KF-2026-000001", "type",   "settlement",
                                "amount",   "80000.50",       "reason", "漏水赔偿",
                                "promised", "2026-12-03",     "policy", "settlement-seq",
                                "idem",     "ap-20261123-01", NULL};
    s_body_seed("approval_req", "open", 0, open);
    const char *const open_number[] = {"ticket",   "KF-1",       "type",   "refund",
                                       "amount",   "#float",     "reason", "r",
                                       "promised", "2026-12-03", NULL};
    s_body_seed("approval_req", "open-amount-number", 0, open_number);
    const char *const open_bad[] = {"ticket",   "KF-1",       "type",   "repair_cost",
                                    "amount",   "80000.123",  "reason", "r",
                                    "promised", "2026-02-30", NULL};
    s_body_seed("approval_req", "open-three-decimals", 0, open_bad);
    const char *const open_big[] = {"ticket",   "KF-1",         "type",   "policy_exception",
                                    "amount",   "100000000.01", "reason", "  ",
                                    "promised", "2028-02-29",   "policy", "",
                                    NULL};
    s_body_seed("approval_req", "open-over-max-blank-reason", 0, open_big);
    const char *const open_currency[] = {"ticket",   "KF-1",       "type",   "refund",
                                         "amount",   "¥80,000",    "reason", "r",
                                         "promised", "2026-12-03", NULL};
    s_body_seed("approval_req", "open-currency-sign", 0, open_currency);
    const char *const list_empty[] = {NULL};
    s_body_seed("approval_req", "list-empty", 1, list_empty);
    const char *const list_max[] = {"limit", "#i:100", NULL};
    s_body_seed("approval_req", "list-limit-100", 1, list_max);
    const char *const list_bad[] = {"limit", "#i:101", NULL};
    s_body_seed("approval_req", "list-limit-101", 1, list_bad);
    const char *const show[] = {"request", "#i:42", NULL};
    s_body_seed("approval_req", "show", 2, show);
    const char *const show_text[] = {"request", "42", NULL};
    s_body_seed("approval_req", "show-request-text", 2, show_text);
    const char *const approve[] = {"request", "#i:42",   "step", "#i:3", "decision",
                                   "approve", "comment", "  ",   NULL};
    s_body_seed("approval_req", "decide-approve", 3, approve);
    const char *const reject[] = {
        "request", "#i:42", "decision", "reject", "comment", "金额过高，请重新核算", NULL};
    s_body_seed("approval_req", "decide-reject", 3, reject);
    const char *const reject_bare[] = {"request", "#i:42", "decision", "reject", NULL};
    s_body_seed("approval_req", "decide-reject-without-comment", 3, reject_bare);
    const char *const decide_bad[] = {"request", "#i:0", "step", "#neg", "decision", "maybe", NULL};
    s_body_seed("approval_req", "decide-bad-values", 3, decide_bad);
    const char *const delegate[] = {"delegate", "vp.qian",          "from", "#i:1795419000000",
                                    "to",       "#i:1796028000000", NULL};
    s_body_seed("approval_req", "delegate-week", 4, delegate);
    const char *const delegate_long[] = {"delegate", "vp.qian",        "from", "#i:0",
                                         "to",       "#i:31708800001", NULL};
    s_body_seed("approval_req", "delegate-over-366-days", 4, delegate_long);
    const char *const reassign[] = {"step",   "#i:812",     "to", "vp.zhou",
                                    "reason", "总经理出差", NULL};
    s_body_seed("approval_req", "reassign", 5, reassign);
    const char *const reassign_blank[] = {"step", "#i:812", "to", "vp.zhou", "reason", " ", NULL};
    s_body_seed("approval_req", "reassign-blank-reason", 5, reassign_blank);
    const char *const open_past[] = {"ticket",     "KF-1",   "type", "refund",   "amount",
                                     "1",          "reason", "r",    "promised", "2020-01-01",
                                     "allow_past", "#true",  NULL};
    s_body_seed("approval_req", "open-allow-past", 0, open_past);
    const char *const delegate_back[] = {"delegate", "vp.qian",          "from", "#i:1796028000000",
                                         "to",       "#i:1795419000000", NULL};
    s_body_seed("approval_req", "delegate-backwards", 4, delegate_back);
}

static void s_survey_seeds(void)
{
    const char *const answer[] = {"ticket", "KF-2026-000001", "score",      "#i:5", "nps",
                                  "#i:9",   "comment",        "师傅很专业", NULL};
    s_body_seed("survey_req", "answer-ticket", 0, answer);
    const char *const answer_id[] = {"survey", "#i:12", "score", "#i:2", "comment", "   ", NULL};
    s_body_seed("survey_req", "answer-survey-id", 0, answer_id);
    const char *const both[] = {"ticket", "KF-1", "survey", "#i:12", "score", "#i:4", NULL};
    s_body_seed("survey_req", "answer-both-names", 0, both);
    const char *const actor[] = {"actor", "mallory", "ticket", "KF-1", "score",
                                 "#i:4",  "nps",     "#nil",   NULL};
    s_body_seed("survey_req", "answer-with-actor", 0, actor);
    const char *const out_of_range[] = {"ticket", "KF-1", "score", "#i:6", "nps", "#i:11", NULL};
    s_body_seed("survey_req", "answer-out-of-range", 0, out_of_range);
    const char *const campaign[] = {"project", "HZ-XH",    "milestone", "move-in",
                                    "kind",    "campaign", NULL};
    s_body_seed("survey_req", "campaign", 1, campaign);
    const char *const campaign_bad[] = {"project", " ", "milestone", "handover", NULL};
    s_body_seed("survey_req", "campaign-bad", 1, campaign_bad);
    const char *const show[] = {"ticket", "KF-2026-000001", NULL};
    s_body_seed("survey_req", "show-ticket", 2, show);
    const char *const show_id[] = {"survey", "#i:3", NULL};
    s_body_seed("survey_req", "show-survey-id", 2, show_id);
    const char *const show_none[] = {NULL};
    s_body_seed("survey_req", "show-neither", 2, show_none);
}

static void s_report_seeds(void)
{
    const char *const empty[] = {NULL};
    s_body_seed("survey_report", "current-month", -1, empty);
    const char *const month[] = {"month",         "2025-03", "by",    "project", "tz",
                                 "Asia/Shanghai", "series",  "#true", NULL};
    s_body_seed("survey_report", "month-by-project-series", -1, month);
    const char *const dates[] = {"from", "2025-01-01", "to", "2025-04-01", "by", "kind", NULL};
    s_body_seed("survey_report", "range-dates", -1, dates);
    const char *const ms[] = {"from", "#i:1740758400000", "to", "#i:1743436800000", "tz", "UTC",
                              NULL};
    s_body_seed("survey_report", "range-ms", -1, ms);
    const char *const mixed[] = {"from", "2025-01-01", "to", "#i:1743436800000", NULL};
    s_body_seed("survey_report", "range-mixed", -1, mixed);
    const char *const bad_month[] = {"month", "2025-13", NULL};
    s_body_seed("survey_report", "month-13", -1, bad_month);
    const char *const both[] = {"month", "2025-03", "from", "2025-01-01", "to", "2025-02-01", NULL};
    s_body_seed("survey_report", "month-and-range", -1, both);
    const char *const half[] = {"from", "2024-02-29", NULL};
    s_body_seed("survey_report", "from-alone", -1, half);
    const char *const tz[] = {"tz", "UTC+8", "by", "team", NULL};
    s_body_seed("survey_report", "posix-tz-unknown-by", -1, tz);
    const char *const long_month[] = {"month", "2025-03-01", "series", "yes", NULL};
    s_body_seed("survey_report", "month-too-long", -1, long_month);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PROTO-EXAMPLES-DIR CORPUS-DIR\n", argv[0]);
        return 2;
    }
    s_corpus = argv[2];
    if (mkdir(s_corpus, 0755) != 0 && errno != EEXIST)
        s_die("cannot create", s_corpus);
    s_envelope_seeds(argv[1]);
    s_json_seeds();
    s_request_seeds();
    s_search_seeds();
    s_queue_seeds();
    s_approval_seeds();
    s_survey_seeds();
    s_report_seeds();
    printf("fuzz_seeds: %d seeds written under %s\n", s_written, s_corpus);
    return 0;
}
