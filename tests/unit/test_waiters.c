/*
 * test_waiters.c - nrm-api/nrmd/waiters.c alone (no daemon, no database):
 * the queue that every inbox read passes through.  Reads of one question
 * queued while the slots are busy go out as one group when a slot frees,
 * a read of another question waits for its own; a read that waits longer
 * than its deadline without being sent is handed to `answer`, one whose
 * deadline passes while its query is out is only marked expired; and
 * freeing the registry answers the reads still queued.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit.h"

#include <event2/event.h>

#include "http.h"
#include "waiters.h"

#define TWA_MAX 16

/* What the registry's callbacks saw. */
static struct {
	struct nrm_waiter *sent[TWA_MAX][TWA_MAX]; /* each requery's group */
	int sent_n[TWA_MAX];
	int n_requery;
	struct nrm_waiter *answered[TWA_MAX];
	int n_answer;
} twa;

static void
twa_requery(struct nrm_waiters *reg, struct nrm_waiter **ws, int n)
{
	(void)reg;
	assert_true(twa.n_requery < TWA_MAX && n <= TWA_MAX);
	for (int i = 0; i < n; i++) {
		assert_true(ws[i]->querying && !ws[i]->queued);
		twa.sent[twa.n_requery][i] = ws[i];
	}
	twa.sent_n[twa.n_requery++] = n;
}

static void
twa_answer(struct nrm_waiter *w)
{
	assert_true(twa.n_answer < TWA_MAX);
	twa.answered[twa.n_answer++] = w;
	nrm_waiter_remove(w);
}

static bool
twa_same(const struct nrm_waiter *a, const struct nrm_waiter *b)
{
	return a->question == b->question;
}

/* A read (not a long-poll) of `question` by reader `reader`. */
static struct nrm_waiter *
twa_read(struct nrm_waiters *reg, struct nrm_req *r, uint64_t question,
    uint64_t reader)
{
	struct nrm_waiter *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	nrm_waiter_init(reg, w, r);
	w->question = question;
	w->reader = reader;
	return w;
}

static int
twa_queued(const struct nrm_waiters *reg)
{
	struct nrm_waiters_stats st;

	nrm_waiters_stats(reg, &st);
	return st.queued;
}

static void
twa_setup(
    struct event_base **base, struct nrm_waiters **reg, struct nrm_req **r)
{
	memset(&twa, 0, sizeof(twa));
	*base = event_base_new();
	assert_non_null(*base);
	*reg = nrm_waiters_new(*base, twa_requery, twa_answer, twa_same, 1);
	*r = calloc(1, sizeof(**r));
	assert_non_null(*r);
}

/* Run the loop for ms milliseconds. */
static void
twa_run(struct event_base *base, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void
test_reads_of_one_question_share_a_slot(void **state)
{
	struct event_base *base;
	struct nrm_waiters *reg;
	struct nrm_req *r;
	struct nrm_waiter *a, *b, *c, *d;

	(void)state;
	twa_setup(&base, &reg, &r);
	a = twa_read(reg, r, 1, 1);
	nrm_waiter_enqueue(a); /* the one slot is free: sent alone */
	assert_int_equal(twa.n_requery, 1);
	assert_int_equal(twa.sent_n[0], 1);
	assert_ptr_equal(twa.sent[0][0], a);
	b = twa_read(reg, r, 1, 2);
	c = twa_read(reg, r, 2, 3);
	d = twa_read(reg, r, 1, 4);
	nrm_waiter_enqueue(b);
	nrm_waiter_enqueue(c);
	nrm_waiter_enqueue(d);
	assert_int_equal(twa.n_requery, 1); /* the slot is busy */
	assert_int_equal(twa_queued(reg), 3);
	nrm_waiters_query_done(reg); /* a's query is over */
	assert_int_equal(twa.n_requery, 2);
	assert_int_equal(twa.sent_n[1], 2); /* b and d: one question */
	assert_ptr_equal(twa.sent[1][0], b);
	assert_ptr_equal(twa.sent[1][1], d);
	assert_int_equal(twa_queued(reg), 1);
	nrm_waiters_query_done(reg);
	assert_int_equal(twa.n_requery, 3);
	assert_int_equal(twa.sent_n[2], 1);
	assert_ptr_equal(twa.sent[2][0], c);
	nrm_waiters_query_done(reg);
	assert_int_equal(twa.n_answer, 0);
	nrm_waiters_free(reg);
	free(a);
	free(b);
	free(c);
	free(d);
	free(r);
	event_base_free(base);
}

static void
test_deadline_answers_a_read_still_queued(void **state)
{
	struct event_base *base;
	struct nrm_waiters *reg;
	struct nrm_req *r;
	struct nrm_waiter *a, *b;

	(void)state;
	twa_setup(&base, &reg, &r);
	a = twa_read(reg, r, 1, 1);
	nrm_waiter_deadline(a, 30);
	nrm_waiter_enqueue(a); /* sent; its query never ends here */
	b = twa_read(reg, r, 1, 2);
	nrm_waiter_deadline(b, 30);
	nrm_waiter_enqueue(b);
	assert_int_equal(twa_queued(reg), 1);
	twa_run(base, 150);
	/* b, never sent, is answered; a, querying, is only marked */
	assert_int_equal(twa.n_answer, 1);
	assert_ptr_equal(twa.answered[0], b);
	assert_int_equal(twa_queued(reg), 0);
	assert_true(a->expired);
	assert_int_equal(twa.n_requery, 1);
	nrm_waiters_query_done(reg);
	assert_int_equal(twa.n_requery, 1); /* b is gone, nothing to send */
	nrm_waiter_remove(a);
	nrm_waiters_free(reg);
	free(a);
	free(b);
	free(r);
	event_base_free(base);
}

static void
test_free_answers_the_reads_still_queued(void **state)
{
	struct event_base *base;
	struct nrm_waiters *reg;
	struct nrm_req *r;
	struct nrm_waiter *a, *b, *c;

	(void)state;
	twa_setup(&base, &reg, &r);
	a = twa_read(reg, r, 1, 1);
	nrm_waiter_enqueue(a);
	b = twa_read(reg, r, 1, 2);
	c = twa_read(reg, r, 2, 3);
	nrm_waiter_enqueue(b);
	nrm_waiter_enqueue(c);
	nrm_waiters_free(reg);
	assert_int_equal(twa.n_answer, 2);
	assert_ptr_equal(twa.answered[0], b);
	assert_ptr_equal(twa.answered[1], c);
	free(a);
	free(b);
	free(c);
	free(r);
	event_base_free(base);
}

static void
test_slots_are_half_the_pool(void **state)
{
	(void)state;
	assert_int_equal(nrm_waiters_slots(1), 1);
	assert_int_equal(nrm_waiters_slots(2), 1);
	assert_int_equal(nrm_waiters_slots(3), 1);
	assert_int_equal(nrm_waiters_slots(5), 2); /* 2 cores: 2 x 2 + 1 */
	assert_int_equal(nrm_waiters_slots(9), 4);
	assert_int_equal(nrm_waiters_slots(64), 32);
}

UNIT_MAIN(NULL, NULL, cmocka_unit_test(test_slots_are_half_the_pool),
    cmocka_unit_test(test_reads_of_one_question_share_a_slot),
    cmocka_unit_test(test_deadline_answers_a_read_still_queued),
    cmocka_unit_test(test_free_answers_the_reads_still_queued))
