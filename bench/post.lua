-- bench/post.lua - wrk script for bench/run: every POST carries events
-- that were never sent before (the programs deduplicate identical
-- events, so a repeated body would measure the duplicate path), and the
-- answers are counted so that bench/run can check the database after.
--
-- Environment:
--   BENCH_PROVIDER  mailjet | sendpulse | aldeamo: the shape of an event
--   BENCH_TAG       unique per scenario; events' recipients are
--                   TAG-<thread>-<n>-<i>@bench.test
--   BENCH_BATCH     0: one event as a JSON object; N: an array of N
--   BENCH_AUTH      the value of the Authorization header
--   BENCH_METHOD    POST, or GET: no body, which the programs answer
--                   405 before any database work (bench/run's floor of
--                   the path through nginx to a program)
--   BENCH_STATUS    the status counted as ok: 200, 405 for that GET
--
-- At the end prints one line that bench/run parses:
--   BENCH sent=.. ok=.. other=.. events_ok=.. stored=.. duplicates=..
--         spooled=.. requests=.. errors=.. duration_us=.. p50_us=..
--         p99_us=.. max_us=..

local provider = os.getenv("BENCH_PROVIDER") or "sendpulse"
local tag = os.getenv("BENCH_TAG") or "bench"
local batch = tonumber(os.getenv("BENCH_BATCH") or "0")
local auth = os.getenv("BENCH_AUTH") or ""
local method = os.getenv("BENCH_METHOD") or "POST"
local expect = tonumber(os.getenv("BENCH_STATUS") or "200")

-- The shapes of tests/fixtures/*/ (an open of each provider), compact,
-- as fragments around two holes: R, the recipient, and N, a number.
local R, N = {}, {}
local shapes = {
	mailjet = {
		'{"event":"open","time":1700000000,"MessageID":', N,
		',"Message_GUID":"1ab23cd4-e567-8901-2345-6789f0gh1i2j",' ..
		'"email":"', R, '","mj_campaign_id":7173,' ..
		'"mj_contact_id":320,"customcampaign":"","CustomID":"bench",' ..
		'"Payload":"","ip":"127.0.0.1","geo":"US","agent":' ..
		'"Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0"}'
	},
	sendpulse = {
		'{"event":"opened","timestamp":1700000000,"message_id":', N,
		',"recipient":"', R, '",' ..
		'"sender":"john.doe@sendpulse.com","subject":"utf8_hello_world"}'
	},
	aldeamo = {
		'{"type":"SMTP","event":"open","relid":123,"msgid":' ..
		'"fd7a40e0-075e-11eb-b547-478382137ef6","subject":' ..
		'"Test message subject","email":"', R, '",' ..
		'"cityName":"Mountain View","regionName":"California",' ..
		'"countryName":"United States of America","latitude":' ..
		'37.40599060058594,"longitude":-122.0785140991211,' ..
		'"device_type":"unknown","browser":"Google Mail",' ..
		'"timestamp":"2020-10-05 18:04:08"}'
	},
}
local shape = shapes[provider] or shapes.aldeamo

-- Puts the fragments of one event into t from index k, the recipient
-- being rcpt .. i .. "@bench.test" and the number num (a string), and
-- returns the next index.  One table.concat() per body then copies each
-- byte once: building every event as a string of its own cost the load
-- generator more CPU than nginx spent on the batch (the figures: git log
-- -- bench/post.lua).
local function put(t, k, rcpt, i, num)
	for _, f in ipairs(shape) do
		if f == R then
			t[k], t[k + 1], t[k + 2] = rcpt, i, "@bench.test"
			k = k + 3
		elseif f == N then
			t[k] = num
			k = k + 1
		else
			t[k] = f
			k = k + 1
		end
	end
	return k
end

-- setup() runs in the main Lua state once per thread; thread:set()
-- makes the value a global of that thread's own state.
local threads = {}
function setup(thread)
	table.insert(threads, thread)
	thread:set("tid", #threads)
end

-- Per thread (globals, so that done() can read them with thread:get()).
sent, ok, other, events_ok, stored, duplicates, spooled = 0, 0, 0, 0, 0, 0, 0
local n = 0
local headers = {}

function init(args)
	headers["Authorization"] = auth
	headers["Content-Type"] = "text/plain"
end

function request()
	n = n + 1
	sent = sent + 1
	if method ~= "POST" then
		return wrk.format(method, nil, headers)
	end
	local prefix = tag .. "-" .. tid .. "-" .. n
	local t = {}
	if batch == 0 then
		put(t, 1, prefix, "", string.format("%d", tid * 1000000000 + n))
	else
		local k, base, rcpt = 2, (tid * 1000000000 + n) * 10000,
		    prefix .. "-"
		t[1] = "["
		for i = 1, batch do
			if i > 1 then
				t[k] = ","
				k = k + 1
			end
			k = put(t, k, rcpt, i, string.format("%d", base + i))
		end
		t[k] = "]"
	end
	return wrk.format("POST", nil, headers, table.concat(t))
end

function response(status, hdrs, body)
	if status ~= expect then
		other = other + 1
	elseif status ~= 200 then
		-- The floor's GET: no event; count the request.
		ok = ok + 1
		events_ok = events_ok + 1
	else
		ok = ok + 1
		-- nginx's static ceiling answers with the file: count the
		-- events that were sent.
		local r = tonumber(body:match('"received":(%d+)')) or
		    (batch == 0 and 1 or batch)
		events_ok = events_ok + r
		stored = stored + (tonumber(body:match('"stored":(%d+)')) or 0)
		duplicates = duplicates +
		    (tonumber(body:match('"duplicates":(%d+)')) or 0)
		spooled = spooled + (tonumber(body:match('"spooled":(%d+)')) or 0)
	end
end

function done(summary, latency, requests)
	local t = { sent = 0, ok = 0, other = 0, events_ok = 0, stored = 0,
	    duplicates = 0, spooled = 0 }
	for _, thread in ipairs(threads) do
		for k in pairs(t) do
			t[k] = t[k] + (tonumber(thread:get(k)) or 0)
		end
	end
	local e = summary.errors
	io.write(string.format("BENCH sent=%d ok=%d other=%d events_ok=%d " ..
	    "stored=%d duplicates=%d spooled=%d requests=%d errors=%d " ..
	    "duration_us=%d p50_us=%d p99_us=%d max_us=%d\n",
	    t.sent, t.ok, t.other, t.events_ok, t.stored, t.duplicates,
	    t.spooled, summary.requests,
	    e.connect + e.read + e.write + e.status + e.timeout,
	    summary.duration, latency:percentile(50), latency:percentile(99),
	    latency.max))
end
