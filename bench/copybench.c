/*
 * copybench.c - the COPY ceiling of bench/run: CONNS connections, each
 * sending batches of ROWS new SendPulse-shaped rows with COPY FROM STDIN
 * into TABLE, one transaction (and so one durable commit) per batch, for
 * SECONDS.  The rows are those the program would insert for the same
 * 1000-event POST (the typed columns and the raw event), so the table's
 * generated dedup_key and its unique index cost the same.
 *
 *   copybench TABLE TAG CONNS SECONDS ROWS
 *
 * Connects with libpq's environment (PGHOST, PGPORT, PGDATABASE, ...).
 * Prints one line in the format of bench/post.lua's:
 *   BENCH sent=.. ok=.. other=.. events_ok=.. ... p50_us=.. p99_us=..
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define MAX_CONNS	64
#define MAX_LAT		(1 << 20)

struct worker {
	pthread_t	 th;
	int		 id;
	long		 ok, failed;
	long		*lat;		/* microseconds, one per batch */
	long		 nlat;
};

static const char *table, *tag;
static int rows;
static struct timespec deadline;

static double
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int
past_deadline(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec > deadline.tv_sec ||
	    (t.tv_sec == deadline.tv_sec && t.tv_nsec >= deadline.tv_nsec);
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	char sql[512], *buf, *p;
	size_t cap = (size_t)rows * 512;
	PGconn *c;
	PGresult *res;
	long n = 0;
	int i, good;
	double t0;

	if ((buf = malloc(cap)) == NULL)
		return NULL;
	c = PQconnectdb("");
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "copybench: %s", PQerrorMessage(c));
		PQfinish(c);
		free(buf);
		return NULL;
	}
	snprintf(sql, sizeof sql, "COPY %s (request, received_at, "
	    "provider_event, event, occurred_at, recipient, message_id, "
	    "sender, subject, raw) FROM STDIN", table);
	while (!past_deadline()) {
		n++;
		p = buf;
		for (i = 1; i <= rows; i++) {
			long long id = ((long long)w->id * 1000000000 + n) *
			    10000 + i;
			char rcpt[128];

			snprintf(rcpt, sizeof rcpt, "%s-%d-%ld-%d@bench.test",
			    tag, w->id, n, i);
			p += sprintf(p, "1\t2026-01-01 00:00:00+00\topened\t"
			    "open\t2023-11-14 22:13:20+00\t%s\t%lld\t"
			    "john.doe@sendpulse.com\tutf8_hello_world\t"
			    "{\"event\":\"opened\",\"timestamp\":1700000000,"
			    "\"message_id\":%lld,\"recipient\":\"%s\","
			    "\"sender\":\"john.doe@sendpulse.com\","
			    "\"subject\":\"utf8_hello_world\"}\n",
			    rcpt, id, id, rcpt);
		}
		t0 = now_us();
		good = 0;
		res = PQexec(c, sql);
		if (PQresultStatus(res) == PGRES_COPY_IN) {
			PQclear(res);
			if (PQputCopyData(c, buf, (int)(p - buf)) == 1 &&
			    PQputCopyEnd(c, NULL) == 1) {
				res = PQgetResult(c);
				good = PQresultStatus(res) == PGRES_COMMAND_OK;
			} else
				res = NULL;
		}
		if (!good)
			fprintf(stderr, "copybench: %s", PQerrorMessage(c));
		PQclear(res);
		while ((res = PQgetResult(c)) != NULL)
			PQclear(res);
		if (good) {
			w->ok++;
			if (w->nlat < MAX_LAT)
				w->lat[w->nlat++] = (long)(now_us() - t0);
		} else
			w->failed++;
	}
	PQfinish(c);
	free(buf);
	return NULL;
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	struct worker w[MAX_CONNS];
	int conns, seconds, i;
	long ok = 0, failed = 0, nlat = 0, *all;
	double t0, elapsed;

	if (argc != 6) {
		fprintf(stderr, "usage: copybench TABLE TAG CONNS SECONDS ROWS\n");
		return 2;
	}
	table = argv[1];
	tag = argv[2];
	conns = atoi(argv[3]);
	seconds = atoi(argv[4]);
	rows = atoi(argv[5]);
	if (conns < 1 || conns > MAX_CONNS || seconds < 1 || rows < 1) {
		fprintf(stderr, "copybench: bad arguments\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += seconds;
	t0 = now_us();
	for (i = 0; i < conns; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].id = i + 1;
		w[i].lat = malloc(MAX_LAT * sizeof(long));
		pthread_create(&w[i].th, NULL, run, &w[i]);
	}
	for (i = 0; i < conns; i++)
		pthread_join(w[i].th, NULL);
	elapsed = now_us() - t0;
	all = malloc((size_t)conns * MAX_LAT * sizeof(long));
	for (i = 0; i < conns; i++) {
		ok += w[i].ok;
		failed += w[i].failed;
		memcpy(all + nlat, w[i].lat, w[i].nlat * sizeof(long));
		nlat += w[i].nlat;
		free(w[i].lat);
	}
	qsort(all, nlat, sizeof(long), cmp_long);
	printf("BENCH sent=%ld ok=%ld other=%ld events_ok=%ld stored=%ld "
	    "duplicates=0 spooled=0 requests=%ld errors=%ld duration_us=%.0f "
	    "p50_us=%ld p99_us=%ld max_us=%ld\n",
	    ok + failed, ok, failed, ok * rows, ok * rows, ok + failed, failed,
	    elapsed, nlat ? all[nlat / 2] : 0,
	    nlat ? all[(nlat * 99) / 100] : 0, nlat ? all[nlat - 1] : 0);
	free(all);
	return failed ? 1 : 0;
}
