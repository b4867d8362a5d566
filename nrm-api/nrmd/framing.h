/*
 * framing.h - the strict edge: the checks a request's framing passes
 * before any handler sees it (RFC 9112 §3.2, §6.1, §6.3; RFC 9110 §5.1).
 *
 * libevent 2.1 parses the head leniently: it reads the first of several
 * Content-Length headers, accepts "+0", treats a Transfer-Encoding it
 * does not know as no coding at all, keeps "Transfer-Encoding :" (white
 * space before the colon) as a header NAMED "Transfer-Encoding " that
 * frames nothing, and serves HTTP/1.1 without Host.  Each of these lets
 * a proxy in front and nrmd disagree on where a request ends.  nrmd
 * checks the parsed head (the names keep the raw white space, so the
 * header before the colon is visible) and refuses; the caller answers
 * 400 (413 for a declared length over the limit) as problem+json and
 * closes the connection, so no byte after the faulty head is ever read
 * as a request.  libevent reads no body for HEAD: one there (a proxy
 * would forward it) would be read as the next request, so a HEAD with a
 * body is refused too.
 *
 * Pure: no I/O, no allocation; the headers are libevent's parsed list
 * (a header-only structure, so the unit test needs no libevent).
 */
#ifndef NRM_FRAMING_H
#define NRM_FRAMING_H

#include "nrm/nrm.h"

struct evkeyvalq;

/* Why a head was refused. */
struct nrm_framing_error {
	int status; /* 400 or 413 */
	char field[48]; /* the header at fault (problem+json "field") */
	char detail[128];
};

/*
 * Check the head of an HTTP/major.minor request with these headers
 * against the rules above; `max_body` is the largest body any endpoint
 * takes; `reads_body` is false for a method whose body libevent does not
 * read (HEAD).  NRM_OK when it is sound, else NRM_ERR with *err filled.
 */
int nrm_framing_check(const struct evkeyvalq *headers, int major, int minor,
    bool reads_body, long long max_body,
    struct nrm_framing_error *err) NRM_MUSTCHECK;

#endif /* NRM_FRAMING_H */
