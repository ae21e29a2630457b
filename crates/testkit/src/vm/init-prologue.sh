#!/bin/sh
# /init of a test VM, first part: mount what BPF needs. The test's own script follows and sets
# $code; init-epilogue.sh reports it.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
echo "WHISTLER-VM-START $(uname -r)"
code=1
