-- kefu store, part 28: kefu_route (part 4) is gone. The router writes
-- every routing, a burst or one ticket, with kefu_route_batch (part 26);
-- nothing calls the one-ticket function any more.
DROP FUNCTION kefu_route(bigint, text, text, text, integer, bigint, bigint, text);
