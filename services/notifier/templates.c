/* notifier — loading, checking and rendering templates (see templates.h). */
#include "templates.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

typedef struct {
    char name[TPL_MAX_NAME];
    char *text;
} s_tpl_t;

struct tpl_set {
    s_tpl_t *items;
    size_t count;
};

void tpl_name(char *buf, size_t size, const char *type, const char *variant, const char *channel,
              const char *lang)
{
    snprintf(buf, size, "%s%s%s.%s.%s.txt", type, variant ? "." : "", variant ? variant : "",
             channel, lang);
}

static bool s_allowed(const char *name, size_t len, const char *const *allowed)
{
    for (size_t i = 0; allowed && allowed[i]; i++)
        if (strlen(allowed[i]) == len && strncmp(allowed[i], name, len) == 0)
            return true;
    return false;
}

/* Walks text: calls emit for each run of literal text and each
   placeholder. Returns 0, or -1 with err filled (err may be NULL). */
typedef int(s_emit_fn)(void *arg, bool placeholder, const char *at, size_t len);

static int s_walk(const char *text, s_emit_fn *emit, void *arg, char *err, size_t err_size)
{
    const char *p = text;
    while (*p) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            if (emit(arg, false, p, 1) != 0)
                return -1;
            p += 2;
        } else if (*p == '{') {
            const char *end = p + 1;
            while ((*end >= 'a' && *end <= 'z') || *end == '_')
                end++;
            if (*end != '}' || end == p + 1) {
                if (err)
                    snprintf(err, err_size, "a '{' at byte %ld does not start a {placeholder}",
                             (long)(p - text));
                return -1;
            }
            if (emit(arg, true, p + 1, (size_t)(end - p - 1)) != 0) {
                if (err)
                    snprintf(err, err_size, "unknown placeholder {%.*s}", (int)(end - p - 1),
                             p + 1);
                return -1;
            }
            p = end + 1;
        } else if (*p == '}') {
            if (err)
                snprintf(err, err_size, "a lone '}' at byte %ld (write }} for a brace)",
                         (long)(p - text));
            return -1;
        } else {
            size_t len = strcspn(p, "{}");
            if (emit(arg, false, p, len) != 0)
                return -1;
            p += len;
        }
    }
    return 0;
}

static int s_check_emit(void *arg, bool placeholder, const char *at, size_t len)
{
    return placeholder && !s_allowed(at, len, (const char *const *)arg) ? -1 : 0;
}

int tpl_check(const char *text, bool email, const char *const *allowed, char *err, size_t err_size)
{
    size_t size = strlen(text);
    if (size == 0)
        return snprintf(err, err_size, "empty"), -1;
    if (size > TPL_MAX_BYTES)
        return snprintf(err, err_size, "over %d bytes", TPL_MAX_BYTES), -1;
    if (!kf_utf8_valid(text, size))
        return snprintf(err, err_size, "not valid UTF-8"), -1;
    if (email) {
        const char *eol = strchr(text, '\n');
        if (strncmp(text, "Subject: ", 9) != 0 || !eol || eol == text + 9)
            return snprintf(err, err_size, "an e-mail template starts with a 'Subject: ' line"), -1;
        if (eol[strspn(eol, "\n")] == '\0')
            return snprintf(err, err_size, "an e-mail template needs a body after its subject"), -1;
    }
    return s_walk(text, s_check_emit, (void *)allowed, err, err_size);
}

/* A growing output buffer. */
typedef struct {
    char *data;
    size_t used, size;
    const tpl_var_t *vars;
    size_t count;
} s_out_t;

static int s_put(s_out_t *out, const char *at, size_t len)
{
    if (out->used + len + 1 > out->size) {
        size_t size = (out->used + len + 1) * 2;
        char *data = (char *)realloc(out->data, size);
        if (!data)
            return -1;
        out->data = data;
        out->size = size;
    }
    memcpy(out->data + out->used, at, len);
    out->used += len;
    out->data[out->used] = '\0';
    return 0;
}

static int s_render_emit(void *arg, bool placeholder, const char *at, size_t len)
{
    s_out_t *out = (s_out_t *)arg;
    if (!placeholder)
        return s_put(out, at, len);
    for (size_t i = 0; i < out->count; i++)
        if (strlen(out->vars[i].name) == len && strncmp(out->vars[i].name, at, len) == 0) {
            const char *value = out->vars[i].value ? out->vars[i].value : "";
            return s_put(out, value, strlen(value));
        }
    return -1;
}

char *tpl_render(const char *text, const tpl_var_t *vars, size_t count)
{
    s_out_t out = {.vars = vars, .count = count};
    if (s_put(&out, "", 0) != 0 || s_walk(text, s_render_emit, &out, NULL, 0) != 0) {
        free(out.data);
        return NULL;
    }
    return out.data;
}

