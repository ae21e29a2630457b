# /init, last part: report $code on the serial console and through qemu's isa-debug-exit port
# (0xf4; qemu then exits with (N << 1) | 1), then power off.
echo "WHISTLER-VM-EXIT $code"
if [ "$code" = 0 ]; then byte='\000'; else byte='\001'; fi
printf "$byte" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
poweroff -f
