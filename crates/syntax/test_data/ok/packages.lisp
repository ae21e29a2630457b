bpf:attach
BPF:ATTACH
bpf::map-ref
sb-sys:interactive-interrupt
whistler:defstruct
