/* kefu-gateway — the web console's static files (web/), held in memory. */
#ifndef GW_WEB_H
#define GW_WEB_H

#include <microhttpd.h>
#include <stdbool.h>

typedef struct gw_web gw_web_t;
typedef struct gw_file gw_file_t;

/* Reads every servable file under dir (html, js, css, svg, png, ico, json,
   woff2; four levels deep; hidden files left out); NULL, logged, when one
   cannot be read, a limit is passed, or there is no index.html. */
gw_web_t *gw_web_new(const char *dir);
void gw_web_destroy(gw_web_t **self_p);

/* The file served at url ("/" is /index.html), or NULL. */
const gw_file_t *gw_web_find(const gw_web_t *self, const char *url);

/* file's ETag (a quoted hash of its bytes). */
const char *gw_web_etag(const gw_file_t *file);

/* A response for file with its media type: empty when fresh (the client
   holds it: 304), else the file. */
struct MHD_Response *gw_web_response(const gw_file_t *file, bool fresh);

#endif
