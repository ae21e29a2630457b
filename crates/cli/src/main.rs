//! The `whistler` command line tool.
fn main() {}
