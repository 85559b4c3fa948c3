/* kefu-admin — the list of problems found in an input, each with its place. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

void adm_problems_init(adm_problems_t *self, size_t max)
{
    memset(self, 0, sizeof *self);
    self->max = max;
}

void adm_problems_free(adm_problems_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        free(self->items[i].place);
        free(self->items[i].code);
        free(self->items[i].message);
    }
    free(self->items);
    memset(self, 0, sizeof *self);
}

/* Counts one problem under its reason code. */
static void s_count_reason(adm_problems_t *self, const char *code)
{
    for (size_t i = 0; i < self->nreasons; i++)
        if (strcmp(self->reasons[i].code, code) == 0) {
            self->reasons[i].count++;
            return;
        }
    size_t last = sizeof self->reasons / sizeof self->reasons[0] - 1;
    size_t i = self->nreasons < last ? self->nreasons++ : last;
    if (i == last && self->reasons[i].count > 0 && strcmp(self->reasons[i].code, "other") != 0)
        code = "other"; /* more kinds than slots: the rest share the last one */
    snprintf(self->reasons[i].code, sizeof self->reasons[i].code, "%s", code);
    self->reasons[i].count++;
}

void adm_problem(adm_problems_t *self, size_t line, const char *place, const char *code,
                 const char *fmt, ...)
{
    self->total++;
    s_count_reason(self, code);
    if (self->count >= self->max)
        return;
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        adm_problem_t *items = (adm_problem_t *)realloc(self->items, cap * sizeof *items);
        if (!items)
            return;
        self->items = items;
        self->cap = cap;
    }
    char message[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    adm_problem_t *p = &self->items[self->count++];
    p->line = line;
    p->seq = self->count;
    p->place = strdup(place ? place : "");
    p->code = strdup(code);
    p->message = strdup(message);
}

void adm_problems_count(adm_problems_t *self, const char *code, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        self->total++;
        s_count_reason(self, code);
    }
}

/* Orders problems by line, then by when they were found. */
static int s_by_line(const void *a, const void *b)
{
    const adm_problem_t *x = (const adm_problem_t *)a, *y = (const adm_problem_t *)b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void adm_problems_sort(adm_problems_t *self)
{
    if (self->count > 1)
        qsort(self->items, self->count, sizeof self->items[0], s_by_line);
}

void adm_problems_print(const adm_problems_t *self, FILE *out, const char *file)
{
    for (size_t i = 0; i < self->count; i++) {
        const adm_problem_t *p = &self->items[i];
        fprintf(out, "%s: ", file);
        if (p->line)
            fprintf(out, "line %zu: ", p->line);
        if (p->place[0])
            fprintf(out, "%s: ", p->place);
        fprintf(out, "%s\n", p->message);
    }
    if (self->total > self->count)
        fprintf(out, "%s: ... and %zu more (--max-errors %zu shows at most %zu)\n", file,
                self->total - self->count, self->max, self->max);
}

json_t *adm_problems_json(const adm_problems_t *self)
{
    json_t *list = json_array();
    for (size_t i = 0; i < self->count; i++) {
        const adm_problem_t *p = &self->items[i];
        json_t *item = json_object();
        if (p->line)
            json_object_set_new(item, "line", json_integer((json_int_t)p->line));
        json_object_set_new(item, "place", json_string(p->place));
        json_object_set_new(item, "code", json_string(p->code));
        json_object_set_new(item, "message", json_string(p->message));
        json_array_append_new(list, item);
    }
    return list;
}

json_t *adm_reasons_json(const adm_problems_t *self)
{
    json_t *reasons = json_object();
    for (size_t i = 0; i < self->nreasons; i++)
        json_object_set_new(reasons, self->reasons[i].code,
                            json_integer((json_int_t)self->reasons[i].count));
    return reasons;
}

void adm_reasons_print(const adm_problems_t *self)
{
    if (!self->nreasons)
        return;
    printf("  rejected:");
    for (size_t i = 0; i < self->nreasons; i++)
        printf("%s %s %zu", i ? "," : "", self->reasons[i].code, self->reasons[i].count);
    printf("\n");
}
