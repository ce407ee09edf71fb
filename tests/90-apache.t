#!/usr/bin/env bash
# 90-apache.t - the configs of deploy/apache/ in a real Apache 2.4, on
# 127.0.0.1:$ESPHOOKS_PORT+1 (or ESPHOOKS_APACHE_PORT) with everything
# of its own under $ESPHOOKS_VAR/apache: the FastCGI one (mod_proxy_fcgi
# to the stack's sockets) and the CGI one (mod_cgi running cgi-bin/*), as
# two name-based virtual hosts.  Each gets the checks 20-http.t makes
# through nginx: store, a retry counted as duplicates, 401, 405, 400 and
# 413, on every endpoint.  Apache is stopped by its pid at the end.
. "$(dirname "$0")/lib.sh"

apache=$(command -v apache2 || true)
modules=/usr/lib/apache2/modules
if [ -z "$apache" ] || [ ! -e "$modules/mod_proxy_fcgi.so" ]; then
	echo "1..0 # SKIP apache2 is not installed (make test installs it)"
	exit 0
fi

port=${ESPHOOKS_APACHE_PORT:-$((ESPHOOKS_PORT + 1))}
dir=$ESPHOOKS_VAR/apache
limit=16777216
mkdir -p "$dir/run"

# Apache takes apr1, bcrypt and {SHA}, not nginx's {SSHA}: a file of its
# own, with two users as during a credential change (doc/install.md).
user2=rotated
pass2=second-secret-$RANDOM
{
	printf '%s:%s\n' "${auth%%:*}" "$(openssl passwd -apr1 "${auth#*:}")"
	printf '%s:{SHA}%s\n' "$user2" \
	    "$(printf '%s' "$pass2" | openssl dgst -sha1 -binary | openssl base64 -A)"
} >"$dir/htpasswd"
# An {SSHA} line as nginx's is refused (checked below).
sed -n 1p "$ESPHOOKS_VAR/htpasswd" | sed 's/^[^:]*:/ssha:/' >>"$dir/htpasswd"

user_lines=
if [ "$(id -u)" = 0 ]; then
	# Apache's workers run as the stack's user: they must connect to
	# the sockets (mode 0770) and, as CGI, reach PostgreSQL's socket
	# and the spool.
	user_lines="User esphooks
Group esphooks"
	chown -R esphooks: "$dir"
fi

fill() {
	sed -e "s|@HTPASSWD@|$dir/htpasswd|g" -e "s|@RUNDIR@|$ESPHOOKS_VAR/run|g" \
	    -e "s|@LIBEXECDIR@|$top/cgi-bin|g" -e "s|@CGI_SPOOL@|$ESPHOOKS_VAR/spool|g" \
	    -e "s|@PGHOST@|$PGHOST|g" -e "s|@PGPORT@|$PGPORT|g" "$1"
}
fill "$top/deploy/apache/esphooks-fcgi.conf.in" >"$dir/esphooks-fcgi.conf"
fill "$top/deploy/apache/esphooks-cgi.conf.in" >"$dir/esphooks-cgi.conf"

cat >"$dir/httpd.conf" <<CONF
ServerRoot "$dir"
$(apache_modules)
$user_lines
Listen 127.0.0.1:$port
ServerName localhost
PidFile "$dir/run/httpd.pid"
DefaultRuntimeDir "$dir/run"
ErrorLog "$ESPHOOKS_VAR/log/apache-error.log"
LogLevel warn
StartServers 2
MaxRequestWorkers 16

<Directory />
	Require all denied
	AllowOverride None
</Directory>

<VirtualHost 127.0.0.1:$port>
	ServerName fcgi.test
	Include "$dir/esphooks-fcgi.conf"
</VirtualHost>

<VirtualHost 127.0.0.1:$port>
	ServerName cgi.test
	Include "$dir/esphooks-cgi.conf"
</VirtualHost>
CONF

out=$("$apache" -d "$dir" -f "$dir/httpd.conf" -t 2>&1)
rc=$?
ok $rc "Apache takes the configuration"
[ $rc -eq 0 ] || printf '# %s\n' "$out"

# In the foreground, in the background: $! is Apache's parent.  setsid:
# at its stop Apache (prefork) signals its whole process group, which
# must not be this test's.
setsid "$apache" -d "$dir" -f "$dir/httpd.conf" -DFOREGROUND </dev/null \
    >>"$ESPHOOKS_VAR/log/apache-error.log" 2>&1 &
apache_pid=$!
# stop_apache: SIGTERM, then SIGKILL after 10 s; returns 1 if it took
# SIGKILL.  Apache is this shell's child: running(), not kill -0, sees
# it gone before wait reaps it.
stop_apache() {
	local i
	kill -TERM "$apache_pid" 2>/dev/null || return 0
	for i in $(seq 100); do
		running "$apache_pid" || break
		sleep 0.1
	done
	if running "$apache_pid"; then
		kill -KILL "$apache_pid" 2>/dev/null
		wait "$apache_pid" 2>/dev/null
		return 1
	fi
	wait "$apache_pid" 2>/dev/null
	return 0
}
trap 'stop_apache; rm -rf "$scratch"' EXIT

base=http://127.0.0.1:$port
wait_for 100 curl -s -o /dev/null "$base/"

reset_db
for vhost in fcgi.test cgi.test; do
	via=${vhost%.test}
	for path in /webhooks/mailjet /mailjet_triggers /webhooks/sendpulse \
	    /webhooks/aldeamo; do
		case $path in
		*mailjet*) provider=mailjet ;;
		*) provider=${path##*/} ;;
		esac
		t="$via $path"
		h=(-H "Host: $vhost")
		ev="{\"event\":\"open\",\"time\":1700000000,\"email\":\"u@$RANDOM.example\",\"recipient\":\"r@example.com\",\"path\":\"$path\",\"via\":\"$via\"}"

		post_string "$path" "$ev" "${h[@]}"
		is "$status" 200 "$t: one event, 200"
		is "$body" '{"received":1,"stored":1,"duplicates":0}' "$t: counts"
		like "$headers" "Content-Type: application/json" "$t: JSON answer"
		is "$(sql "SELECT provider FROM email_events WHERE raw->>'path' = '$path' AND raw->>'via' = '$via'")" \
		    "$provider" "$t: stored by the $provider program"
		is "$(sql "SELECT remote_user FROM webhook_request ORDER BY id DESC LIMIT 1")" \
		    "${auth%%:*}" "$t: REMOTE_USER reached the program"

		post_string "$path" "$ev" "${h[@]}"
		is "$status/$body" '200/{"received":1,"stored":0,"duplicates":1}' \
		    "$t: a retry is a duplicate"

		post_string "$path" '[{"event":"open"},1]' "${h[@]}"
		is "$status" 400 "$t: a batch with a number in it is 400"
		like "$body" 'element 1 at byte' "$t: the error names the element"

		request POST "$path" -d '{}' "${h[@]}"
		is "$status" 401 "$t: no credentials, 401"
		like "$headers" 'WWW-Authenticate: Basic' "$t: 401 asks for Basic auth"
		like "$body" '"error":' "$t: 401 answer is JSON"
		request POST "$path" -d '{}' -u "$auth-wrong" "${h[@]}"
		is "$status" 401 "$t: wrong password, 401"

		for m in GET PUT DELETE; do
			request "$m" "$path" -u "$auth" "${h[@]}"
			is "$status" 405 "$t: $m is 405"
			like "$headers" 'Allow: POST' "$t: $m answer says Allow: POST"
		done
	done

	# Both users of the file are let in; nginx's {SSHA} is not.
	request POST /webhooks/sendpulse -u "$user2:$pass2" -d "{\"event\":\"user2\",\"via\":\"user2-$via\"}" "${h[@]}"
	is "$status" 200 "$via: the second user ({SHA}) is let in"
	request POST /webhooks/sendpulse -u "ssha:${auth#*:}" -d '{}' "${h[@]}"
	is "$status" 401 "$via: an {SSHA} line is refused by Apache"

	# The body limit: at the limit taken, one byte past it 413.
	head -c $((limit - 17)) /dev/zero | tr '\0' ' ' >"$scratch/big"
	printf '{"event":"big"}\n ' >>"$scratch/big"
	post /webhooks/mailjet "$scratch/big" "${h[@]}"
	is "$status" 200 "$via: a body of exactly $limit bytes is taken"
	printf ' ' >>"$scratch/big"
	post /webhooks/mailjet "$scratch/big" "${h[@]}"
	is "$status" 413 "$via: a body of $((limit + 1)) bytes is 413"
	like "$body" '"error":' "$via: 413 answer is JSON"
done

is "$(sql "SELECT count(*) FROM email_events WHERE raw->>'via' IN ('fcgi', 'cgi')")" 8 \
    "each event stored once, four paths by two ways"

stop_apache
ok $? "Apache stopped on SIGTERM"
left=0
for p in /proc/[0-9]*; do
	[ "$(readlink "$p/exe" 2>/dev/null)" = "$(readlink -f "$apache")" ] &&
	    grep -qF "$dir/httpd.conf" "$p/cmdline" 2>/dev/null && left=$((left + 1))
done
is "$left" 0 "none of its children left"

done_testing
