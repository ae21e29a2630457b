whistler::session!(pub struct S; include "no_such_file.lisp");

fn main() {}
