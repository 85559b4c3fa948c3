/* intake — who may act on a ticket. */
#ifndef INTAKE_ACCESS_H
#define INTAKE_ACCESS_H

#include <stdbool.h>

/* True when actor (with role) may respond to, transfer or resolve a ticket
   owned by owner whose responsible general manager is responsible (may
   be NULL): the owner, the responsible, and the roles that coordinate or
   supervise (agent, manager, head, gm, admin) may; plain staff and vice
   presidents acting on others' tickets may not. */
bool access_may_act(const char *role, const char *actor, const char *owner,
                    const char *responsible);

#endif
