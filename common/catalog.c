/* kefu — the message types of the catalog (proto/catalog.md). The lists
   are generated from proto/model.json (kf_model.c). */
#include "catalog.h"

#include <string.h>

/* True when name is in the NULL-terminated list. */
static bool s_in(const char *const *list, const char *name)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

bool kf_catalog_known(const char *type)
{
    return type && (s_in(kf_model_messages, type) || s_in(kf_model_events, type));
}

bool kf_catalog_is_event(const char *type)
{
    return type && s_in(kf_model_events, type);
}
