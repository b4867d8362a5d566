/*
 * backoff.c - the table of consecutive failed logins and the delay
 * (see backoff.h).
 */
#include "backoff.h"
#include "crypto.h"
#include "log.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define BACKOFF_PROBE 8 /* slots looked at from a key's home slot */

struct backoff_slot {
	uint64_t key; /* 0: empty */
	uint32_t fails;
	int64_t last_s;
};

struct nrm_backoff {
	unsigned char key[2][32]; /* HMAC keys: logins, addresses */
	struct backoff_slot slot[NRM_BACKOFF_SLOTS];
};

struct nrm_backoff *
nrm_backoff_new(void)
{
	struct nrm_backoff *b = nrm_xcalloc(1, sizeof(*b));

	/* Keys the client cannot know: no crafted colliding names. */
	if (nrm_random_bytes(&b->key[0][0], sizeof(b->key)) != NRM_OK)
		nrm_fatal("backoff: no random bytes for the table's keys");
	return b;
}

void
nrm_backoff_free(struct nrm_backoff *b)
{
	free(b);
}

/* 64 bits of HMAC-SHA-256 of s under the kind's key; never 0. */
static uint64_t
backoff_key(const struct nrm_backoff *b, char kind, const char *s)
{
	unsigned char md[32];
	uint64_t h = 0;

	if (nrm_hmac_sha256(b->key[kind == 'l' ? 0 : 1], sizeof(b->key[0]), s,
		strlen(s), md) != NRM_OK)
		nrm_fatal("backoff: HMAC-SHA-256 failed");
	memcpy(&h, md, sizeof(h));
	return h != 0 ? h : 1;
}

/*
 * The slot of key: its own, else an empty one, else the one seen least
 * recently among the probed (reset to key).  NULL for an empty s.
 */
static struct backoff_slot *
backoff_slot(struct nrm_backoff *b, char kind, const char *s, bool add)
{
	struct backoff_slot *victim = NULL;
	uint64_t key;
	size_t home;

	if (s == NULL || s[0] == '\0')
		return NULL;
	key = backoff_key(b, kind, s);
	home = (size_t)(key % NRM_BACKOFF_SLOTS);
	for (size_t i = 0; i < BACKOFF_PROBE; i++) {
		struct backoff_slot *e =
		    &b->slot[(home + i) % NRM_BACKOFF_SLOTS];

		if (e->key == key)
			return e;
		if (victim == NULL ||
		    (victim->key != 0 &&
			(e->key == 0 || e->last_s < victim->last_s)))
			victim = e;
	}
	if (!add)
		return NULL;
	victim->key = key;
	victim->fails = 0;
	victim->last_s = 0;
	return victim;
}

static unsigned
backoff_count(struct nrm_backoff *b, char kind, const char *s, int64_t now_s,
    int forget_s)
{
	struct backoff_slot *e = backoff_slot(b, kind, s, true);

	if (e == NULL)
		return 0;
	if (now_s - e->last_s > forget_s)
		e->fails = 0;
	if (e->fails < UINT32_MAX)
		e->fails++;
	e->last_s = now_s;
	return e->fails;
}

unsigned
nrm_backoff_fail(struct nrm_backoff *b, const char *login, const char *addr,
    int64_t now_s, int forget_s)
{
	unsigned l = backoff_count(b, 'l', login, now_s, forget_s);
	unsigned a = backoff_count(b, 'a', addr, now_s, forget_s);

	return l > a ? l : a;
}

void
nrm_backoff_clear(struct nrm_backoff *b, const char *login, const char *addr)
{
	struct backoff_slot *l = backoff_slot(b, 'l', login, false);
	struct backoff_slot *a = backoff_slot(b, 'a', addr, false);

	if (l != NULL)
		l->fails = 0;
	if (a != NULL)
		a->fails = 0;
}

int64_t
nrm_backoff_delay_ms(unsigned k, int after, int base_ms, int max_ms)
{
	int64_t d;

	if (base_ms <= 0 || max_ms <= 0 || after < 1 || k < (unsigned)after)
		return 0;
	d = base_ms;
	for (unsigned i = (unsigned)after; i < k && d < max_ms; i++)
		d *= 2;
	return d < max_ms ? d : max_ms;
}
