//! The `session!` proc macro: Lisp written in Rust source compiled to BPF at expansion time.
