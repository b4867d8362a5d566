/*
 * conn.c - request deadlines, arrival tracking and the connection bound
 * (see conn.h).
 */
#include "conn.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/listener.h>

#define CONN_BUCKETS 1024
#define CONN_PAUSE_MS 200

/* A request whose first bytes arrived and whose handler has not run. */
struct arrival {
	struct nrm_conns *cs;
	evutil_socket_t fd;
	ino_t ino;
	struct event deadline;
	struct arrival *next; /* hash chain, by fd */
};

/* An open client connection, by descriptor (see conn.h). */
struct open_conn {
	ino_t ino; /* 0: none */
	bool spoke; /* its first request bytes arrived */
	char addr[INET6_ADDRSTRLEN];
	struct event first; /* the handshake deadline */
	struct nrm_conns *cs;
	evutil_socket_t fd;
};

/* A bufferevent evhttp just made, its socket not yet looked at. */
struct fresh {
	struct bufferevent *bev; /* referenced */
	struct fresh *next;
};

struct paused {
	struct nrm_conns *cs;
	struct evconnlistener *lev;
	struct event resume;
	struct paused *next;
};

struct nrm_conns {
	struct event_base *base;
	nrm_conns_changed_cb changed;
	void *arg;
	int timeout_s;
	int arriving;
	uint64_t accept_pauses;
	struct arrival *bucket[CONN_BUCKETS];
	struct paused *listeners;
	nrm_conns_own_answer_cb own_answer;
	/* the guards on new connections */
	int max_per_address, handshake_s, fd_reserve;
	int n_open; /* entries of open[], by descriptor */
	struct open_conn **open; /* grown on demand; NULL: none yet */
	struct fresh *fresh;
	struct event fresh_ev;
	struct nrm_conns_refusals refused;
};

static size_t
conn_slot(evutil_socket_t fd)
{
	return (size_t)fd % CONN_BUCKETS;
}

static ino_t
conn_inode(evutil_socket_t fd)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) != 0)
		return 0;
	return st.st_ino;
}

static struct arrival **
conn_find(struct nrm_conns *cs, evutil_socket_t fd)
{
	struct arrival **pp = &cs->bucket[conn_slot(fd)];

	while (*pp != NULL && (*pp)->fd != fd)
		pp = &(*pp)->next;
	return pp;
}

/* Forget an entry; `notify` tells the owner the count changed. */
static void
conn_forget(struct arrival **pp, bool notify)
{
	struct arrival *a = *pp;
	struct nrm_conns *cs = a->cs;

	*pp = a->next;
	event_del(&a->deadline);
	free(a);
	cs->arriving--;
	if (notify && cs->changed != NULL)
		cs->changed(cs->arg);
}

static void
conn_drop(struct arrival **pp)
{
	conn_forget(pp, true);
}

static void
conn_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct arrival *a = arg;
	struct nrm_conns *cs = a->cs;
	struct arrival **pp = conn_find(cs, a->fd);

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	/* Only the same socket: a reused descriptor has another inode. */
	if (conn_inode(a->fd) == a->ino && a->ino != 0) {
		nrm_info("closing a connection that did not send a whole "
			 "request in time timeout_s=%d",
		    cs->timeout_s);
		shutdown(a->fd, SHUT_RDWR);
	}
	if (*pp == a)
		conn_drop(pp);
}

static void conn_first_deadline(evutil_socket_t fd, short what, void *arg);

/*
 * The open-connection entry of fd; NULL when there is none and not
 * `make` (entries are made on demand and kept, so their events never
 * move).
 */
static struct open_conn *
conn_open_at(struct nrm_conns *cs, evutil_socket_t fd, bool make)
{
	if (fd < 0 || fd > 16777215)
		return NULL;
	if (fd >= cs->n_open) {
		int n = cs->n_open > 0 ? cs->n_open : 256;

		if (!make)
			return NULL;
		while (n <= fd)
			n *= 2;
		{
			struct open_conn **grown =
			    nrm_xcalloc((size_t)n, sizeof(*grown));

			if (cs->n_open > 0)
				memcpy(grown, cs->open,
				    (size_t)cs->n_open * sizeof(*grown));
			free(cs->open);
			cs->open = grown;
		}
		cs->n_open = n;
	}
	if (cs->open[fd] == NULL && make) {
		cs->open[fd] = nrm_xcalloc(1, sizeof(**cs->open));
		cs->open[fd]->cs = cs;
		cs->open[fd]->fd = fd;
		event_assign(&cs->open[fd]->first, cs->base, -1, 0,
		    conn_first_deadline, cs->open[fd]);
	}
	return cs->open[fd];
}

