#!/usr/bin/env bash
# 95-install.t - 'make install DESTDIR=... PREFIX=/usr/local': every file
# where doc/install.md says, no @...@ left in what was filled in, the
# programs run, nginx and Apache take the snippets, the units pass
# 'systemd-analyze verify' (when systemd-analyze is there), and the
# unit's ExecStart, run by hand the way systemd would (the socket unit's
# listening socket on standard input), serves the stack's nginx.
# 'make uninstall' then removes what install put there but the settings.
. "$(dirname "$0")/lib.sh"

root=$scratch/root
prefix=/usr/local
make -s -C "$top" install DESTDIR="$root" PREFIX="$prefix" >"$scratch/install.out" 2>&1
rc=$?
ok $rc "make install DESTDIR=... PREFIX=$prefix"
[ $rc -eq 0 ] || sed 's/^/# /' "$scratch/install.out"

for f in \
    $prefix/libexec/esphooks/mailjet \
    $prefix/libexec/esphooks/sendpulse \
    $prefix/libexec/esphooks/aldeamo \
    $prefix/share/esphooks/sql/001_core.sql \
    $prefix/share/esphooks/sql/migrate.sh \
    $prefix/share/esphooks/nginx/locations.conf \
    $prefix/share/esphooks/apache/esphooks-fcgi.conf \
    $prefix/share/esphooks/apache/esphooks-cgi.conf \
    $prefix/share/esphooks/esphooks.conf.example \
    $prefix/share/doc/esphooks/README.md \
    $prefix/lib/systemd/system/esphooks@.socket \
    $prefix/lib/systemd/system/esphooks@.service \
    $prefix/lib/systemd/system/esphooks-replay@.service \
    $prefix/lib/sysusers.d/esphooks.conf \
    /etc/esphooks/esphooks.conf; do
	[ -s "$root$f" ]
	ok $? "installed: $f"
done
for p in mailjet sendpulse aldeamo; do
	[ -x "$root$prefix/libexec/esphooks/$p" ] &&
	    "$root$prefix/libexec/esphooks/$p" --help | grep -q "^usage: $p "
	ok $? "$p installed runs (--help)"
done
[ -x "$root$prefix/share/esphooks/sql/migrate.sh" ]
ok $? "migrate.sh installed executable"
is "$(ls "$root$prefix/share/esphooks/sql" | grep -c '\.sql$')" \
    "$(ls "$top/sql" | grep -c '\.sql$')" "every migration installed"
is "$(grep -rlI '@[A-Z_]*@' "$root" | sed "s|^$root||")" "" \
    "nothing left to fill in"
like "$(cat "$root$prefix/share/esphooks/nginx/locations.conf")" \
    'fastcgi_pass unix:/run/esphooks/$esphooks_provider.sock;' \
    "the nginx snippet names the installed sockets"
like "$(cat "$root$prefix/share/esphooks/nginx/locations.conf")" \
    'auth_basic_user_file /etc/esphooks/htpasswd;' "... and the htpasswd file"

# The installed migrate.sh builds a new database from nothing, by the PG*
# variables alone, and a second run has nothing to do.
db=esphooks_install_$$
sql "CREATE DATABASE $db" >/dev/null
out=$(PGDATABASE=$db "$root$prefix/share/esphooks/sql/migrate.sh" 2>&1)
ok $? "installed migrate.sh against PGDATABASE=$db"
is "$(printf '%s\n' "$out" | grep -c '^applied ')" \
    "$(ls "$top/sql" | grep -c '\.sql$')" "... applies every migration"
is "$(PGDATABASE=$db "$root$prefix/share/esphooks/sql/migrate.sh" 2>&1)" "" \
    "... and a second run nothing"
is "$(PGDATABASE=$db sql "SELECT count(*) FROM email_events")" 0 \
    "... the view is there"
sql "DROP DATABASE $db" >/dev/null

# An installed settings file is not overwritten by the next install.
echo '# mine' >>"$root/etc/esphooks/esphooks.conf"
make -s -C "$top" install DESTDIR="$root" PREFIX="$prefix" >/dev/null 2>&1
like "$(tail -n 1 "$root/etc/esphooks/esphooks.conf")" '# mine' \
    "a second install keeps /etc/esphooks/esphooks.conf"

# nginx takes the snippet in a server {} (the two lines of doc/install.md).
mkdir -p "$scratch/nginx"
cat >"$scratch/nginx/nginx.conf" <<CONF
pid $scratch/nginx/nginx.pid;
events {}
http {
	server {
		listen 127.0.0.1:1;
		include $root$prefix/share/esphooks/nginx/locations.conf;
	}
}
CONF
out=$(nginx -p "$scratch/nginx" -c "$scratch/nginx/nginx.conf" -e "$scratch/nginx/error.log" -t 2>&1)
rc=$?
ok $rc "nginx takes the installed snippet"
[ $rc -eq 0 ] || printf '# %s\n' "$out"

