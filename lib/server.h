/*
 * server.h - a provider program's main(): CGI, or FastCGI with workers.
 *
 *   <provider> [--listen PATH] [--workers N|auto] [--db CONNINFO]
 *              [--allow-anonymous] [--pidfile FILE] [--utc-offset +HH:MM]
 *
 * With --listen, the program makes the unix socket PATH (or host:port)
 * and stays in the foreground as a master that forks N workers (by
 * default one per CPU, 2 to 8), replaces any that dies, and on SIGTERM
 * lets each finish the requests in hand before all exit 0.  A worker
 * takes in every request waiting when it wakes, and stores their events
 * in one transaction.  Without --listen, a listening socket on standard
 * input (spawn-fcgi, systemd's StandardInput=socket) is served the same
 * way; otherwise the program answers one plain CGI request.
 */
#ifndef ESPHOOKS_SERVER_H
#define ESPHOOKS_SERVER_H

struct provider;

int	server_main(int argc, char **argv, const struct provider *);

#endif
