/* kefu client — a ticket as a table row, as `kefu owner` and `kefu tickets`
   show it (owner.c). */
#ifndef KF_CLI_OWNER_H
#define KF_CLI_OWNER_H

#include <msgpack.h>

#include "table.h"

#define OWNER_TICKET_COLS 10

/* The column headers of owner_ticket_row: ticket, kind, status (with the
   escalation level when escalated: `routed L2`), priority, project,
   department, owner (id and name), received, the deadline it works to with
   how it stands against it, and summary. */
extern const char *const owner_ticket_headers[OWNER_TICKET_COLS];

/* Adds one ticket map of an owner.show or ticket.list reply as a row. */
void owner_ticket_row(table_t *table, const msgpack_object *t);

#endif
