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

setup = report.setup

function init(args)
	local token = report.token()
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
		report.count_bad("non200", status, resp_body)
	end
end

function done(summary, latency, requests)
	report.done(summary, latency, "non200")
end
