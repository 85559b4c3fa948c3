/* kefu — what a daemon's loop waits on (see pollset.h). */
#include "pollset.h"

#include <assert.h>

/* Adds item to set; returns its index. */
static int s_add(kf_pollset_t *self, zmq_pollitem_t item)
{
    assert(self->count < KF_POLLSET_MAX);
    self->items[self->count] = item;
    return self->count++;
}

int kf_pollset_sock(kf_pollset_t *self, zsock_t *sock)
{
    return s_add(self, (zmq_pollitem_t){zsock_resolve(sock), 0, ZMQ_POLLIN, 0});
}

int kf_pollset_fd(kf_pollset_t *self, int fd)
{
    return fd < 0 ? -1 : s_add(self, (zmq_pollitem_t){NULL, fd, ZMQ_POLLIN, 0});
}

int kf_pollset_wait(kf_pollset_t *self, long timeout_ms)
{
    for (int i = 0; i < self->count; i++)
        self->items[i].revents = 0;
    int rc = zmq_poll(self->items, self->count, timeout_ms);
    return rc > 0 ? rc : 0;
}

bool kf_pollset_ready(const kf_pollset_t *self, int index)
{
    return index >= 0 && index < self->count && (self->items[index].revents & ZMQ_POLLIN);
}
