/* kefu clients — text tables aligned by display width. */
#include "table.h"

#include <czmq.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "width.h"

#define TABLE_GAP 2 /* spaces between columns */

struct table {
    size_t ncols;
    zlist_t *rows; /* of char *[ncols + 1], NULL-terminated; the first is the header */
    int *widths;   /* widest cell of each column, after control characters are replaced */
};

/* Destructor for rows in the list. */
static void s_row_free(void *item)
{
    char **row = (char **)item;
    for (size_t i = 0; row && row[i]; i++)
        free(row[i]);
    free(row);
}

/* Copies a row, with control characters made spaces, and widens the
   columns to fit it. */
static void s_append(table_t *self, const char *const *cells)
{
    char **row = (char **)zmalloc((self->ncols + 1) * sizeof(char *));
    for (size_t i = 0; i < self->ncols; i++) {
        const char *cell = cells[i] && *cells[i] ? cells[i] : "-";
        size_t size = strlen(cell) + 1;
        row[i] = (char *)zmalloc(size);
        int w = width_fit(cell, INT32_MAX, row[i], size);
        if (w > self->widths[i])
            self->widths[i] = w;
    }
    zlist_append(self->rows, row);
    zlist_freefn(self->rows, row, s_row_free, true);
}

table_t *table_new(const char *const *headers, size_t ncols)
{
    table_t *self = (table_t *)zmalloc(sizeof(table_t));
    self->ncols = ncols;
    self->rows = zlist_new();
    self->widths = (int *)zmalloc(ncols * sizeof(int));
    s_append(self, headers);
    return self;
}

void table_destroy(table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    table_t *self = *self_p;
    zlist_destroy(&self->rows);
    free(self->widths);
    free(self);
    *self_p = NULL;
}

void table_add(table_t *self, const char *const *cells)
{
    s_append(self, cells);
}

int table_lead_width(const table_t *self)
{
    int cols = 0;
    for (size_t i = 0; i + 1 < self->ncols; i++)
        cols += self->widths[i] + TABLE_GAP;
    return cols;
}

/* Prints one row; the last cell shortened to last_cols. */
static void s_print_row(const table_t *self, char **row, FILE *out, int last_cols)
{
    for (size_t i = 0; i + 1 < self->ncols; i++)
        fprintf(out, "%s%*s", row[i], self->widths[i] - width_of(row[i]) + TABLE_GAP, "");
    const char *last = row[self->ncols - 1];
    size_t size = strlen(last) + 4;
    char *cut = (char *)zmalloc(size);
    width_fit(last, last_cols, cut, size);
    fprintf(out, "%s\n", cut);
    free(cut);
}

void table_print(const table_t *self, FILE *out, int last_cols)
{
    for (char **row = (char **)zlist_first(self->rows); row; row = (char **)zlist_next(self->rows))
        s_print_row(self, row, out, last_cols);
}

int table_last_cols(const table_t *self)
{
    struct winsize ws;
    if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
        return TABLE_LAST_COLS;
    int left = ws.ws_col - 1 - table_lead_width(self);
    return left > TABLE_LAST_MIN ? left : TABLE_LAST_MIN;
}
