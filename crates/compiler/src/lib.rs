//! The Whistler compiler: spanned s-expressions to eBPF instructions and object specs. No I/O, no unsafe.