int tpl_split_email(const char *rendered, char **subject, char **body)
{
    *subject = *body = NULL;
    const char *eol = strchr(rendered, '\n');
    if (strncmp(rendered, "Subject: ", 9) != 0 || !eol)
        return -1;
    *subject = strndup(rendered + 9, (size_t)(eol - rendered - 9));
    /* A value with a line break must not start a header of its own. */
    for (char *p = *subject; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    const char *start = eol + 1;
    if (*start == '\n')
        start++; /* the blank line between subject and body */
    *body = strdup(start);
    return 0;
}

/* ---- sets -------------------------------------------------------------- */

/* Normalises text in place: CRLF becomes LF, trailing line breaks and
   spaces go. */
static void s_normalise(char *text)
{
    char *to = text;
    for (const char *from = text; *from; from++)
        if (!(from[0] == '\r' && from[1] == '\n'))
            *to++ = *from;
    *to = '\0';
    while (to > text && (to[-1] == '\n' || to[-1] == ' ' || to[-1] == '\r'))
        *--to = '\0';
}

void tpl_set_destroy(tpl_set_t **self_p)
{
    tpl_set_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        free(self->items[i].text);
    free(self->items);
    free(self);
    *self_p = NULL;
}

size_t tpl_set_size(const tpl_set_t *self)
{
    return self ? self->count : 0;
}

const char *tpl_set_text(const tpl_set_t *self, const char *name)
{
    for (size_t i = 0; self && i < self->count; i++)
        if (strcmp(self->items[i].name, name) == 0)
            return self->items[i].text;
    return NULL;
}

/* The entry of needs called name, or NULL. */
static const tpl_need_t *s_need_of(const tpl_need_t *needs, const char *name)
{
    for (const tpl_need_t *need = needs; need && need->name[0]; need++)
        if (strcmp(need->name, name) == 0)
            return need;
    return NULL;
}

/* Checks text as the template called name and adds it to self (taking
   text). Returns 0 or -1 with err. */
static int s_add(tpl_set_t *self, const tpl_need_t *needs, const char *name, char *text, char *err,
                 size_t err_size)
{
    const tpl_need_t *need = s_need_of(needs, name);
    char why[200];
    s_normalise(text);
    if (!need) {
        snprintf(err, err_size, "%s: no rule uses this template", name);
        free(text);
        return -1;
    }
    if (tpl_check(text, need->email, need->allowed, why, sizeof why) != 0) {
        snprintf(err, err_size, "%s: %s", name, why);
        free(text);
        return -1;
    }
    s_tpl_t *items = (s_tpl_t *)realloc(self->items, (self->count + 1) * sizeof(s_tpl_t));
    if (!items) {
        free(text);
        return -1;
    }
    self->items = items;
    snprintf(self->items[self->count].name, TPL_MAX_NAME, "%s", name);
    self->items[self->count].text = text;
    self->count++;
    return 0;
}

/* Checks that self holds every template of needs. */
static int s_complete(const tpl_set_t *self, const tpl_need_t *needs, char *err, size_t err_size)
{
    for (const tpl_need_t *need = needs; need && need->name[0]; need++)
        if (!tpl_set_text(self, need->name)) {
            snprintf(err, err_size, "%s: missing", need->name);
            return -1;
        }
    return 0;
}

/* Reads a whole file of at most TPL_MAX_BYTES into a new string. */
static char *s_read(const char *path, char *err, size_t err_size)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = (char *)malloc(TPL_MAX_BYTES + 2);
    size_t size = text ? fread(text, 1, TPL_MAX_BYTES + 1, file) : 0;
    bool failed = !text || ferror(file);
    fclose(file);
    if (failed || size > TPL_MAX_BYTES) {
        snprintf(err, err_size, "%s: %s", path, failed ? "cannot be read" : "too long");
        free(text);
        return NULL;
    }
    text[size] = '\0';
    if (strlen(text) != size) {
        snprintf(err, err_size, "%s: holds a NUL byte", path);
        free(text);
        return NULL;
    }
    return text;
}

tpl_set_t *tpl_set_load(const char *dir, const tpl_need_t *needs, char *err, size_t err_size)
{
    tpl_set_t *self = (tpl_set_t *)calloc(1, sizeof(tpl_set_t));
    char path[4096];
    for (const tpl_need_t *need = needs; self && need && need->name[0]; need++) {
        snprintf(path, sizeof path, "%s/%s", dir, need->name);
        char *text = s_read(path, err, err_size);
        if (!text || s_add(self, needs, need->name, text, err, err_size) != 0)
            tpl_set_destroy(&self);
    }
    return self;
}

tpl_set_t *tpl_set_from(const tpl_need_t *needs, const char *const *names, const char *const *texts,
                        size_t count, char *err, size_t err_size)
{
    tpl_set_t *self = (tpl_set_t *)calloc(1, sizeof(tpl_set_t));
    for (size_t i = 0; self && i < count; i++)
        if (s_add(self, needs, names[i], strdup(texts[i]), err, err_size) != 0)
            tpl_set_destroy(&self);
    if (self && s_complete(self, needs, err, err_size) != 0)
        tpl_set_destroy(&self);
    return self;
}
