/*
 * inbox.h - the long-poll waiters of GET /v1/inbox (handler_inbox.c).
 *
 * nrm_inbox_notify() is called from the loop for every NOTIFY
 * nrm_inbox '<region>' (region NULL: the LISTEN connection came back, or
 * the backstop timer fired: wake every waiter).  Waking a waiter runs its
 * query again; a waiter never misses a wake-up that arrives while its
 * query is out.
 */
#ifndef NRM_INBOX_H
#define NRM_INBOX_H

#include "nrm/nrm.h"

struct nrm_daemon;
struct nrm_inbox;

struct nrm_inbox *nrm_inbox_new(struct nrm_daemon *d);

/* Answer every waiter with an empty page, then free. */
void nrm_inbox_free(struct nrm_inbox *ib);

void nrm_inbox_notify(struct nrm_inbox *ib, const char *region);

/* Answer every waiter now with an empty page (the daemon is stopping). */
void nrm_inbox_release_all(struct nrm_inbox *ib);

int nrm_inbox_n_waiting(const struct nrm_inbox *ib);
uint64_t nrm_inbox_wakeups(const struct nrm_inbox *ib);

#endif /* NRM_INBOX_H */
