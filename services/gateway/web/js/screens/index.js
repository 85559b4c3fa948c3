// Every screen of the console, in the navigation's order. A screen module
// exports {id, nav, roles, home, view}: id is its address (#/id/...), nav
// the strings.js key of its navigation entry (null: not in the navigation),
// roles those who may open it (null: every signed-in role), home the roles
// it is the first screen of, and view the component, given
// {params: {rest, query}, who} (rest: the address's parts after the id,
// query: its URLSearchParams).
import call from './call.js';
import queue from './queue.js';
import ticket from './ticket.js';
import inbox from './inbox.js';
import dashboard from './dashboard.js';
import status from './status.js';

export const SCREENS = [call, queue, ticket, inbox, dashboard, status];
