# The exec_trace example for 3 s: it must attach kprobe/__x64_sys_execve (not fall back to the
# tracepoint) and print one `exec pid=` record per exec run meanwhile.
/exec_trace 3 > /tmp/out 2>&1 &
pid=$!
i=0
while [ $i -lt 300 ] && ! grep -q -e '^tracing execve' -e 'has no kprobes' /tmp/out; do
  sleep 0.1; i=$((i + 1))
done
for n in 1 2 3 4 5; do /bin/true; done
wait $pid
status=$?
echo "--- exec_trace output (exit $status) ---"
cat /tmp/out
echo "--- end of exec_trace output ---"
execs=$(grep -c '^exec pid=' /tmp/out)
if [ "$status" = 0 ] && grep -q '^tracing execve with kprobe/__x64_sys_execve' /tmp/out \
   && ! grep -q 'has no kprobes' /tmp/out && [ "$execs" -ge 5 ]; then
  code=0
else
  echo "exec_trace: exit $status, $execs exec records (need 0 and >= 5, with the kprobe)"
fi
