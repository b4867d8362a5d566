/*
 * flood.c - token buckets and the rejected-token cache (see flood.h).
 */
#include "flood.h"
#include "crypto.h"
#include "log.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct bucket {
	uint64_t name; /* 0: empty */
	double tokens;
	int64_t last_ms;
};

struct nrm_buckets {
	unsigned char key[32]; /* HMAC key: no crafted collisions */
	size_t used;
	struct bucket slot[NRM_FLOOD_SLOTS];
};

struct reject {
	unsigned char hash[32];
	int64_t at_ms; /* 0: empty */
};

struct nrm_rejects {
	uint64_t hits, hits_total;
	struct reject slot[NRM_REJECT_SLOTS];
};

struct nrm_buckets *
nrm_buckets_new(void)
{
	struct nrm_buckets *b = nrm_xcalloc(1, sizeof(*b));

	if (nrm_random_bytes(b->key, sizeof(b->key)) != NRM_OK)
		nrm_fatal("flood: no random bytes for the table's key");
	return b;
}

void
nrm_buckets_free(struct nrm_buckets *b)
{
	free(b);
}

size_t
nrm_buckets_used(const struct nrm_buckets *b)
{
	return b->used;
}

/* 64 bits of HMAC-SHA-256 of name; never 0. */
static uint64_t
flood_name(const struct nrm_buckets *b, const void *name, size_t len)
{
	unsigned char md[32];
	uint64_t h = 0;

	if (nrm_hmac_sha256(b->key, sizeof(b->key), name, len, md) != NRM_OK)
		nrm_fatal("flood: HMAC-SHA-256 failed");
	memcpy(&h, md, sizeof(h));
	return h != 0 ? h : 1;
}

/* The bucket's tokens at now_ms (refilled, capped at burst). */
static double
flood_level(const struct bucket *k, double rate, int burst, int64_t now_ms)
{
	double t = k->tokens;

	if (now_ms > k->last_ms)
		t += (double)(now_ms - k->last_ms) * rate / 1000.0;
	return t < (double)burst ? t : (double)burst;
}

/* The slot of name: its own, else an empty one, else the fullest. */
static struct bucket *
flood_slot(struct nrm_buckets *b, uint64_t name, double rate, int burst,
    int64_t now_ms)
{
	size_t home = (size_t)(name % NRM_FLOOD_SLOTS);
	struct bucket *empty = NULL, *fullest = NULL;
	double most = -1.0;

	for (size_t i = 0; i < NRM_FLOOD_PROBE; i++) {
		struct bucket *k = &b->slot[(home + i) % NRM_FLOOD_SLOTS];
		double lvl;

		if (k->name == name)
			return k;
		if (k->name == 0) {
			if (empty == NULL)
				empty = k;
			continue;
		}
		lvl = flood_level(k, rate, burst, now_ms);
		if (lvl > most) {
			most = lvl;
			fullest = k;
		}
	}
	if (empty != NULL)
		b->used++;
	else
		empty = fullest;
	empty->name = name;
	empty->tokens = (double)burst;
	empty->last_ms = now_ms;
	return empty;
}

int64_t
nrm_buckets_take(struct nrm_buckets *b, const void *name, size_t len,
    double rate, int burst, int64_t now_ms)
{
	struct bucket *k;
	double need;
	int64_t wait;

	if (rate <= 0.0 || burst <= 0)
		return 0;
	k = flood_slot(b, flood_name(b, name, len), rate, burst, now_ms);
	k->tokens = flood_level(k, rate, burst, now_ms);
	if (now_ms > k->last_ms)
		k->last_ms = now_ms;
	if (k->tokens >= 1.0) {
		k->tokens -= 1.0;
		return 0;
	}
	need = (1.0 - k->tokens) * 1000.0 / rate;
	wait = (int64_t)need;
	if ((double)wait < need)
		wait++;
	return wait > 0 ? wait : 1;
}

struct nrm_rejects *
nrm_rejects_new(void)
{
	return nrm_xcalloc(1, sizeof(struct nrm_rejects));
}

void
nrm_rejects_free(struct nrm_rejects *c)
{
	free(c);
}

static size_t
reject_home(const unsigned char hash[32])
{
	uint32_t h;

	memcpy(&h, hash, sizeof(h));
	return (size_t)(h % NRM_REJECT_SLOTS);
}

void
nrm_rejects_add(
    struct nrm_rejects *c, const unsigned char hash[32], int64_t now_ms)
{
	size_t home = reject_home(hash);
	struct reject *oldest = NULL;

	for (size_t i = 0; i < NRM_FLOOD_PROBE; i++) {
		struct reject *e = &c->slot[(home + i) % NRM_REJECT_SLOTS];

		if (e->at_ms == 0 || memcmp(e->hash, hash, 32) == 0) {
			oldest = e;
			break;
		}
		if (oldest == NULL || e->at_ms < oldest->at_ms)
			oldest = e;
	}
	memcpy(oldest->hash, hash, 32);
	oldest->at_ms = now_ms > 0 ? now_ms : 1;
}

bool
nrm_rejects_hit(struct nrm_rejects *c, const unsigned char hash[32],
    int64_t ttl_ms, int64_t now_ms)
{
	size_t home = reject_home(hash);

	if (ttl_ms <= 0)
		return false;
	for (size_t i = 0; i < NRM_FLOOD_PROBE; i++) {
		struct reject *e = &c->slot[(home + i) % NRM_REJECT_SLOTS];

		if (e->at_ms == 0 || memcmp(e->hash, hash, 32) != 0)
			continue;
		if (e->at_ms + ttl_ms <= now_ms) {
			memset(e, 0, sizeof(*e));
			return false;
		}
		e->at_ms = now_ms; /* a token tried again stays refused */
		c->hits++;
		c->hits_total++;
		return true;
	}
	return false;
}

void
nrm_rejects_clear(struct nrm_rejects *c)
{
	memset(c->slot, 0, sizeof(c->slot));
}

uint64_t
nrm_rejects_take_hits(struct nrm_rejects *c)
{
	uint64_t n = c->hits;

	c->hits = 0;
	return n;
}

uint64_t
nrm_rejects_hits_total(const struct nrm_rejects *c)
{
	return c->hits_total;
}