/* The soft descriptor limit now (nrm_conns_limit() may have moved it). */
static int
conn_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 ||
	    rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 16777216)
		return 16777216;
	return (int)rl.rlim_cur;
}

/* The first request bytes arrived on fd: its handshake deadline is over. */
static void
conn_spoke(struct nrm_conns *cs, evutil_socket_t fd)
{
	struct open_conn *o = conn_open_at(cs, fd, true);
	ino_t ino;

	if (o == NULL || (o->spoke && o->ino != 0 && o->addr[0] != '\0'))
		return;
	ino = conn_inode(fd);
	if (o->ino != ino) { /* not seen yet (it spoke first): say so */
		o->ino = ino;
		o->addr[0] = '\0';
	}
	o->spoke = true;
	event_del(&o->first);
}

static void
conn_first_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct open_conn *o = arg;

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	if (o->spoke || o->ino == 0 || conn_inode(o->fd) != o->ino)
		return;
	o->cs->refused.handshake++;
	nrm_info("closing a connection that sent no request in time "
		 "handshake_timeout_s=%d",
	    o->cs->handshake_s);
	shutdown(o->fd, SHUT_RDWR);
}

/*
 * Open connections of client address addr.  With `verify`, each entry's
 * socket is looked at (an fstat) and stale entries are dropped; without,
 * the entries are counted as they stand, which is never fewer: the cap
 * needs the exact count only when that one reaches it (thousands of
 * connections from one address, a NAT or a proxy, cost an fstat each
 * for every new one otherwise).
 */
static int
conn_count_address(struct nrm_conns *cs, const char *addr, bool verify)
{
	int n = 0;

	for (int fd = 0; fd < cs->n_open; fd++) {
		struct open_conn *o = cs->open[fd];

		if (o == NULL || o->ino == 0 || strcmp(o->addr, addr) != 0)
			continue;
		if (verify && conn_inode(fd) != o->ino) {
			event_del(&o->first);
			o->ino = 0;
			continue;
		}
		n++;
	}
	return n;
}

static void conn_pause_all(struct nrm_conns *cs);

/* A new connection's socket is known: the guards of conn.h. */
static void
conn_admit(struct nrm_conns *cs, evutil_socket_t fd)
{
	struct open_conn *o = conn_open_at(cs, fd, true);
	int limit = conn_fd_limit();
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[INET6_ADDRSTRLEN] = "";
	ino_t ino = conn_inode(fd);
	bool spoke;

	if (fd >= limit - cs->fd_reserve) {
		cs->refused.fd_reserve++;
		nrm_warn("descriptor reserve reached, closing a new "
			 "connection fd=%d limit=%d reserve=%d",
		    (int)fd, limit, cs->fd_reserve);
		shutdown(fd, SHUT_RDWR);
		conn_pause_all(cs);
		return;
	}
	if (o == NULL || ino == 0)
		return;
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET,
			    &((struct sockaddr_in *)&ss)->sin_addr, addr,
			    sizeof(addr));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6,
			    &((struct sockaddr_in6 *)&ss)->sin6_addr, addr,
			    sizeof(addr));
	}
	spoke = o->ino == ino && o->spoke; /* its bytes came first */
	if (o->ino != 0)
		event_del(&o->first);
	o->ino = 0;
	if (addr[0] != '\0' && cs->max_per_address > 0 &&
	    conn_count_address(cs, addr, false) >= cs->max_per_address &&
	    conn_count_address(cs, addr, true) >= cs->max_per_address) {
		cs->refused.per_address++;
		nrm_info("closing a new connection over the per-address cap "
			 "max=%d",
		    cs->max_per_address);
		shutdown(fd, SHUT_RDWR);
		return;
	}
	o->ino = ino;
	o->spoke = spoke;
	snprintf(o->addr, sizeof(o->addr), "%s", addr);
	if (!spoke && cs->handshake_s > 0) {
		struct timeval tv = {cs->handshake_s, 0};

		event_add(&o->first, &tv);
	}
}

