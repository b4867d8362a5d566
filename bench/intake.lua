-- intake.lua - wrk script for `make bench`: POST /v1/signals with one
-- fixed valid body and a unique Idempotency-Key per request.
--
--   BENCH_TOKEN=nrm_... wrk -s bench/intake.lua URL -- PREFIX BODY.json
--
-- The key is PREFIX-<thread>-<counter>: PREFIX is unique per wrk run
-- (scripts/bench.sh passes the round and phase), the thread number
-- comes from setup(), the counter is per thread.  The token comes from
-- the environment, not argv, so it does not show in ps.
--
-- done() prints one machine-readable line that scripts/bench.sh parses:
--   BENCH_WRK requests=N seconds=S rps=R p50_ms=A p99_ms=B non201=K
--     errors=E
-- then, when some answers were not 201, how many of each status and the
-- first such body.  Every status counts, also 2xx ones (200 would be an
-- idempotent replay: not a new signal).

package.path = "bench/?.lua;" .. package.path
local report = require("wrk_report")

local threads = {}

function setup(thread)
	threads[#threads + 1] = thread
	thread:set("tid", #threads)
end

function init(args)
	local prefix = args[1] or "wrk"
	local path = args[2] or "bench/body.json"
	local token = os.getenv("BENCH_TOKEN")
	if token == nil or token == "" then
		error("BENCH_TOKEN is not set")
	end
	local f = assert(io.open(path, "rb"))
	body = f:read("*a")
	f:close()
	key_prefix = prefix .. "-" .. tostring(tid) .. "-"
	counter = 0
	headers = {
		["Authorization"] = "Bearer " .. token,
		["Content-Type"] = "application/json",
		["Idempotency-Key"] = "",
	}
	non201 = 0
	-- "status=count,..." so the main state can read it with get().
	statuses = {}
	first_bad = ""
end

function request()
	counter = counter + 1
	headers["Idempotency-Key"] = key_prefix .. counter
	return wrk.format("POST", "/v1/signals", headers, body)
end

function response(status, hdrs, resp_body)
	if status ~= 201 then
		non201 = non201 + 1
		statuses[status] = (statuses[status] or 0) + 1
		if first_bad == "" then
			first_bad = report.bad_answer(status, resp_body)
		end
	end
end

local function status_text(t)
	local parts = {}
	for s, n in pairs(t) do
		parts[#parts + 1] = tostring(s) .. "=" .. tostring(n)
	end
	table.sort(parts)
	return table.concat(parts, ",")
end

function done(summary, latency, requests)
	local bad = report.sum(threads, "non201")
	local by_status = {}
	for _, t in ipairs(threads) do
		for s, n in pairs(t:get("statuses") or {}) do
			by_status[s] = (by_status[s] or 0) + n
		end
	end
	local lines = {}
	if bad > 0 then
		lines[1] = "BENCH_WRK_STATUSES " .. status_text(by_status)
		lines[2] = "BENCH_WRK_FIRST_BAD " .. report.first_bad(threads)
	end
	report.print(summary, latency, string.format("non201=%d", bad), lines)
end
