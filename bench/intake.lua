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

setup = report.setup

function init(args)
	local prefix = args[1] or "wrk"
	local path = args[2] or "bench/body.json"
	local token = report.token()
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
		statuses[status] = (statuses[status] or 0) + 1
		report.count_bad("non201", status, resp_body)
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
	local by_status = {}
	for _, t in ipairs(report.threads) do
		for s, n in pairs(t:get("statuses") or {}) do
			by_status[s] = (by_status[s] or 0) + n
		end
	end
	report.done(summary, latency, "non201", nil,
	    {"BENCH_WRK_STATUSES " .. status_text(by_status)})
end