/* The next loop turn after evhttp made connections: their sockets. */
static void
conn_fresh_cb(evutil_socket_t fd, short what, void *arg)
{
	struct nrm_conns *cs = arg;
	struct fresh *f;

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	while ((f = cs->fresh) != NULL) {
		evutil_socket_t s = bufferevent_getfd(f->bev);

		cs->fresh = f->next;
		if (s >= 0)
			conn_admit(cs, s);
		bufferevent_decref(f->bev);
		free(f);
	}
}

/*
 * The process's connection set.  The input hook's one argument is the
 * bufferevent (nothing is allocated per connection, so nothing leaks
 * when one closes unseen); the set it belongs to is this one.
 */
static struct nrm_conns *conn_set;

/* Input arrived on a connection's bufferevent (arg). */
static void
conn_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct bufferevent *bev = arg;
	struct nrm_conns *cs = conn_set;
	evutil_socket_t fd;
	struct arrival **pp, *a;
	struct timeval tv;

	NRM_UNUSED(buf);
	if (cs == NULL || info->n_added == 0)
		return;
	fd = bufferevent_getfd(bev);
	if (fd < 0)
		return;
	conn_spoke(cs, fd);
	pp = conn_find(cs, fd);
	if (*pp != NULL) {
		if ((*pp)->ino == conn_inode(fd))
			return; /* the same request, still arriving */
		conn_drop(pp); /* a stale entry of a closed connection */
	}
	a = nrm_xcalloc(1, sizeof(*a));
	a->cs = cs;
	a->fd = fd;
	a->ino = conn_inode(fd);
	event_assign(&a->deadline, cs->base, -1, 0, conn_deadline, a);
	tv.tv_sec = cs->timeout_s;
	tv.tv_usec = 0;
	event_add(&a->deadline, &tv);
	a->next = cs->bucket[conn_slot(fd)];
	cs->bucket[conn_slot(fd)] = a;
	cs->arriving++;
	if (cs->changed != NULL)
		cs->changed(cs->arg);
}

/* libevent's error page (evhttp_send_error's template, 2.1). */
#define CONN_PAGE \
	"<HTML><HEAD>\n<TITLE>%d %s</TITLE>\n</HEAD><BODY>\n<H1>%s</H1>\n" \
	"</BODY></HTML>\n"
#define CONN_PAGE_END "</BODY></HTML>\n"
#define CONN_PAGE_MAX 2048 /* status line, headers and page */

/*
 * If `text` (len bytes, NUL-terminated) is one whole libevent error
 * page: its HTTP minor version, status and reason.
 */
static bool
conn_is_page(const char *text, size_t len, int *minor, int *status,
    char *reason, size_t reasonsz)
{
	const char *eol = strstr(text, "\r\n");
	const char *body = strstr(text, "\r\n\r\n");
	char page[512];
	size_t n;
	int m, st;

	if (eol == NULL || body == NULL ||
	    sscanf(text, "HTTP/1.%1d %3d ", &m, &st) != 2 || st < 400 ||
	    st > 599 || eol - text < 13)
		return false;
	n = (size_t)(eol - (text + 13));
	if (n == 0 || n >= reasonsz)
		return false;
	memcpy(reason, text + 13, n);
	reason[n] = '\0';
	if (snprintf(page, sizeof(page), CONN_PAGE, st, reason, reason) >=
	    (int)sizeof(page))
		return false;
	body += 4;
	if ((size_t)(text + len - body) != strlen(page) ||
	    memcmp(body, page, strlen(page)) != 0 ||
	    strcasestr(text, "\r\nContent-Type: text/html\r\n") == NULL)
		return false;
	*minor = m;
	*status = st;
	return true;
}

