-- case_read.lua - wrk script for `make bench-seal`: GET /v1/cases/{id}
-- round-robin over the case ids in a file, as a coordinator of their
-- region (the read opens the case's sealed values: what the benchmark
-- weighs).
--
--   BENCH_TOKEN=nrm_... wrk -s bench/case_read.lua URL -- IDS_FILE
--
-- done() prints the BENCH_WRK line scripts/bench-lib.sh reads, with
-- non200=K: every answer should be 200.

package.path = "bench/?.lua;" .. package.path
local report = require("wrk_report")

local threads = {}

function setup(thread)
	threads[#threads + 1] = thread
	thread:set("tid", #threads)
end

function init(args)
	local token = os.getenv("BENCH_TOKEN")
	if token == nil or token == "" then
		error("BENCH_TOKEN is not set")
	end
	ids = {}
	for line in io.lines(args[1]) do
		if line ~= "" then
			ids[#ids + 1] = line
		end
	end
	if #ids == 0 then
		error("no case ids in " .. args[1])
	end
	-- each thread starts elsewhere in the list
	counter = (tid or 1) * 7
	headers = {["Authorization"] = "Bearer " .. token}
	non200 = 0
	first_bad = ""
end

function request()
	counter = counter + 1
	local id = ids[(counter % #ids) + 1]
	return wrk.format("GET", "/v1/cases/" .. id, headers)
end

function response(status, hdrs, resp_body)
	if status ~= 200 then
		non200 = non200 + 1
		if first_bad == "" then
			first_bad = report.bad_answer(status, resp_body)
		end
	end
end

function done(summary, latency, requests)
	local bad = report.sum(threads, "non200")
	local lines = {}
	if bad > 0 then
		lines[1] = "BENCH_WRK_FIRST_BAD " .. report.first_bad(threads)
	end
	report.print(summary, latency, string.format("non200=%d", bad), lines)
end
