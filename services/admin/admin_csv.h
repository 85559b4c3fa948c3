/* kefu-admin — a CSV reader for the operators' files (RFC 4180).

   Fields are separated by commas and records end with CRLF, LF or a lone
   CR. A field may be quoted with '"'; inside quotes, commas and line ends
   are data and '""' is one quote. A UTF-8 byte order mark at the start is
   skipped, and an empty line is not a record. Each record is checked on its
   own, so one bad record is reported with its line number and the reader
   goes on with the next line: a quote inside an unquoted field, text after a
   closing quote, a NUL byte, or bytes that are not UTF-8. An unterminated
   quote ends the input (everything after it would be one field).

   The reader works over a buffer the caller keeps alive; fields point into
   the reader's own storage and stay valid until the next call. */
#ifndef KF_ADMIN_CSV_H
#define KF_ADMIN_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "admin.h"

typedef struct csv csv_t;

/* One record as read. */
typedef struct {
    size_t line;     /* line number (1-based) where the record starts */
    size_t count;    /* number of fields */
    char **fields;   /* count NUL-terminated fields, unquoted */
    size_t *lens;    /* their lengths in bytes */
    char error[160]; /* why the record is bad (csv_next returned CSV_BAD) */
} csv_record_t;

enum { CSV_END = 0, CSV_RECORD = 1, CSV_BAD = -1 };

/* A reader over the size bytes at data (not copied). */
csv_t *csv_new(const char *data, size_t size);
void csv_destroy(csv_t **self_p);

/* Reads the next record into rec. Returns CSV_RECORD, CSV_END at the end
   of the input, or CSV_BAD with rec->line and rec->error set (the record is
   skipped; call again for the next one). */
int csv_next(csv_t *self, csv_record_t *rec);

/* A column an import expects: its name and other names it may have in a
   header (NULL-terminated, may be NULL). */
typedef struct {
    const char *name;
    const char *const *aliases;
    bool required;
} csv_column_t;

/* Maps a header record onto the ncols columns: index[i] is the field
   position of column i, or -1 when absent. Names are matched ignoring
   case and surrounding spaces. Unknown, repeated and missing required
   columns are problems (place "header"). Returns 0 when there is none. */
int csv_header(const csv_record_t *rec, const csv_column_t *cols, size_t ncols, int *index,
               adm_problems_t *problems);

/* Reads the whole file at path into a new buffer (NUL-terminated; *size
   excludes the NUL). Returns NULL with why filled on failure. */
char *csv_slurp(const char *path, size_t *size, char *why, size_t why_size);

#endif
