/* kefu-gateway — from an HTTP request to a wire request, with no I/O:
   which route of the model (kf_model_routes) a method and path name, and
   the body of the request it sends, filled from the path parameters, the
   query string or the JSON body and the Idempotency-Key header as
   proto/model.json "http" says. Pure, so unit tests and a fuzz target
   drive it directly. */
#ifndef GW_REQUEST_H
#define GW_REQUEST_H

#include <stdbool.h>
#include <jansson.h>
#include <stddef.h>

#include "envelope.h"
#include "kf_error.h"

#define GW_MAX_BODY (64 * 1024) /* bytes of a JSON request body */
#define GW_MAX_PARAMS 4         /* path parameters of one route */
#define GW_MAX_SEGMENT 256      /* bytes of one path parameter's value */

/* A route matched against a path, with its parameters. */
typedef struct {
    const kf_model_route_t *route; /* NULL: none */
    int nparams;
    char name[GW_MAX_PARAMS][32];
    char value[GW_MAX_PARAMS][GW_MAX_SEGMENT + 1];
    char allow[64]; /* the methods of the path, for a 405's Allow header */
} gw_match_t;

/* One query parameter, already percent-decoded (libmicrohttpd does it). */
typedef struct {
    const char *key, *value;
} gw_param_t;

/* Everything of an HTTP request that fills the wire request. */
typedef struct {
    const gw_match_t *match;
    const gw_param_t *query; /* GET, DELETE */
    size_t nquery;
    const char *content_type; /* POST: may be NULL */
    const char *body;         /* POST: may hold anything, NUL bytes too */
    size_t body_size;
    const char *idem; /* the Idempotency-Key header, or NULL */
} gw_input_t;

/* Finds the route of method and path. Returns 200 with match->route set,
   404 when no route has the path, or 405 when routes have it but not with
   method (match->allow lists theirs). */
int gw_route_match(const char *method, const char *path, gw_match_t *match);

/* Builds the body of the wire request of input->match->route (one with a
   message). Returns 0 with *body_p a new body, or the HTTP status (400,
   413, 415) with err saying what is wrong and naming the field. */
int gw_request_fill(const gw_input_t *input, kf_body_t **body_p, kf_error_t *err);

/* Parses a POST body: nothing (size 0) gives *root_p NULL; otherwise it
   must be application/json (415), at most GW_MAX_BODY bytes (413), UTF-8
   and one JSON object (400). Returns 0 with *root_p (caller decrefs), or
   the HTTP status with err. */
int gw_request_json(const char *content_type, const char *body, size_t size, json_t **root_p,
                    kf_error_t *err);

/* The field of message named name, or NULL. */
const kf_model_field_t *gw_field(const char *message, const char *name);

/* The daemon that serves message: "intake", "approval" or "survey". */
const char *gw_service_of(const char *message);

#endif
