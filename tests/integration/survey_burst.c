/* kefu — integration test helper: rings the doorbell with a burst of
   events, as a daemon publishing its outbox would, but with whatever ids,
   types and tickets the test gives (real ones, repeated ones, forged ones).
   Reads lines "ID TYPE CORR" (tab-separated) from stdin, connects a PUB
   socket to the bus (KEFU_BUS_PUB), waits for the bus to pass its
   subscriptions on, then sends them all back to back. Used by
   test_survey_batch.sh.
   Usage: kefu-test-survey-burst < lines */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "feed.h"

#define S_LINES_MAX 1000

int main(void)
{
    const char *endpoint = getenv("KEFU_BUS_PUB");
    if (!endpoint) {
        fprintf(stderr, "kefu-test-survey-burst: KEFU_BUS_PUB is not set\n");
        return 2;
    }
    static char lines[S_LINES_MAX][256];
    int count = 0;
    while (count < S_LINES_MAX && fgets(lines[count], sizeof lines[count], stdin)) {
        lines[count][strcspn(lines[count], "\r\n")] = '\0';
        if (lines[count][0])
            count++;
    }
    zsock_t *pub = zsock_new_pub(NULL);
    zsock_set_linger(pub, 2000);
    zsock_set_sndhwm(pub, 100000);
    if (zsock_connect(pub, "%s", endpoint) != 0) {
        fprintf(stderr, "kefu-test-survey-burst: cannot connect to %s\n", endpoint);
        return 2;
    }
    zclock_sleep(1000); /* the bus's XSUB passes the subscriptions on */
    int sent = 0;
    for (int i = 0; i < count; i++) {
        char *id = strtok(lines[i], "\t");
        char *type = strtok(NULL, "\t");
        char *corr = strtok(NULL, "\t");
        if (!id || !type) {
            fprintf(stderr, "kefu-test-survey-burst: line %d is not ID TYPE CORR\n", i + 1);
            continue;
        }
        kf_event_t ev = {.seq = 0, .id = id, .type = type, .corr = corr ? corr : "", .src = "test"};
        ev.at = zclock_time();
        sent += kf_bus_send_event(pub, &ev, "test") == 0;
    }
    zsock_destroy(&pub);
    printf("%d\n", sent);
    return sent == count ? 0 : 1;
}