/* Output was added to a connection's bufferevent (arg). */
static void
conn_output(
    struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	static bool busy; /* our own rewrite calls this again */
	struct nrm_conns *cs = conn_set;
	size_t len = evbuffer_get_length(buf);
	const size_t endlen = strlen(CONN_PAGE_END);
	struct evbuffer_ptr pos;
	struct evbuffer *repl;
	char tail[16], text[CONN_PAGE_MAX + 1], reason[64];
	int minor, status;

	NRM_UNUSED(arg);
	if (busy || cs == NULL || cs->own_answer == NULL ||
	    info->n_added == 0 || len < endlen || len > CONN_PAGE_MAX)
		return;
	/* cheap first: does the buffer end the way a page does? */
	if (evbuffer_ptr_set(buf, &pos, len - endlen, EVBUFFER_PTR_SET) != 0 ||
	    evbuffer_copyout_from(buf, &pos, tail, endlen) !=
		(ev_ssize_t)endlen ||
	    memcmp(tail, CONN_PAGE_END, endlen) != 0)
		return;
	if (evbuffer_copyout(buf, text, len) != (ev_ssize_t)len)
		return;
	text[len] = '\0';
	if (!conn_is_page(text, len, &minor, &status, reason, sizeof(reason)))
		return;
	repl = evbuffer_new();
	if (repl == NULL)
		return; /* libevent's page goes out as it is */
	cs->own_answer(cs->arg, minor, status, reason, repl);
	if (evbuffer_get_length(repl) > 0) {
		busy = true;
		evbuffer_drain(buf, len);
		evbuffer_add_buffer(buf, repl);
		busy = false;
	}
	evbuffer_free(repl);
}

void
nrm_conns_set_own_answer(struct nrm_conns *cs, nrm_conns_own_answer_cb cb)
{
	cs->own_answer = cb;
}

struct bufferevent *
nrm_conns_wrap(struct nrm_conns *cs, struct bufferevent *bev)
{
	if (bev == NULL)
		return NULL;
	if (evbuffer_add_cb(bufferevent_get_input(bev), conn_input, bev) ==
		NULL ||
	    evbuffer_add_cb(bufferevent_get_output(bev), conn_output, bev) ==
		NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	if (cs != NULL) {
		struct fresh *f = nrm_xcalloc(1, sizeof(*f));
		int probe = dup(STDERR_FILENO); /* the lowest free descriptor */

		/*
		 * Called inside libevent's accept loop: when the next accept
		 * would take a reserved descriptor, pause the listeners now,
		 * which ends that loop, so a burst of connections never takes
		 * the reserve even for one loop turn.
		 */
		if (probe < 0 || probe >= conn_fd_limit() - cs->fd_reserve)
			conn_pause_all(cs);
		if (probe >= 0)
			close(probe);
		bufferevent_incref(bev);
		f->bev = bev;
		f->next = cs->fresh;
		cs->fresh = f;
		event_active(&cs->fresh_ev, EV_TIMEOUT, 0);
	}
	return bev;
}

void
nrm_conns_request_begin(struct nrm_conns *cs, struct bufferevent *bev)
{
	evutil_socket_t fd = bufferevent_getfd(bev);
	struct arrival **pp;

	if (fd < 0)
		return;
	pp = conn_find(cs, fd);
	if (*pp != NULL)
		conn_drop(pp);
}

int
nrm_conns_arriving(struct nrm_conns *cs)
{
	/*
	 * Forget entries whose connection is gone (evhttp closed it when the
	 * client left mid-request): they must not hold up a drain until
	 * their deadline.
	 */
	for (size_t i = 0; i < CONN_BUCKETS && cs->arriving > 0; i++) {
		struct arrival **pp = &cs->bucket[i];

		while (*pp != NULL) {
			if (conn_inode((*pp)->fd) != (*pp)->ino)
				conn_forget(pp, false); /* no re-entry */
			else
				pp = &(*pp)->next;
		}
	}
	return cs->arriving;
}

uint64_t
nrm_conns_accept_pauses(const struct nrm_conns *cs)
{
	return cs->accept_pauses;
}

void
nrm_conns_refusals(const struct nrm_conns *cs, struct nrm_conns_refusals *out)
{
	*out = cs->refused;
}

void
nrm_conns_set_guards(
    struct nrm_conns *cs, int max_per_address, int handshake_s, int fd_reserve)
{
	cs->max_per_address = max_per_address;
	cs->handshake_s = handshake_s;
	cs->fd_reserve = fd_reserve;
}

void
nrm_conns_set_timeout(struct nrm_conns *cs, int client_timeout_s)
{
	cs->timeout_s = client_timeout_s;
}

int
nrm_conns_open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (dir == NULL)
		return -1;
	while ((e = readdir(dir)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n - 1; /* the directory's own descriptor */
}

int
nrm_conns_limit(int max_connections, int headroom)
{
	struct rlimit rl;
	int open_now = nrm_conns_open_fds();
	rlim_t want;

	if (open_now < 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return max_connections;
	want = (rlim_t)open_now + (rlim_t)max_connections + (rlim_t)headroom;
	if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max) {
		nrm_warn("descriptor hard limit is lower than "
			 "max_connections needs limit=%llu wanted=%llu",
		    (unsigned long long)rl.rlim_max, (unsigned long long)want);
		want = rl.rlim_max;
	}
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		nrm_warn("could not set the descriptor limit errno=%d", errno);
		return max_connections;
	}
	return (int)want - open_now - headroom;
}

static void
conn_resume(evutil_socket_t fd, short what, void *arg)
{
	struct paused *p = arg;

	NRM_UNUSED(fd);
	NRM_UNUSED(what);
	evconnlistener_enable(p->lev);
}

/* Pause every listener briefly (the descriptor reserve is reached). */
static void
conn_pause_all(struct nrm_conns *cs)
{
	struct timeval tv = {0, CONN_PAUSE_MS * 1000};

	for (struct paused *p = cs->listeners; p != NULL; p = p->next) {
		evconnlistener_disable(p->lev);
		event_add(&p->resume, &tv);
	}
	cs->accept_pauses++;
}

/* accept() failed: out of descriptors means pause, not spin. */
static void
conn_accept_error(struct evconnlistener *lev, void *arg)
{
	struct nrm_conns *cs = conn_set;
	struct paused *p;
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval tv = {0, CONN_PAUSE_MS * 1000};

	NRM_UNUSED(arg);
	if (cs == NULL)
		return;
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
		nrm_warn("accept failed errno=%d", err);
		return;
	}
	for (p = cs->listeners; p != NULL && p->lev != lev; p = p->next)
		;
	if (p == NULL)
		return;
	cs->accept_pauses++;
	nrm_warn(
	    "connection limit reached, pausing accept ms=%d", CONN_PAUSE_MS);
	evconnlistener_disable(lev);
	event_add(&p->resume, &tv);
}

