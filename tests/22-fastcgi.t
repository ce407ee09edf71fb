#!/usr/bin/env bash
# 22-fastcgi.t - the FastCGI connection itself, straight to a program's
# socket (tests/bin/fcgi): a request read to its end is closed as soon
# as it is answered, without libfcgi's lingering close that waited for
# the web server to close first (a round trip to nginx for every POST);
# a request answered before its body was read keeps the lingering close,
# so that nothing left unread can cut its answer short.
. "$(dirname "$0")/lib.sh"

reset_db
sock=$ESPHOOKS_VAR/run/mailjet.sock
fcgi() { "$top/tests/bin/fcgi" "$sock" "$@"; }

printf '{"event":"open","time":1700000000,"email":"fcgi@example.com","MessageID":1}' \
    >"$scratch/one"
out=$(fcgi POST "$scratch/one")
like "$out" 'Status: 200' "a POST straight to the socket: 200"
like "$out" '{"received":1,"stored":1,"duplicates":0}' "its event stored"
like "$out" 'end-request: 0' "FCGI_END_REQUEST: request complete"
like "$out" 'after-eof: closed' \
    "read to its end, the connection is closed, not left lingering"
is "$(sql "SELECT count(*) FROM mailjet WHERE recipient = 'fcgi@example.com'")" 1 \
    "the event is in the table"

# No CONTENT_LENGTH: the body is read until stdin ends.
printf '{"event":"open","time":1700000000,"email":"fcgi2@example.com","MessageID":2}' \
    >"$scratch/two"
out=$(fcgi POST "$scratch/two" CONTENT_LENGTH=)
like "$out" '{"received":1,"stored":1,"duplicates":0}' \
    "without CONTENT_LENGTH: stored"
like "$out" 'after-eof: closed' "and closed at once too"

# Answered 405 before the body is read: the body stays unread, so the
# program shuts its side down and reads until the server closes.
out=$(fcgi GET "$scratch/one")
like "$out" 'Status: 405' "a GET with a body: 405"
like "$out" '{"error":"method not allowed, use POST"}' "its whole answer arrives"
like "$out" 'after-eof: open' "body unread: the lingering close is kept"

done_testing
