-- Shared by the wrk-driven workloads (nginx, apache-cgi): wrk's done() hook writes the run's
-- metrics in scxlab's metric contract to metrics.json in the current directory, which each
-- client script sets to its raw folder ($SCXLAB_OUT). Pass it to wrk with -s.
--
-- Any error (connect, read, write, timeout, or a non-2xx/3xx status) makes the measurement
-- invalid: a server that fails requests finishes them faster, and would look better.
--
-- The measured window (runners/common/window.h): wrk counts from `start = time_us()`, taken in
-- its main thread right after it created its threads, sleeps for its duration, sets its stop
-- flag, joins its threads, and only then reads the clock again. Each thread's setup() runs in
-- the main thread just before that thread is created, so the last one (the client passes the
-- thread count as SCXLAB_WRK_THREADS) marks the start as close before wrk's clock as a script
-- can. The end is marked by a sleeper started there for the same duration, so at about the
-- moment wrk sets its stop flag: wrk's join takes a few timer ticks of its threads after that
-- (in the window's agreement tolerance), but done() comes only after wrk has computed its
-- statistics over a latency array as long as its timeout in microseconds (2.8 s after the end
-- of a 10 s apache run with --timeout 30s), which the counters must not include. The sleeper's
-- shell takes the FIFO's name from the environment, not from this text; the duration is digits.
-- Without $SCXLAB_MARK (the warm-up, or wrk run by hand) nothing is marked.
local function mark_window()
   local path = os.getenv("SCXLAB_MARK")
   if path == nil or path == "" then return end
   local seconds = os.getenv("SCXLAB_DURATION") or ""
   assert(seconds:match("^%d+$"), "SCXLAB_DURATION is not a whole number of seconds: " .. seconds)
   local f = assert(io.open(path, "w"))
   f:write("start\n")
   f:close()
   local rc = os.execute("(sleep " .. seconds .. " && printf 'end\\n' > \"$SCXLAB_MARK\") &")
   -- wrk's LuaJIT returns the shell's status (0); a Lua 5.2+ would return true
   assert(rc == 0 or rc == true, "could not start the sleeper that marks the window's end")
end

local threads_set_up = 0
setup = function(thread)
   threads_set_up = threads_set_up + 1
   if threads_set_up == (tonumber(os.getenv("SCXLAB_WRK_THREADS") or "") or 1) then
      mark_window()
   end
end

local function json_metric(name, unit, value, higher)
   return string.format('{"name": "%s", "unit": "%s", "value": %.6f, "higher_is_better": %s}',
                        name, unit, value, higher and "true" or "false")
end

done = function(summary, latency, requests)
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