void
nrm_conns_watch_listener(struct nrm_conns *cs, struct evconnlistener *lev)
{
	struct paused *p;

	if (lev == NULL)
		return;
	p = nrm_xcalloc(1, sizeof(*p));
	p->cs = cs;
	p->lev = lev;
	event_assign(&p->resume, cs->base, -1, 0, conn_resume, p);
	p->next = cs->listeners;
	cs->listeners = p;
	evconnlistener_set_error_cb(lev, conn_accept_error);
}

struct nrm_conns *
nrm_conns_new(struct event_base *base, nrm_conns_changed_cb changed, void *arg)
{
	struct nrm_conns *cs = nrm_xcalloc(1, sizeof(*cs));

	cs->base = base;
	cs->changed = changed;
	cs->arg = arg;
	cs->timeout_s = 30;
	event_assign(&cs->fresh_ev, base, -1, 0, conn_fresh_cb, cs);
	conn_set = cs;
	return cs;
}

void
nrm_conns_free(struct nrm_conns *cs)
{
	struct paused *p;

	if (cs == NULL)
		return;
	for (size_t i = 0; i < CONN_BUCKETS; i++) {
		while (cs->bucket[i] != NULL) {
			struct arrival *a = cs->bucket[i];

			cs->bucket[i] = a->next;
			event_del(&a->deadline);
			free(a);
		}
	}
	while ((p = cs->listeners) != NULL) {
		cs->listeners = p->next;
		event_del(&p->resume);
		free(p);
	}
	event_del(&cs->fresh_ev);
	while (cs->fresh != NULL) {
		struct fresh *f = cs->fresh;

		cs->fresh = f->next;
		bufferevent_decref(f->bev);
		free(f);
	}
	for (int fd = 0; fd < cs->n_open; fd++) {
		if (cs->open[fd] != NULL)
			event_del(&cs->open[fd]->first);
		free(cs->open[fd]);
	}
	free(cs->open);
	if (conn_set == cs)
		conn_set = NULL;
	free(cs);
}
