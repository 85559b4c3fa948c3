/* kefu client — the display width of UTF-8 text on a terminal: East Asian
   wide characters (Chinese, full-width forms) take two columns, combining
   marks none. Used to align tables and to shorten text without cutting a
   UTF-8 sequence in half. */
#ifndef KF_CLI_WIDTH_H
#define KF_CLI_WIDTH_H

#include <stddef.h>

/* The columns s takes on a terminal. */
int width_of(const char *s);

/* Copies s into out (of outsize bytes), shortened to at most cols columns
   with "..." at the end when it does not fit; control characters become
   spaces so a table row stays one line. Returns the columns used. */
int width_fit(const char *s, int cols, char *out, size_t outsize);

#endif