# Apache takes each of its two, in a <VirtualHost>.
if command -v apache2 >/dev/null; then
	for v in fcgi cgi; do
		mkdir -p "$scratch/apache-$v"
		cat >"$scratch/apache-$v/httpd.conf" <<-CONF
		ServerRoot "$scratch/apache-$v"
		$(apache_modules)
		Listen 127.0.0.1:1
		ServerName localhost
		PidFile "$scratch/apache-$v/httpd.pid"
		ErrorLog "$scratch/apache-$v/error.log"
		<VirtualHost 127.0.0.1:1>
			Include "$root$prefix/share/esphooks/apache/esphooks-$v.conf"
		</VirtualHost>
		CONF
		out=$(apache2 -d "$scratch/apache-$v" -f "$scratch/apache-$v/httpd.conf" -t 2>&1)
		rc=$?
		ok $rc "Apache takes the installed esphooks-$v.conf"
		[ $rc -eq 0 ] || printf '# %s\n' "$out"
	done
fi

# systemd-analyze checks the units as systemd would load them; it also
# wants ExecStart's program to exist, so it is shown the DESTDIR one.
units=$root$prefix/lib/systemd/system
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$scratch/units"
	for u in "$units"/*; do
		sed "s|^ExecStart=$prefix|ExecStart=$root$prefix|" "$u" >"$scratch/units/${u##*/}"
	done
	out=$(cd "$scratch/units" && systemd-analyze verify --man=no \
	    esphooks@mailjet.socket esphooks@mailjet.service \
	    esphooks-replay@aldeamo.service 2>&1)
	rc=$?
	[ $rc -eq 0 ] && [ -z "$out" ]
	ok $? "systemd-analyze verify: the units, no complaint"
	[ -z "$out" ] || printf '# %s\n' "$out"
else
	echo "# systemd-analyze is not installed: units not verified"
fi
like "$(cat "$units/esphooks@.socket")" 'SocketGroup=www-data' \
    "the socket belongs to the web server's group"

# ExecStart by hand, as systemd runs it for esphooks@mailjet: the unit's
# Environment= defaults, the listening socket (made here as the socket
# unit would make it) on standard input, the unit's user.  In place of
# the stack's own mailjet program, so the stack's nginx is the client.
unit_env=$(sed -n 's/^Environment=//p' "$units/esphooks@.service" | tr ' ' '\n' |
    sed 's/%i/mailjet/g')
exec_start=$(sed -n 's/^ExecStart=//p' "$units/esphooks@.service")
like "$unit_env" 'PGUSER=esphooks_writer' "the unit connects as esphooks_writer"
cmd=$(printf '%s' "$exec_start" | sed -e 's/%i/mailjet/g' \
    -e "s|^$prefix|$root$prefix|" -e 's/\${ESPHOOKS_WORKERS}/2/' \
    -e 's/\${ESPHOOKS_DB_TIMEOUT}/5000/' \
    -e "s|\${ESPHOOKS_SPOOL}|$ESPHOOKS_VAR/spool|" -e 's/\$ESPHOOKS_ARGS//')
echo "# ExecStart by hand: $cmd"

sock=$ESPHOOKS_VAR/run/mailjet.sock
old=$(cat "$ESPHOOKS_VAR/run/mailjet.pid")
kill -TERM "$old"
wait_for 100 stopped "$old"
rm -f "$sock"
runas=()
if [ "$(id -u)" = 0 ]; then
	runas=(setpriv --reuid=esphooks --regid=esphooks --init-groups)
fi
# shellcheck disable=SC2086
env -i PATH="$PATH" $unit_env PGHOST="$PGHOST" PGPORT="$PGPORT" \
    perl -MIO::Socket::UNIX -MPOSIX=dup2 -e '
	my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => shift,
	    Listen => 1024) or die "listen: $!";
	chmod 0660, $s->hostpath;
	if ($> == 0) { my @pw = getpwnam("esphooks"); chown $pw[2], $pw[3], $s->hostpath }
	dup2(fileno($s), 0) or die "dup2: $!";
	exec @ARGV or die "exec: $!";' "$sock" "${runas[@]}" $cmd \
    >>"$ESPHOOKS_VAR/log/mailjet.log" 2>&1 &
unit_pid=$!
sleep 0.5
post_string /webhooks/mailjet '{"event":"open","via":"unit"}'
is "$status/$body" '200/{"received":1,"stored":1,"duplicates":0}' \
    "the unit's ExecStart serves the socket it is given"
is "$(sql "SELECT usename FROM pg_stat_activity WHERE application_name = 'esphooks-mailjet' LIMIT 1")" \
    esphooks_writer "... connected as esphooks_writer"
kill -TERM "$unit_pid"
wait_for 100 stopped "$unit_pid"
wait "$unit_pid"
is "$?" 0 "... and exits 0 on SIGTERM"
rm -f "$sock"
"$top/deploy/stack.sh" up >/dev/null
post_string /webhooks/mailjet '{"event":"open","via":"stack-again"}'
is "$status" 200 "the stack's own program serves again"

make -s -C "$top" uninstall DESTDIR="$root" PREFIX="$prefix" >/dev/null 2>&1
ok $? "make uninstall"
is "$(cd "$root" && find . -type f | sort)" "./etc/esphooks/esphooks.conf" \
    "only the settings are left"

done_testing
