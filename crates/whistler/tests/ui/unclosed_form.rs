// Rust's lexer rejects unbalanced parentheses in token form; in a raw string the Lisp reader
// reports it, with the line:col inside the string in the message.
whistler::session!(pub struct S; r#"
(defprog p (:type :xdp :license "GPL")
  (+ 1 2)
"#);

fn main() {}
