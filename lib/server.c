/*
 * server.c - options, the CGI and FastCGI loops, master and workers.
 */
#define _GNU_SOURCE		/* ppoll(), CPU_COUNT() */
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "event.h"
#include "log.h"
#include "replay.h"
#include "request.h"
#include "server.h"
#include "spool.h"
#include "store.h"
#include "webhook.h"

/*
 * Worker processes: "--workers auto" (the default) starts one per CPU
 * the program may run on, but at least AUTO_MIN, so that one slow POST
 * (a 16 MiB batch, a lock) does not stop the program, and at most
 * AUTO_MAX, so that three programs on a large machine stay well within
 * PostgreSQL's 100 connections.  Why one per CPU: doc/design.md.
 */
#define SERVER_WORKERS_AUTO_MIN	2
#define SERVER_WORKERS_AUTO_MAX	8
#define SERVER_WORKERS_MAX	256
/* Pending connections the listening socket holds. */
#define SERVER_BACKLOG		1024
/* Seconds workers get to finish their request after SIGTERM. */
#define SERVER_STOP_GRACE	10
/* A worker that dies sooner than this after its start is restarted
   only after a pause, so a crash loop does not become a fork storm. */
#define SERVER_RESPAWN_PAUSE	1
/* Largest --db-timeout, in milliseconds. */
#define SERVER_DB_TIMEOUT_MAX	600000
/* Largest --quarantine-tries and --quarantine-seconds (a week). */
#define SERVER_QUARANTINE_MAX	604800

struct server {
	const struct provider	*p;
	struct webhook_options	 wopt;
	const char		*listen;
	const char		*pidfile;
	int			 workers;
	int			 replay_only;	/* --replay */
	int			 requeue;	/* --requeue */
	struct replay_options	 ropt;
	struct spool		*spool;		/* the master's, for replay */
	struct store		*store;
	int			 fd;		/* listening socket */
	pid_t			*pids;		/* workers, 0 for none */
	time_t			*started;
};

static volatile sig_atomic_t server_stopping;

static void
server_on_term(int sig)
{
	(void)sig;
	server_stopping = 1;
	FCGX_ShutdownPending();
}

static void
server_on_child(int sig)
{
	(void)sig;		/* only to interrupt the master's sleep */
}

