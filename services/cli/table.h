/* kefu client — a text table: a header row and data rows, columns padded
   by display width (Chinese takes two columns), the last column shortened
   to a given width so a row stays on one terminal line. */
#ifndef KF_CLI_TABLE_H
#define KF_CLI_TABLE_H

#include <stdio.h>

typedef struct table table_t;

/* A table with ncols columns named by headers (copied). */
table_t *table_new(const char *const *headers, size_t ncols);
void table_destroy(table_t **self_p);

/* Appends a row of ncols cells (copied; NULL or empty shows as "-"). */
void table_add(table_t *self, const char *const *cells);

/* The columns a row takes before its last cell. */
int table_lead_width(const table_t *self);

/* Columns left for the last cell (a summary): the rest of the terminal's
   line, at least TABLE_LAST_MIN, or TABLE_LAST_COLS when stdout is not a
   terminal. */
#define TABLE_LAST_COLS 40
#define TABLE_LAST_MIN 16
int table_last_cols(const table_t *self);

/* Prints the table to out, each last cell shortened to last_cols columns
   (with "..."); control characters in cells are shown as spaces. */
void table_print(const table_t *self, FILE *out, int last_cols);

#endif
