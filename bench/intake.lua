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
			local b = string.gsub(resp_body or "", "%s+", " ")
			first_bad = tostring(status) .. " " .. string.sub(b, 1, 300)
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
	local bad = 0
	local by_status = {}
	local sample = ""
	for _, t in ipairs(threads) do
		bad = bad + (t:get("non201") or 0)
		for s, n in pairs(t:get("statuses") or {}) do
			by_status[s] = (by_status[s] or 0) + n
		end
		local fb = t:get("first_bad") or ""
		if sample == "" and fb ~= "" then
			sample = fb
		end
	end
	local e = summary.errors
	local errors = e.connect + e.read + e.write + e.timeout
	local secs = summary.duration / 1e6
	io.write(string.format(
	    "BENCH_WRK requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f " ..
	    "p99_ms=%.3f non201=%d errors=%d\n",
	    summary.requests, secs, summary.requests / secs,
	    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
	    bad, errors))
	if bad > 0 then
		io.write("BENCH_WRK_STATUSES " .. status_text(by_status) .. "\n")
		io.write("BENCH_WRK_FIRST_BAD " .. sample .. "\n")
	end
	if errors > 0 then
		io.write(string.format(
		    "BENCH_WRK_ERRORS connect=%d read=%d write=%d timeout=%d\n",
		    e.connect, e.read, e.write, e.timeout))
	end
end
