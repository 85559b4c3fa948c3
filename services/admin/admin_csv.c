/* kefu-admin — a CSV reader for the operators' files (RFC 4180). */
#include "admin_csv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "admin_field.h"
#include "envelope.h"

#define CSV_FILE_MAX ((size_t)1 << 31) /* 2 GiB: far above any real owner list */

struct csv {
    const char *data;
    size_t size;
    size_t pos;
    size_t line; /* line number at pos */
    char *buf;   /* the current record's unquoted fields, back to back */
    size_t buf_cap;
    size_t *starts; /* offset in buf of each field */
    size_t *lens;
    char **fields;
    size_t cap; /* of starts, lens and fields */
};

csv_t *csv_new(const char *data, size_t size)
{
    csv_t *self = (csv_t *)calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->data = data;
    self->size = size;
    self->line = 1;
    /* Excel writes a byte order mark in front of UTF-8 CSV. */
    if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        self->pos = 3;
    return self;
}

void csv_destroy(csv_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    csv_t *self = *self_p;
    free(self->buf);
    free(self->starts);
    free(self->lens);
    free(self->fields);
    free(self);
    *self_p = NULL;
}

/* Appends byte c to the record buffer. */
static int s_put(csv_t *self, size_t *used, char c)
{
    if (*used + 1 >= self->buf_cap) {
        size_t cap = self->buf_cap ? self->buf_cap * 2 : 256;
        char *buf = (char *)realloc(self->buf, cap);
        if (!buf)
            return -1;
        self->buf = buf;
        self->buf_cap = cap;
    }
    self->buf[(*used)++] = c;
    return 0;
}

/* Starts field number n at offset used of the buffer. */
static int s_field(csv_t *self, size_t n, size_t used)
{
    if (n >= self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        size_t *starts = (size_t *)realloc(self->starts, cap * sizeof *starts);
        if (starts)
            self->starts = starts;
        size_t *lens = (size_t *)realloc(self->lens, cap * sizeof *lens);
        if (lens)
            self->lens = lens;
        char **fields = (char **)realloc(self->fields, cap * sizeof *fields);
        if (fields)
            self->fields = fields;
        if (!starts || !lens || !fields)
            return -1;
        self->cap = cap;
    }
    self->starts[n] = used;
    return 0;
}

/* True at a line end (CRLF, LF or CR) at pos; consumes it and counts it. */
static bool s_eol(csv_t *self)
{
    char c = self->data[self->pos];
    if (c == '\n') {
        self->pos++;
        self->line++;
        return true;
    }
    if (c == '\r') {
        self->pos++;
        if (self->pos < self->size && self->data[self->pos] == '\n')
            self->pos++;
        self->line++;
        return true;
    }
    return false;
}

/* Skips the rest of a bad record's physical line. */
static void s_skip_line(csv_t *self)
{
    while (self->pos < self->size && !s_eol(self))
        self->pos++;
}

