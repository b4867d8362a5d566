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

setup = report.setup

function init(args)
	local token = report.token()
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
		report.count_bad("non200", status, body)
	elseif not string.find(body, '"next_cursor":"', 1, true) then
		short = short + 1
	end
end

function done(summary, latency, requests)
	report.done(summary, latency, "non200", string.format(" short=%d",
	    report.sum(report.threads, "short")))
end
