/* intake — who may act on a ticket (see access.h). */
#include "access.h"

#include <string.h>

static const char *const s_coordinating_roles[] = {"agent", "manager", "head", "gm", "admin", NULL};

bool access_may_act(const char *role, const char *actor, const char *owner, const char *responsible)
{
    if (owner && strcmp(actor, owner) == 0)
        return true;
    if (responsible && strcmp(actor, responsible) == 0)
        return true;
    for (int i = 0; s_coordinating_roles[i]; i++)
        if (role && strcmp(role, s_coordinating_roles[i]) == 0)
            return true;
    return false;
}
