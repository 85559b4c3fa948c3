-- kefu store, part 23: the console's queues (ticket.list `state`: open,
-- overdue, escalated, by department or not; proto/model.json).
--
-- A queue holds only open tickets, a few percent of the store once tickets
-- are resolved and closed, so intake's statement for a queue says `status
-- NOT IN ('resolved', 'closed')` literally and this partial index serves
-- it: the newest open tickets first, a page after the cursor, filtered by
-- department (the owners') and by deadline or escalation level as it reads.
-- Without it a queue reads ticket_received_id_idx backwards past every
-- resolved and closed ticket between its open ones. Measured with intake's
-- generic plans on 20,000 tickets, 2,000 of them open (auto_explain, shared
-- buffers per page of 50): a small department's overdue queue 8,644 without,
-- 288 with; a department's open queue 2,734 and 128; the escalated queue
-- 1,941 and 106. A department's tickets of every status (no `state`) keep
-- the backward scan of ticket_received_id_idx (311 and 860 buffers for a
-- large and a small department): the owners' department is a filter, not
-- an index, as a department has few staff and ticket_owner_idx would sort.
CREATE INDEX IF NOT EXISTS ticket_open_received_idx ON ticket (received_at, id)
    WHERE status NOT IN ('resolved', 'closed');
