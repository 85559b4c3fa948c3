/* kefu — what a daemon's loop waits on: its czmq sockets and plain
   descriptors (the health endpoint's, libmicrohttpd's, a store
   connection's) in one zmq_poll.

   Not a zpoller: a zpoller probes every reader it is given as a libzmq
   socket first, so a plain descriptor handed to it is read past (found by
   kefu-intake's memcheck run). Here each item says which it is.

   Usage:
     kf_pollset_t set = {0};
     int in = kf_pollset_sock(&set, sock);
     int http = kf_pollset_fd(&set, kf_health_fd(health));  (-1: off)
     while (...) {
         kf_pollset_wait(&set, kf_health_wait_ms(health, ms));
         if (kf_pollset_ready(&set, in)) ...
         if (kf_pollset_ready(&set, http)) kf_health_serve_fd(health);
     } */
#ifndef KF_POLLSET_H
#define KF_POLLSET_H

#include <czmq.h>
#include <stdbool.h>

#define KF_POLLSET_MAX 16 /* items in one set */

typedef struct {
    zmq_pollitem_t items[KF_POLLSET_MAX];
    int count;
} kf_pollset_t;

/* Adds sock to set; returns its index. */
int kf_pollset_sock(kf_pollset_t *self, zsock_t *sock);

/* Adds the plain descriptor fd to set and returns its index; -1 (nothing
   added) when fd is -1 (say, an endpoint that is off). */
int kf_pollset_fd(kf_pollset_t *self, int fd);

/* Waits up to timeout_ms (0: only looks) for any item to be readable.
   Returns how many are, 0 on timeout or when a signal ended the wait. */
int kf_pollset_wait(kf_pollset_t *self, long timeout_ms);

/* True when the item at index (from kf_pollset_sock or kf_pollset_fd; -1
   gives false) was readable at the last wait. */
bool kf_pollset_ready(const kf_pollset_t *self, int index);

#endif
