/* kefu-bus — the doorbell: forwards events from publishers to subscribers
   (XSUB -> XPUB) and work from producers to workers (PULL -> PUSH), so
   any number of daemon instances find each other through four fixed
   endpoints. It keeps nothing: whatever it drops, consumers rebuild from
   the store. */
#include <czmq.h>
#include <signal.h>
#include <string.h>

#include "config.h"
#include "log.h"

static const kf_setting_t s_settings[] = {KF_SETTINGS_COMMON, KF_SETTINGS_END};

/* Starts a proxy between a frontend and a backend socket, both bound. */
static zactor_t *s_proxy(const char *front_type, const char *front, const char *back_type,
                         const char *back)
{
    zactor_t *proxy = zactor_new(zproxy, NULL);
    zstr_sendx(proxy, "FRONTEND", front_type, front, NULL);
    if (zsock_wait(proxy) != 0)
        goto failed;
    zstr_sendx(proxy, "BACKEND", back_type, back, NULL);
    if (zsock_wait(proxy) != 0)
        goto failed;
    return proxy;
failed:
    kf_error("bus.bind_failed", "front=%s back=%s", front, back);
    zactor_destroy(&proxy);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        kf_config_help(strcmp(argv[1], "--help") == 0 ? stdout : stderr, "kefu-bus",
                       "Forwards kefu's events (publishers to subscribers) and work (producers "
                       "to workers).\nIt binds KEFU_BUS_PUB, KEFU_BUS_SUB, KEFU_BUS_PUSH and "
                       "KEFU_BUS_PULL; the daemons connect to them.",
                       s_settings);
        return strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    if (kf_log_init("bus", kf_config_str(s_settings, "KEFU_LOG_LEVEL")) != 0) {
        fprintf(stderr, "kefu-bus: KEFU_LOG_LEVEL must be debug, info, warn or error\n");
        return 2;
    }
    signal(SIGHUP, SIG_IGN); /* nothing to reload yet; never die of it */
    zsys_init();
    zsys_set_logstream(NULL);
    zactor_t *events = s_proxy("XSUB", kf_config_str(s_settings, "KEFU_BUS_PUB"), "XPUB",
                               kf_config_str(s_settings, "KEFU_BUS_SUB"));
    zactor_t *work = s_proxy("PULL", kf_config_str(s_settings, "KEFU_BUS_PUSH"), "PUSH",
                             kf_config_str(s_settings, "KEFU_BUS_PULL"));
    if (!events || !work) {
        zactor_destroy(&events);
        zactor_destroy(&work);
        return 1;
    }
    kf_info("bus.started", "version=%s pub=%s sub=%s push=%s pull=%s", KEFU_VERSION,
            kf_config_str(s_settings, "KEFU_BUS_PUB"), kf_config_str(s_settings, "KEFU_BUS_SUB"),
            kf_config_str(s_settings, "KEFU_BUS_PUSH"), kf_config_str(s_settings, "KEFU_BUS_PULL"));
    while (!zsys_interrupted)
        zclock_sleep(100);
    zactor_destroy(&events);
    zactor_destroy(&work);
    kf_info("bus.stopped", NULL);
    return 0;
}