/* Installs handler without SA_RESTART, so blocking calls return EINTR. */
static void
server_signal(int sig, void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void
server_usage(const struct provider *p, FILE *f)
{
	fprintf(f,
	    "usage: %s [--listen PATH|HOST:PORT] [--workers N|auto] "
	    "[--db CONNINFO]\n"
	    "       %*s [--spool DIR] [--db-timeout MS] [--allow-anonymous]\n"
	    "       %*s [--pidfile FILE] [--utc-offset +HH:MM]\n"
	    "       %*s [--quarantine-tries N] [--quarantine-seconds S]\n"
	    "       %s --replay --spool DIR [--db CONNINFO] [--quarantine-...]\n"
	    "       %s --requeue --spool DIR\n"
	    "Receives %s webhooks and stores them in PostgreSQL.\n"
	    "Without --listen it serves a FastCGI socket on standard input,\n"
	    "or answers one CGI request.  Database settings are libpq's\n"
	    "(PGHOST, PGDATABASE, ..., or --db with a conninfo string).\n"
	    "When the database is down or slower than --db-timeout (%d ms),\n"
	    "events go to the --spool directory and the master replays them;\n"
	    "--replay only replays (for CGI mode), until SIGTERM.  Without\n"
	    "--spool, ESPHOOKS_SPOOL in the environment names the spool.\n"
	    "--utc-offset is the zone of timestamps sent without one.\n"
	    "--workers auto, the default, starts one worker per CPU, %d to %d.\n"
	    "A spooled record that fails --quarantine-tries times (%d) over\n"
	    "--quarantine-seconds (%d) goes to DIR/quarantine; --requeue\n"
	    "puts what is there back in the spool, to be replayed again.\n",
	    p->name, (int)strlen(p->name), "", (int)strlen(p->name), "",
	    (int)strlen(p->name), "", p->name, p->name, p->name,
	    STORE_TIMEOUT_MS, SERVER_WORKERS_AUTO_MIN,
	    SERVER_WORKERS_AUTO_MAX, REPLAY_TRIES, REPLAY_SECONDS);
}

/* Parses "+HH:MM", "-HH:MM", "-05" or "-0500" into minutes east. */
static int
server_offset(const char *arg, long *minutes)
{
	int sign, hh, mm = 0, n = 0;

	if (*arg != '+' && *arg != '-')
		return -1;
	sign = *arg == '-' ? -1 : 1;
	if (sscanf(arg + 1, "%2d%n", &hh, &n) != 1 || n != 2 || hh > 14)
		return -1;
	arg += 3;
	if (*arg == ':')
		arg++;
	if (*arg != '\0' && (sscanf(arg, "%2d%n", &mm, &n) != 1 || n != 2 ||
	    mm > 59 || arg[2] != '\0'))
		return -1;
	*minutes = sign * (hh * 60 + mm);
	return 0;
}

static int
server_options(struct server *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen",		required_argument, NULL, 'l' },
		{ "workers",		required_argument, NULL, 'w' },
		{ "db",			required_argument, NULL, 'd' },
		{ "allow-anonymous",	no_argument,	   NULL, 'a' },
		{ "spool",		required_argument, NULL, 's' },
		{ "db-timeout",		required_argument, NULL, 't' },
		{ "replay",		no_argument,	   NULL, 'r' },
		{ "pidfile",		required_argument, NULL, 'p' },
		{ "utc-offset",		required_argument, NULL, 'u' },
		{ "quarantine-tries",	required_argument, NULL, 'T' },
		{ "quarantine-seconds",	required_argument, NULL, 'S' },
		{ "requeue",		no_argument,	   NULL, 'R' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	long n;
	int c;

	while ((c = getopt_long(argc, argv, "l:w:d:as:t:rp:u:T:S:Rh", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'l':
			s->listen = optarg;
			break;
		case 'w':
			if (strcmp(optarg, "auto") == 0) {
				s->workers = 0;
				break;
			}
			n = strtol(optarg, &end, 10);
			if (*end != '\0' || n < 1 || n > SERVER_WORKERS_MAX) {
				fprintf(stderr, "%s: --workers takes 1 to %d, "
				    "or auto\n", s->p->name,
				    SERVER_WORKERS_MAX);
				return -1;
			}
			s->workers = (int)n;
			break;
		case 'd':
			s->wopt.conninfo = optarg;
			break;
		case 'a':
			s->wopt.allow_anonymous = 1;
			break;
		case 's':
			s->wopt.spool_dir = optarg;
			break;
		case 't':
			n = strtol(optarg, &end, 10);
			if (*end != '\0' || n < 1 || n > SERVER_DB_TIMEOUT_MAX) {
				fprintf(stderr, "%s: --db-timeout takes 1 to %d "
				    "(milliseconds)\n", s->p->name,
				    SERVER_DB_TIMEOUT_MAX);
				return -1;
			}
			s->wopt.db_timeout_ms = (int)n;
			break;
		case 'r':
			s->replay_only = 1;
			break;
		case 'p':
			s->pidfile = optarg;
			break;
		case 'u':
			if (server_offset(optarg, &n) == -1) {
				fprintf(stderr, "%s: --utc-offset takes +HH:MM "
				    "or -HH:MM\n", s->p->name);
				return -1;
			}
			conv_set_local_offset((int)n);
			break;
		case 'T':
		case 'S':
			n = strtol(optarg, &end, 10);
			if (*end != '\0' || n < 1 || n > SERVER_QUARANTINE_MAX) {
				fprintf(stderr, "%s: --quarantine-%s takes 1 to "
				    "%d\n", s->p->name, c == 'T' ? "tries" :
				    "seconds", SERVER_QUARANTINE_MAX);
				return -1;
			}
			if (c == 'T')
				s->ropt.tries = (int)n;
			else
				s->ropt.seconds = (int)n;
			break;
		case 'R':
			s->requeue = 1;
			break;
		case 'h':
			server_usage(s->p, stdout);
			exit(0);
		default:
			server_usage(s->p, stderr);
			return -1;
		}
	}
	/* CGI programs get no arguments: a web server passes this one. */
	if (s->wopt.spool_dir == NULL)
		s->wopt.spool_dir = getenv("ESPHOOKS_SPOOL");
	if (optind != argc || ((s->replay_only || s->requeue) &&
	    !s->wopt.spool_dir) || (s->replay_only && s->requeue)) {
		server_usage(s->p, stderr);
		return -1;
	}
	/* Better refused at start than found out during an outage. */
	if (s->wopt.spool_dir && access(s->wopt.spool_dir, W_OK | X_OK) == -1) {
		fprintf(stderr, "%s: the spool directory '%s': %s\n",
		    s->p->name, s->wopt.spool_dir, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The replayer's own spool and database connection, in the master (or
 * the --replay process), which is otherwise idle.
 */
static void
server_replayer(struct server *s)
{
	if (s->wopt.spool_dir == NULL)
		return;
	s->spool = spool_new(s->wopt.spool_dir, s->p->name);
	s->store = store_new(s->p, s->wopt.conninfo, s->wopt.db_timeout_ms);
}

/* One replay step; 1 when there is more to do right away. */
static int
server_replay(struct server *s)
{
	return s->spool && replay_step(s->spool, s->store, &s->ropt) ==
	    REPLAY_MORE;
}

/* --requeue: the quarantine back into the spool, then exit. */
static int
server_requeue(struct server *s)
{
	struct spool *sp = spool_new(s->wopt.spool_dir, s->p->name);
	char err[512];
	int n;

	if ((n = spool_requeue(sp, err, sizeof err)) == -1)
		fprintf(stderr, "%s: %s\n", s->p->name, err);
	else
		printf("%s: %d quarantined records put back in '%s'\n",
		    s->p->name, n, s->wopt.spool_dir);
	spool_free(sp);
	return n == -1 ? 1 : 0;
}

/* --replay: replays the spool until SIGTERM. */
static int
server_replay_only(struct server *s)
{
	server_signal(SIGTERM, server_on_term);
	server_signal(SIGINT, server_on_term);
	server_replayer(s);
	while (!server_stopping)
		if (!server_replay(s))
			sleep(1);	/* SIGTERM cuts it short */
	return 0;
}

/* Answers one plain CGI request (RFC 3875) and returns. */
static int
server_cgi(struct server *s)
{
	struct request r = { NULL, { 0 }, BUF_INIT };
	struct webhook *w;

	if ((w = webhook_new(s->p, &s->wopt)) == NULL)
		return 1;
	request_begin(&r, NULL);
	webhook_handle(w, &r);
	request_release(&r);
	webhook_free(w);
	return 0;
}

/*
 * Where idle workers wait for a connection.  A blocking accept() wakes
 * the worker that has waited longest, so a light load goes round all of
 * them and their PostgreSQL backends, each cold (doc/design.md, and
 * p50 0.78 ms with one worker against 0.99 with eight).  An epoll with
 * EPOLLEXCLUSIVE on the listening socket wakes the first idle worker in
 * the order they registered instead: one warm worker serves a light
 * load, the others take the peaks.  Returns the epoll, or -1 to wait in
 * accept() as before (a kernel before Linux 4.5 refuses the flag).
 */
static int
server_queue(int fd)
{
	struct epoll_event ev;
	int ep;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1) {
		close(ep);
		return -1;
	}
	return ep;
}

/*
 * Waits in *ep (or, should it fail, in a poll() on fd), with the signal
 * mask unblocked (atomically, so a SIGTERM sent just before is not
 * missed), until a connection is pending.  Returns 0, or -1 when a
 * signal came first.  The listening socket does not block: should two
 * workers wake for one connection, the loser's accept() fails with
 * EAGAIN and it waits again.
 */
static int
server_turn(int *ep, int fd, const sigset_t *unblocked)
{
	struct epoll_event ev;
	struct pollfd pfd;

	if (*ep != -1) {
		if (epoll_pwait(*ep, &ev, 1, -1, unblocked) != -1)
			return 0;
		if (errno == EINTR)
			return -1;
		log_msg(NULL, "epoll_pwait: %s; waiting in poll instead",
		    strerror(errno));
		close(*ep);
		*ep = -1;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (ppoll(&pfd, 1, NULL, unblocked) == -1 && errno == EINTR)
		return -1;
	return 0;
}

/*
 * Ends the i-th request of a group, its answer sent.  libfcgi closes a
 * connection by shutting down its side and waiting until the server
 * closes the other (for TCP: a reset must not overtake the answer).
 * That wait is a round trip to nginx for every POST, which a group
 * made one after the other, so when the request was read to its end
 * (nothing unread can reset the connection) it is closed at once:
 * libfcgi's "detached" close.  The first slot keeps a usual body's
 * memory (request_begin() trims it); the others, used only by groups,
 * keep less.
 */
static void
server_finish(FCGX_Request *fr, struct request *r, size_t i)
{
	if (request_read_all(r))
		FCGX_Detach(fr);
	FCGX_Finish_r(fr);
	if (i > 0)
		buf_trim(&r->body, WEBHOOK_KEEP_GROUPED);
}

/*
 * A worker's loop.  Once woken, it takes every connection that waits
 * at that moment, up to a group (webhook_room()): their events go to
 * the database in one transaction, so under load many POSTs share a
 * commit where each used to pay for its own (doc/design.md).  A
 * lone POST is stored as before, with no wait for company.  SIGTERM is
 * blocked except while waiting for a connection, so reads and writes
 * are never cut short; the requests in hand are answered, then the
 * loop ends.
 */
static int
server_worker(struct server *s)
{
	/* fr[i] and r[i] hold the i-th request waiting in w. */
	FCGX_Request fr[WEBHOOK_GROUP_MAX];
	struct request r[WEBHOOK_GROUP_MAX];
	struct webhook *w;
	sigset_t term, old;
	int ep = -1, rc;
	size_t i, n;

	server_signal(SIGTERM, server_on_term);
	server_signal(SIGINT, server_on_term);
	server_signal(SIGCHLD, SIG_DFL);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_BLOCK, &term, &old);

	memset(r, 0, sizeof r);		/* each body BUF_INIT */
	/* Nothing to free on failure: libfcgi allocates at accept. */
	for (i = 0; i < WEBHOOK_GROUP_MAX; i++)
		if (FCGX_InitRequest(&fr[i], s->fd,
		    FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
			log_msg(NULL, "unable to initialise a FastCGI request");
			return 1;
		}
	if ((w = webhook_new(s->p, &s->wopt)) == NULL)
		return 1;
	webhook_warm(w);
	ep = server_queue(s->fd);
	while (!server_stopping) {
		if (server_turn(&ep, s->fd, &old) == -1)
			continue;
		rc = 0;
		n = 0;
		while (webhook_room(w) && (rc = FCGX_Accept_r(&fr[n])) == 0) {
			request_begin(&r[n], &fr[n]);
			if (webhook_take(w, &r[n]))
				n++;
			else
				server_finish(&fr[n], &r[n], n);
		}
		if (n > 0)
			webhook_commit(w);
		for (i = 0; i < n; i++)
			server_finish(&fr[i], &r[i], i);
		/* EAGAIN: no more connections waiting (or another took it). */
		if (rc < 0 && rc != -EAGAIN && rc != -EINTR) {
			if (!server_stopping)
				log_msg(NULL, "unable to accept a FastCGI "
				    "request: %s", strerror(-rc));
			break;
		}
	}
	for (i = 0; i < WEBHOOK_GROUP_MAX; i++) {
		FCGX_Free(&fr[i], 0);
		request_release(&r[i]);
	}
	if (ep != -1)
		close(ep);
	webhook_free(w);
	return 0;
}

static pid_t
server_spawn(struct server *s, int slot)
{
	pid_t pid, master = getpid();

	if ((pid = fork()) == -1) {
		log_msg(NULL, "unable to fork a worker: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/*
		 * A master killed with SIGKILL cannot stop its workers, which
		 * would go on serving a socket nobody supervises: have the
		 * kernel send SIGTERM when the master dies (and check it is
		 * not already gone).
		 */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != master)
			_exit(0);
		/*
		 * The master's replay connection is left alone: freeing it
		 * here would end the master's session on the server.
		 */
		free(s->pids);
		free(s->started);
		_exit(server_worker(s));
	}
	s->pids[slot] = pid;
	s->started[slot] = time(NULL);
	return pid;
}

/* Waits up to SERVER_STOP_GRACE seconds for the workers, then kills. */
static void
server_stop_workers(struct server *s)
{
	time_t deadline = time(NULL) + SERVER_STOP_GRACE;
	int i, left, status;
	pid_t pid;

	for (i = 0; i < s->workers; i++)
		if (s->pids[i] > 0)
			kill(s->pids[i], SIGTERM);
	for (;;) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (i = 0; i < s->workers; i++)
				if (s->pids[i] == pid)
					s->pids[i] = 0;
		for (left = 0, i = 0; i < s->workers; i++)
			left += s->pids[i] > 0;
		if (left == 0)
			return;
		if (time(NULL) >= deadline)
			break;
		usleep(50 * 1000);
	}
	for (i = 0; i < s->workers; i++)
		if (s->pids[i] > 0) {
			log_msg(NULL, "worker %ld did not stop, killing it",
			    (long)s->pids[i]);
			kill(s->pids[i], SIGKILL);
			waitpid(s->pids[i], NULL, 0);
		}
}

/* "--workers auto": the CPUs this process may run on, clamped. */
static int
server_workers_auto(void)
{
	cpu_set_t set;
	long n = 0;

	if (sched_getaffinity(0, sizeof set, &set) == 0)
		n = CPU_COUNT(&set);
	if (n < 1)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < SERVER_WORKERS_AUTO_MIN)
		n = SERVER_WORKERS_AUTO_MIN;
	if (n > SERVER_WORKERS_AUTO_MAX)
		n = SERVER_WORKERS_AUTO_MAX;
	return (int)n;
}

/* The master: keeps s->workers workers alive until SIGTERM. */
static int
server_master(struct server *s)
{
	int i, status;
	pid_t pid;

	if (s->workers == 0)
		s->workers = server_workers_auto();
	log_msg(NULL, "serving with %d workers", s->workers);
	s->pids = calloc((size_t)s->workers, sizeof *s->pids);
	s->started = calloc((size_t)s->workers, sizeof *s->started);
	if (s->pids == NULL || s->started == NULL) {
		log_msg(NULL, "out of memory");
		return 1;
	}
	server_signal(SIGTERM, server_on_term);
	server_signal(SIGINT, server_on_term);
	server_signal(SIGCHLD, server_on_child);
	for (i = 0; i < s->workers; i++)
		server_spawn(s, i);
	while (!server_stopping) {
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = 0; i < s->workers; i++)
				if (s->pids[i] == pid)
					break;
			if (i == s->workers)
				continue;
			s->pids[i] = 0;
			if (server_stopping)
				break;
			if (WIFSIGNALED(status))
				log_msg(NULL, "worker %ld killed by signal %d",
				    (long)pid, WTERMSIG(status));
			else
				log_msg(NULL, "worker %ld exited with %d",
				    (long)pid, WEXITSTATUS(status));
			if (time(NULL) - s->started[i] < SERVER_RESPAWN_PAUSE)
				sleep(SERVER_RESPAWN_PAUSE);
		}
		for (i = 0; i < s->workers && !server_stopping; i++)
			if (s->pids[i] == 0)
				server_spawn(s, i);
		if (!server_stopping && !server_replay(s))
			sleep(1);	/* SIGCHLD and SIGTERM cut it short */
	}
	server_stop_workers(s);
	free(s->pids);
	free(s->started);
	return 0;
}

static int
server_write_pidfile(const char *path)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL) {
		log_msg(NULL, "unable to write '%s': %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) == 0 ? 0 : -1;
}

int
server_main(int argc, char **argv, const struct provider *p)
{
	struct server s;
	int rc;

	memset(&s, 0, sizeof s);
	s.p = p;
	s.workers = 0;			/* --workers auto */
	log_init(p->name);
	conv_set_local_offset(p->local_offset_min);
	if (server_options(&s, argc, argv) == -1)
		return 2;
	if (s.requeue)
		return server_requeue(&s);
	if (s.replay_only) {
		rc = server_replay_only(&s);
		goto out;
	}
	/* A provider that hangs up must not kill the worker answering it. */
	signal(SIGPIPE, SIG_IGN);
	if (FCGX_Init() != 0) {
		log_msg(NULL, "unable to initialise libfcgi");
		return 1;
	}
	if (s.listen) {
		/* Group-writable, so a web server in our group can connect. */
		mode_t old = umask(007);
		s.fd = FCGX_OpenSocket(s.listen, SERVER_BACKLOG);
		umask(old);
		if (s.fd < 0) {
			log_msg(NULL, "unable to listen on '%s'", s.listen);
			return 1;
		}
	} else if (!FCGX_IsCGI())
		s.fd = 0;
	else
		return server_cgi(&s);
	/*
	 * Workers wait in epoll or poll, never in accept(), and take the
	 * connections pending until there are none (server_worker()).
	 */
	if ((rc = fcntl(s.fd, F_GETFL)) == -1 ||
	    fcntl(s.fd, F_SETFL, rc | O_NONBLOCK) == -1) {
		log_msg(NULL, "unable to make the listening socket "
		    "non-blocking: %s", strerror(errno));
		return 1;
	}
	if (s.pidfile && server_write_pidfile(s.pidfile) == -1)
		return 1;
	server_replayer(&s);
	rc = server_master(&s);
	if (s.listen && s.listen[0] == '/')
		unlink(s.listen);
	if (s.pidfile)
		unlink(s.pidfile);
out:
	spool_free(s.spool);
	store_free(s.store);
	return rc;
}
