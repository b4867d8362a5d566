-- wrk_report.lua - what the wrk scripts (bench/intake.lua, inbox.lua,
-- case_read.lua) share: the threads and their setup(), the token, the
-- count of unexpected answers and the first of them, and the summary
-- done() prints.  Loaded with require() from the repository root (where
-- the bench scripts run wrk), by every thread's Lua state and the main
-- one.

local M = {}

-- The threads wrk made (main state): a script's setup is M.setup, which
-- numbers them (the thread's global tid).
M.threads = {}
function M.setup(thread)
	M.threads[#M.threads + 1] = thread
	thread:set("tid", #M.threads)
end

-- BENCH_TOKEN: the token comes from the environment, not argv, so it
-- does not show in ps.
function M.token()
	local token = os.getenv("BENCH_TOKEN")
	if token == nil or token == "" then
		error("BENCH_TOKEN is not set")
	end
	return token
end

-- The text a thread keeps of its first unexpected answer: the status
-- and the body's first 300 characters, white space folded.
function M.bad_answer(status, body)
	local b = string.gsub(body or "", "%s+", " ")
	return tostring(status) .. " " .. string.sub(b, 1, 300)
end

-- In a thread: one more unexpected answer in its counter `name` (a
-- global), the first of them kept in first_bad (bad_answer).
function M.count_bad(name, status, body)
	_G[name] = _G[name] + 1
	if first_bad == "" then
		first_bad = M.bad_answer(status, body)
	end
end

-- The first thread's first_bad that is not empty ("" when none is).
function M.first_bad(threads)
	for _, t in ipairs(threads) do
		local fb = t:get("first_bad") or ""
		if fb ~= "" then
			return fb
		end
	end
	return ""
end

-- The sum over the threads of the counter `name`.
function M.sum(threads, name)
	local n = 0
	for _, t in ipairs(threads) do
		n = n + (t:get(name) or 0)
	end
	return n
end

-- Print the machine-readable summary that scripts/bench-lib.sh reads:
--   BENCH_WRK requests=N seconds=S rps=R p50_ms=A p99_ms=B COUNTS
--     errors=E
-- (COUNTS: the script's own name=value words), then each of `lines`,
-- then BENCH_WRK_ERRORS with the socket errors by kind when there were
-- any.
function M.print(summary, latency, counts, lines)
	local e = summary.errors
	local errors = e.connect + e.read + e.write + e.timeout
	local secs = summary.duration / 1e6
	io.write(string.format(
	    "BENCH_WRK requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f " ..
	    "p99_ms=%.3f %s errors=%d\n",
	    summary.requests, secs, summary.requests / secs,
	    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
	    counts, errors))
	for _, line in ipairs(lines) do
		io.write(line .. "\n")
	end
	if errors > 0 then
		io.write(string.format(
		    "BENCH_WRK_ERRORS connect=%d read=%d write=%d timeout=%d\n",
		    e.connect, e.read, e.write, e.timeout))
	end
end

-- done() of a script whose threads count the unexpected answers in
-- `name`: M.print with the counts name=K and `more` (" word=N ..."),
-- and, when K > 0, `lines` (nil: none) and the first unexpected answer.
function M.done(summary, latency, name, more, lines)
	local bad = M.sum(M.threads, name)
	local out = {}
	if bad > 0 then
		out = lines or {}
		out[#out + 1] = "BENCH_WRK_FIRST_BAD " .. M.first_bad(M.threads)
	end
	M.print(summary, latency, string.format("%s=%d", name, bad) ..
	    (more or ""), out)
end

return M
