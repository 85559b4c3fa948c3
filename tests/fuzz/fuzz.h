/* kefu — what the fuzz targets of tests/fuzz share (see README.md there).

   Each target is one .c file defining LLVMFuzzerTestOneInput. Built with
   clang and -DKEFU_FUZZ=ON it is a libFuzzer binary; built otherwise it is
   linked with replay.c, a plain main() that runs every file of a corpus once,
   so the corpus (and every crash found, kept there) is a regression test in
   every build, sanitized or not. */
#ifndef KF_FUZZ_H
#define KF_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"

/* The entry point: libFuzzer, or replay.c, calls it once per input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property of the code under test that must hold for every input. A
   broken one prints what and where, then aborts: libFuzzer keeps the input
   as a crash and the replay driver fails. */
#define FZ_CHECK(cond) ((cond) ? (void)0 : fz_fail(__FILE__, __LINE__, #cond))

void fz_fail(const char *file, int line, const char *what) __attribute__((noreturn));

/* Decodes size bytes as the body of an otherwise valid envelope of type
   (a valid header packed in front of them), as intake's decoder sees a
   request: returns the envelope, or NULL with err filled. */
kf_env_t *fz_env_with_body(const char *type, const uint8_t *data, size_t size, kf_error_t *err);

/* True when err is what a refusal must carry: a code of kf_error.h other
   than KF_OK, and a NUL-terminated field and a non-empty message. */
bool fz_error_ok(const kf_error_t *err);

/* True when the bytes of buf up to its NUL (which must come within size
   bytes) are valid UTF-8 holding no more than max bytes. */
bool fz_cstr_ok(const char *buf, size_t size, size_t max);

/* True when s holds nothing but white space (or nothing). */
bool fz_blank(const char *s);

/* True when a request decoder's refusal is well-formed and names the
   field: a code a field of a body can have, and a non-empty field. */
bool fz_field_error_ok(const kf_error_t *err);

/* True when s is one of names (a NULL-terminated list). */
bool fz_in(const char *s, const char *const *names);

#endif
