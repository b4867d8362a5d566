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
			local b = string.gsub(body or "", "%s+", " ")
			first_bad = tostring(status) .. " " .. string.sub(b, 1, 300)
		end
	elseif not string.find(body, '"next_cursor":"', 1, true) then
		short = short + 1
	end
end

function done(summary, latency, requests)
	local bad, sh, sample = 0, 0, ""
	for _, t in ipairs(threads) do
		bad = bad + (t:get("non200") or 0)
		sh = sh + (t:get("short") or 0)
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
	    "p99_ms=%.3f non200=%d short=%d errors=%d\n",
	    summary.requests, secs, summary.requests / secs,
	    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
	    bad, sh, errors))
	if bad > 0 then
		io.write("BENCH_WRK_FIRST_BAD " .. sample .. "\n")
	end
	if errors > 0 then
		io.write(string.format(
		    "BENCH_WRK_ERRORS connect=%d read=%d write=%d timeout=%d\n",
		    e.connect, e.read, e.write, e.timeout))
	end
end
