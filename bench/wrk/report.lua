-- SPDX-License-Identifier: MIT
-- wrk script for bench/run.sh: prints one JSON line with the figures the table needs.
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local errs = summary.errors.connect + summary.errors.read + summary.errors.write +
               summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests":%d,"bytes":%d,"seconds":%.3f,"rate":%.1f,"mb_per_s":%.2f,' ..
    '"p50_us":%d,"p99_us":%d,"errors":%d}\n',
    summary.requests, summary.bytes, secs, summary.requests / secs,
    summary.bytes / secs / 1e6, latency:percentile(50), latency:percentile(99), errs))
end
