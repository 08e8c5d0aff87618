-- Shared by the wrk-driven workloads (nginx, apache-cgi): wrk's done() hook writes the run's
-- metrics in scxlab's metric contract to metrics.json in the current directory, which each
-- client script sets to its raw folder ($SCXLAB_OUT). Pass it to wrk with -s.
--
-- Any error (connect, read, write, timeout, or a non-2xx/3xx status) makes the measurement
-- invalid: a server that fails requests finishes them faster, and would look better.
--
-- The measured window (runners/common/window.h): wrk counts from `start = time_us()`, taken in
-- its main thread right after it created its threads, to the end of their join; then it calls
-- done(). Each thread's setup() runs in the main thread just before that thread is created, so
-- the last one (the client passes the thread count as SCXLAB_WRK_THREADS) is as close before
-- wrk's start as a script can get, and done() as close after its end. Without $SCXLAB_MARK
-- (the warm-up, or wrk run by hand) nothing is marked.
local function mark(what)
   local path = os.getenv("SCXLAB_MARK")
   if path == nil or path == "" then return end
   local f = assert(io.open(path, "w"))
   f:write(what .. "\n")
   f:close()
end

local threads_set_up = 0
setup = function(thread)
   threads_set_up = threads_set_up + 1
   if threads_set_up == (tonumber(os.getenv("SCXLAB_WRK_THREADS") or "") or 1) then
      mark("start")
   end
end

local function json_metric(name, unit, value, higher)
   return string.format('{"name": "%s", "unit": "%s", "value": %.6f, "higher_is_better": %s}',
                        name, unit, value, higher and "true" or "false")
end

done = function(summary, latency, requests)
   mark("end")
   local secs = summary.duration / 1e6
   local e = summary.errors
   local errors = e.connect + e.read + e.write + e.status + e.timeout
   local valid, reason = true, ""
   if summary.requests == 0 then
      valid, reason = false, "wrk completed no request"
   elseif errors > 0 then
      valid = false
      reason = string.format("wrk saw %d errors (connect %d, read %d, write %d, status %d, timeout %d)",
                             errors, e.connect, e.read, e.write, e.status, e.timeout)
   end
   local m = {
      json_metric("requests_per_sec", "req/s", summary.requests / secs, true),
      json_metric("transfer_bytes_per_sec", "B/s", summary.bytes / secs, true),
      json_metric("requests", "count", summary.requests, true),
      json_metric("latency_mean_us", "us", latency.mean, false),
      json_metric("latency_p50_us", "us", latency:percentile(50), false),
      json_metric("latency_p90_us", "us", latency:percentile(90), false),
      json_metric("latency_p99_us", "us", latency:percentile(99), false),
      json_metric("latency_max_us", "us", latency.max, false),
      json_metric("errors", "count", errors, false),
   }
   local f = assert(io.open("metrics.json", "w"))
   f:write(string.format('{"valid": %s, "reason": "%s", "duration_s": %.6f,\n "metrics": [\n  %s\n ]}\n',
                         valid and "true" or "false", reason, secs, table.concat(m, ",\n  ")))
   f:close()
end
