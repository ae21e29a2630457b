# `whistler run /exec-trace.lisp` (the seed's kprobe session) until it prints exec records, then
# Ctrl-C (SIGINT): it must exit 130 and leave no kprobe, program or pin behind.
probes() {
  grep -c __x64_sys_execve /sys/kernel/tracing/enabled_functions
  cat /sys/kernel/tracing/kprobe_events
}
/whistler run /exec-trace.lisp > /tmp/out 2>&1 &
pid=$!
i=0
while [ $i -lt 150 ] && kill -0 $pid 2>/dev/null && ! grep -q '^exec pid=' /tmp/out; do
  /bin/true; sleep 0.2; i=$((i + 1))
done
for n in 1 2 3 4 5; do /bin/true; done
sleep 1
echo "--- probes while running ---"
probes
running=$(grep -c __x64_sys_execve /sys/kernel/tracing/enabled_functions)
kill -INT $pid
i=0
while [ $i -lt 100 ] && kill -0 $pid 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -KILL $pid 2>/dev/null && echo "whistler run ignored SIGINT for 10 s: killed"
wait $pid
status=$?
echo "--- whistler run output (exit $status) ---"
cat /tmp/out
echo "--- end of whistler run output ---"
echo "--- probes after exit ---"
probes
left=$(grep -c __x64_sys_execve /sys/kernel/tracing/enabled_functions)
events=$(cat /sys/kernel/tracing/kprobe_events)
pins=$(ls -A /sys/fs/bpf)
execs=$(grep -c '^exec pid=' /tmp/out)
if [ "$status" = 130 ] && [ "$execs" -ge 5 ] && [ "$running" -ge 1 ] && [ "$left" = 0 ] \
   && [ -z "$events" ] && [ -z "$pins" ]; then
  code=0
else
  echo "whistler run: exit $status (need 130), $execs exec records (need >= 5),"
  echo "  execve probe while running: $running, after exit: $left, kprobe_events: '$events', pins: '$pins'"
fi
