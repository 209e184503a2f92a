#!/bin/bash
# CPU of each thread of the benchmark's worker and poller processes, read from /proc while they
# run, printed once they have exited: "pid tid name utime stime" in ticks of 10 ms over each
# thread's whole life. Start it in the background right before `pnpm bench ingest`, e.g.
#   scripts/bench/thread-cpu.sh > /tmp/threads.txt & BENCH_DOCS=0 pnpm bench ingest; wait
# The parse threads show as WorkerThread, V8's garbage collection and compiler threads as
# node-V8Worker. It gives up when no service appears within 180 s (a benchmark that failed).
last=$(mktemp)
start=$(date +%s)
seen=
while true; do
  if [ -z "$seen" ] && [ $(($(date +%s) - start)) -gt 180 ]; then
    echo 'thread-cpu: no service seen in 180 s' >&2
    break
  fi
  pids=$(pgrep -f 'bench-[^ ]*/(worker|poller)\.mjs' | tr '\n' ' ')
  if [ -n "$pids" ]; then
    now=$(mktemp)
    for p in $pids; do
      for t in /proc/$p/task/*; do
        name=$(cat "$t/comm" 2>/dev/null) || continue
        # Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
        set -- $(sed 's/.*) //' "$t/stat" 2>/dev/null)
        [ $# -ge 13 ] && echo "$p $(basename "$t") $name ${12} ${13}"
      done
    done > "$now"
    mv "$now" "$last"
    seen=1
  elif [ -n "$seen" ]; then
    break
  fi
  sleep 0.5
done
cat "$last"
rm -f "$last"
