#!/bin/sh
# /init of the test VM: mount what BPF needs, run the guest checks, report the exit code on the
# serial console and through qemu's isa-debug-exit port (0xf4), then power off.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
echo "WHISTLER-VM-START $(uname -r)"
WHISTLER_VM_GUEST=1 /guest --ignored --exact vm_guest_checks --nocapture --test-threads=1
code=$?
echo "WHISTLER-VM-EXIT $code"
if [ "$code" = 0 ]; then byte='\000'; else byte='\001'; fi
printf "$byte" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
poweroff -f
