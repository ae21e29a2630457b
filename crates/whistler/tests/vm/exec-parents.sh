# The exec_parents example (built on the host, against the host kernel's task_struct) for 3 s:
# a child this shell starts must be reported with its own pid, this shell's pid as its parent
# and its command name, read through offsets the loader relocated for this kernel.
/exec_parents 3 > /tmp/out 2>&1 &
pid=$!
i=0
while [ $i -lt 300 ] && ! grep -q '^tracing execs' /tmp/out; do
  sleep 0.1; i=$((i + 1))
done
/bin/true &
child=$!
wait $child
wait $pid
status=$?
echo "--- exec_parents output (exit $status) ---"
cat /tmp/out
echo "expected: exec pid=$child ppid=$$ comm=true"
echo "--- end of exec_parents output ---"
if [ "$status" = 0 ] && grep -qx "exec pid=$child ppid=$$ comm=true" /tmp/out; then
  code=0
else
  echo "exec_parents: exit $status, no record of pid $child with parent $$ and comm true"
fi
