-- kefu store, part 25: finding a consumer's failed events again.
--
-- An event a consumer could not apply (say, a ticket.submitted no routing
-- rule matched) is marked 'failed' in processed_event. When what it lacked
-- may have come (the router's rules changed), the consumer applies those
-- events again (kf_feed_retry_failed, common/feed.h). Failed marks are few
-- among very many applied ones: this index finds them without reading the
-- others, so looking when there is nothing to retry costs one index probe.
CREATE INDEX IF NOT EXISTS processed_event_failed_idx ON processed_event (consumer, event_id)
    WHERE outcome = 'failed';
