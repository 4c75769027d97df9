-- wrk script: print the figures `tools/bench/run.py` reads, in one line (latencies in µs).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH p50=%d p95=%d p99=%d requests=%d duration_us=%d non2xx=%d errors=%d\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99), summary.requests,
    summary.duration, e.status, e.connect + e.read + e.write + e.timeout))
end
