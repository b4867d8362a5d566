-- inbox.lua - wrk script for scripts/bench-inbox.sh: GET /v1/inbox with
-- a coordinator's token, the first page of the caller's open cases.
--
--   BENCH_TOKEN=nrm_... wrk -s bench/inbox.lua URL -- PATH
--
-- PATH defaults to /v1/inbox?limit=50.  The token comes from the
-- environment, not argv, so it does not show in ps.  The database is
-- seeded with more open cases than a page holds, so every answer must
-- be 200 with a next_cursor (a full page); the rest are counted.
--
-- done() prints one machine-readable line:
--   BENCH_WRK requests=N seconds=S rps=R p50_ms=A p99_ms=B non200=K
--     short=P errors=E

package.path = "bench/?.lua;" .. package.path
local report = require("wrk_report")

local threads = {}

function setup(thread)
	threads[#threads + 1] = thread
end

function init(args)
	local token = os.getenv("BENCH_TOKEN")
	if token == nil or token == "" then
		error("BENCH_TOKEN is not set")
	end
	path = args[1] or "/v1/inbox?limit=50"
	req = wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
	non200 = 0
	short = 0
	first_bad = ""
end

function request()
	return req
end

function response(status, hdrs, body)
	if status ~= 200 then
		non200 = non200 + 1
		if first_bad == "" then
			first_bad = report.bad_answer(status, body)
		end
	elseif not string.find(body, '"next_cursor":"', 1, true) then
		short = short + 1
	end
end

function done(summary, latency, requests)
	local bad = report.sum(threads, "non200")
	local lines = {}
	if bad > 0 then
		lines[1] = "BENCH_WRK_FIRST_BAD " .. report.first_bad(threads)
	end
	report.print(summary, latency, string.format("non200=%d short=%d",
	    bad, report.sum(threads, "short")), lines)
end