/* Reports a bad record: fills rec and skips to the next line. */
static int s_bad(csv_t *self, csv_record_t *rec, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int s_bad(csv_t *self, csv_record_t *rec, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(rec->error, sizeof rec->error, fmt, args);
    va_end(args);
    s_skip_line(self);
    return CSV_BAD;
}

/* Reads a quoted field from the opening quote at pos into the buffer.
   Returns 0, or CSV_BAD with rec->error set. */
static int s_quoted(csv_t *self, csv_record_t *rec, size_t n, size_t *used)
{
    size_t quote_line = self->line;
    self->pos++;
    while (true) {
        if (self->pos >= self->size) {
            snprintf(rec->error, sizeof rec->error,
                     "field %zu: the quote opened on line %zu is never closed", n + 1, quote_line);
            return CSV_BAD;
        }
        char c = self->data[self->pos];
        if (c == '"') {
            if (self->pos + 1 < self->size && self->data[self->pos + 1] == '"') {
                if (s_put(self, used, '"') != 0)
                    return CSV_BAD;
                self->pos += 2;
                continue;
            }
            self->pos++;
            break;
        }
        if (c == '\0')
            return s_bad(self, rec, "field %zu: contains a NUL byte", n + 1);
        if (c == '\n' ||
            (c == '\r' && !(self->pos + 1 < self->size && self->data[self->pos + 1] == '\n')))
            self->line++;
        if (s_put(self, used, c) != 0)
            return CSV_BAD;
        self->pos++;
    }
    if (self->pos < self->size && self->data[self->pos] != ',' && self->data[self->pos] != '\n' &&
        self->data[self->pos] != '\r')
        return s_bad(self, rec, "field %zu: text after the closing quote", n + 1);
    return 0;
}

/* Reads an unquoted field at pos into the buffer. Returns 0, or CSV_BAD
   with rec->error set. */
static int s_plain(csv_t *self, csv_record_t *rec, size_t n, size_t *used)
{
    while (self->pos < self->size) {
        char c = self->data[self->pos];
        if (c == ',' || c == '\n' || c == '\r')
            break;
        if (c == '"')
            return s_bad(self, rec,
                         "field %zu: a quote inside an unquoted field (quote the field "
                         "and double the quote: \"a\"\"b\")",
                         n + 1);
        if (c == '\0')
            return s_bad(self, rec, "field %zu: contains a NUL byte", n + 1);
        if (s_put(self, used, c) != 0)
            return CSV_BAD;
        self->pos++;
    }
    return 0;
}

/* Hands the fields read to rec, each checked to be UTF-8. */
static int s_record(csv_t *self, csv_record_t *rec, size_t n)
{
    for (size_t i = 0; i < n; i++)
        self->fields[i] = self->buf + self->starts[i];
    rec->count = n;
    rec->fields = self->fields;
    rec->lens = self->lens;
    for (size_t i = 0; i < n; i++)
        if (!kf_utf8_valid(rec->fields[i], rec->lens[i])) {
            snprintf(rec->error, sizeof rec->error,
                     "field %zu is not valid UTF-8 (save the file as UTF-8, not GBK)", i + 1);
            return CSV_BAD;
        }
    return CSV_RECORD;
}

int csv_next(csv_t *self, csv_record_t *rec)
{
    memset(rec, 0, sizeof *rec);
    /* Empty lines are not records. */
    while (self->pos < self->size && s_eol(self))
        ;
    if (self->pos >= self->size)
        return CSV_END;
    rec->line = self->line;
    size_t used = 0, n = 0;
    if (s_field(self, 0, 0) != 0)
        return CSV_BAD;
    while (true) {
        /* One field, starting at pos. */
        bool quoted = self->pos < self->size && self->data[self->pos] == '"';
        int rc = quoted ? s_quoted(self, rec, n, &used) : s_plain(self, rec, n, &used);
        if (rc != 0)
            return rc;
        /* End of the field. */
        self->lens[n] = used - self->starts[n];
        if (s_put(self, &used, '\0') != 0)
            return CSV_BAD;
        n++;
        if (self->pos < self->size && self->data[self->pos] == ',') {
            self->pos++;
            if (s_field(self, n, used) != 0)
                return CSV_BAD;
            continue;
        }
        if (self->pos < self->size)
            s_eol(self);
        break;
    }
    return s_record(self, rec, n);
}

char *csv_slurp(const char *path, size_t *size, char *why, size_t why_size)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(why, why_size, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(file), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, why_size, "%s is not a regular file", path);
        fclose(file);
        return NULL;
    }
    if ((size_t)st.st_size >= CSV_FILE_MAX) {
        snprintf(why, why_size, "%s is over %zu bytes", path, CSV_FILE_MAX);
        fclose(file);
        return NULL;
    }
    size_t want = (size_t)st.st_size;
    char *data = (char *)malloc(want + 1);
    if (!data) {
        snprintf(why, why_size, "out of memory reading %s", path);
        fclose(file);
        return NULL;
    }
    size_t got = fread(data, 1, want, file);
    bool failed = ferror(file) != 0;
    fclose(file);
    if (failed || got != want) {
        snprintf(why, why_size, "cannot read %s", path);
        free(data);
        return NULL;
    }
    data[got] = '\0';
    *size = got;
    return data;
}

int csv_header(const csv_record_t *rec, const csv_column_t *cols, size_t ncols, int *index,
               adm_problems_t *problems)
{
    size_t before = problems->total;
    for (size_t i = 0; i < ncols; i++)
        index[i] = -1;
    for (size_t f = 0; f < rec->count; f++) {
        char name[64];
        snprintf(name, sizeof name, "%s", rec->fields[f]);
        adm_trim(name);
        size_t found = ncols;
        for (size_t i = 0; i < ncols && found == ncols; i++) {
            if (strcasecmp(name, cols[i].name) == 0)
                found = i;
            for (size_t a = 0; cols[i].aliases && cols[i].aliases[a] && found == ncols; a++)
                if (strcasecmp(name, cols[i].aliases[a]) == 0)
                    found = i;
        }
        if (found == ncols) {
            char list[512] = "";
            for (size_t i = 0; i < ncols; i++) {
                size_t used = strlen(list);
                snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", cols[i].name);
            }
            adm_problem(problems, rec->line, "header", "bad_header",
                        "unknown column '%s' (known: %s)", name, list);
        } else if (index[found] >= 0) {
            adm_problem(problems, rec->line, "header", "bad_header",
                        "column %s is given twice (fields %d and %zu)", cols[found].name,
                        index[found] + 1, f + 1);
        } else {
            index[found] = (int)f;
        }
    }
    for (size_t i = 0; i < ncols; i++)
        if (cols[i].required && index[i] < 0)
            adm_problem(problems, rec->line, "header", "bad_header",
                        "the required column %s is missing", cols[i].name);
    return problems->total == before ? 0 : -1;
}
