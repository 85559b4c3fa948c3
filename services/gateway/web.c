/* kefu-gateway — the web console's files (web/ beside this file): read
   once at start into memory and served as they are, with an ETag, so that
   nothing on disk is opened by a request's path (no traversal, no race with
   a half-copied file) and a browser revalidates cheaply (web.h). */
#include "gw.h"

#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

#define S_MAX_FILES 256
#define S_MAX_BYTES (16 * 1024 * 1024) /* all files together */
#define S_MAX_DEPTH 4
#define S_PATH_MAX 256

struct gw_file {
    char path[S_PATH_MAX]; /* as requested: "/js/app.js" */
    char *data;
    size_t size;
    const char *type;
    char etag[24]; /* "\"" + 16 hex + "\"" */
};

struct gw_web {
    gw_file_t files[S_MAX_FILES];
    size_t count;
    size_t bytes;
};

/* The media types of what the console is made of; any other file is left
   out (a stray backup or editor file is never served). */
static const struct {
    const char *ext, *type;
} s_types[] = {{".html", "text/html; charset=utf-8"},
               {".js", "text/javascript; charset=utf-8"},
               {".css", "text/css; charset=utf-8"},
               {".svg", "image/svg+xml"},
               {".png", "image/png"},
               {".ico", "image/x-icon"},
               {".json", "application/json; charset=utf-8"},
               {".woff2", "font/woff2"},
               {NULL, NULL}};

/* The media type of name, or NULL when it is not served. */
static const char *s_type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (int i = 0; dot && s_types[i].ext; i++)
        if (strcmp(dot, s_types[i].ext) == 0)
            return s_types[i].type;
    return NULL;
}

/* Reads the whole file at path; NULL on failure. */
static char *s_slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct stat st;
    char *data = NULL;
    if (fstat(fileno(f), &st) == 0 && st.st_size >= 0 && st.st_size <= S_MAX_BYTES) {
        data = (char *)malloc((size_t)st.st_size + 1);
        if (data && fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
            free(data);
            data = NULL;
        }
        *size = (size_t)st.st_size;
    }
    fclose(f);
    return data;
}

/* Adds the file at disk (served as url) to self; -1 when over a limit or
   unreadable. */
static int s_add(gw_web_t *self, const char *disk, const char *url, const char *type)
{
    if (self->count == S_MAX_FILES || strlen(url) >= S_PATH_MAX) {
        kf_error("gateway.web", "too many files or a path too long at %s", url);
        return -1;
    }
    gw_file_t *file = &self->files[self->count];
    file->data = s_slurp(disk, &file->size);
    if (!file->data || self->bytes + file->size > S_MAX_BYTES) {
        kf_error("gateway.web", "cannot read %s (or the console is over %d bytes)", disk,
                 S_MAX_BYTES);
        free(file->data);
        file->data = NULL;
        return -1;
    }
    unsigned char hash[8];
    crypto_generichash(hash, sizeof hash, (const unsigned char *)file->data, file->size, NULL, 0);
    char hex[sizeof hash * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    snprintf(file->etag, sizeof file->etag, "\"%s\"", hex);
    snprintf(file->path, sizeof file->path, "%s", url);
    file->type = type;
    self->bytes += file->size;
    self->count++;
    return 0;
}

/* Adds every servable file under disk (the folder served as url), to
   depth levels below. */
static int s_scan(gw_web_t *self, const char *disk, const char *url, int depth)
{
    DIR *dir = opendir(disk);
    if (!dir) {
        kf_error("gateway.web", "cannot open %s: %s", disk, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (struct dirent *e = readdir(dir); e && rc == 0; e = readdir(dir)) {
        if (e->d_name[0] == '.') /* ., .. and hidden files */
            continue;
        char path[1024], sub[S_PATH_MAX];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", disk, e->d_name);
        if (snprintf(sub, sizeof sub, "%s/%s", url, e->d_name) >= (int)sizeof sub ||
            stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth > 0)
            rc = s_scan(self, path, sub, depth - 1);
        else if (S_ISREG(st.st_mode) && s_type_of(e->d_name))
            rc = s_add(self, path, sub, s_type_of(e->d_name));
    }
    closedir(dir);
    return rc;
}

gw_web_t *gw_web_new(const char *dir)
{
    gw_web_t *self = (gw_web_t *)zmalloc(sizeof(gw_web_t));
    if (s_scan(self, dir, "", S_MAX_DEPTH) != 0) {
        gw_web_destroy(&self);
        return NULL;
    }
    if (!gw_web_find(self, "/")) {
        kf_error("gateway.web", "%s has no index.html", dir);
        gw_web_destroy(&self);
        return NULL;
    }
    kf_info("gateway.web", "dir=%s files=%zu bytes=%zu", dir, self->count, self->bytes);
    return self;
}

void gw_web_destroy(gw_web_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gw_web_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        free(self->files[i].data);
    free(self);
    *self_p = NULL;
}

const gw_file_t *gw_web_find(const gw_web_t *self, const char *url)
{
    if (!self || !url)
        return NULL;
    if (strcmp(url, "/") == 0)
        url = "/index.html";
    for (size_t i = 0; i < self->count; i++)
        if (strcmp(self->files[i].path, url) == 0)
            return &self->files[i];
    return NULL;
}

const char *gw_web_etag(const gw_file_t *file)
{
    return file->etag;
}

struct MHD_Response *gw_web_response(const gw_file_t *file, bool fresh)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        fresh ? 0 : file->size, fresh ? (void *)"" : file->data, MHD_RESPMEM_PERSISTENT);
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, file->type);
    return r;
}
