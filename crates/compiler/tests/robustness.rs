//! Robustness: random token soups never make the reader or the compiler panic, long programs
//! compile, and very deep nesting is reported rather than overflowing the stack.

use proptest::prelude::*;
use whistler_syntax::{read, SourceFile};

const TOKENS: &[&str] = &[
    "(",
    ")",
    "(",
    ")",
    "defprog",
    "defmap",
    "defstruct",
    "defconstant",
    "p",
    "m",
    "s",
    ":type",
    ":xdp",
    ":hash",
    ":array",
    ":key-size",
    ":value-size",
    ":max-entries",
    "4",
    "8",
    "1",
    "0",
    "-1",
    "99999999999999999999999",
    "let",
    "let*",
    "if",
    "when",
    "cond",
    "case",
    "and",
    "or",
    "not",
    "setf",
    "incf",
    "getmap",
    "map-lookup",
    "load",
    "store",
    "u8",
    "u32",
    "u64",
    "i16",
    "dotimes",
    "return",
    "+",
    "-",
    "*",
    "/",
    "<<",
    "x",
    "y",
    "ctx",
    "data",
    "xdp-data",
    "with-ringbuf",
    "make-s",
    "s-a",
    "sizeof",
    "asm",
    "progn",
    "\"str\"",
    "#x1f",
    "'q",
    "`",
    ",",
    "nil",
    "t",
    "ktime-get-ns",
    "tail-call",
    "memset",
    "memcpy",
    "(array u8 4)",
    "(a u32)",
    "stack-addr",
    "ntohs",
    "cast",
    "when-let",
    "if-let",
    ":license",
    "\"GPL\"",
    "#\\a",
    ";",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..120).prop_map(|t| t.join(" "))
}

fn compile_text(text: &str) {
    let file = SourceFile::new("soup.lisp", text);
    let r = read(&file);
    let _ = whistler_compiler::compile_forms(&file, &r.forms);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(text in soup()) {
        compile_text(&text);
    }

    #[test]
    fn programs_with_soup_bodies_never_panic(body in soup()) {
        let text = format!(
            "(defmap m :type :hash :key-size 4 :value-size 8 :max-entries 8)\n\
             (defstruct s (a u32) (b (array u8 4)))\n\
             (defprog p (:type :xdp) (let ((x 1) (y 2)) {body}))"
        );
        compile_text(&text);
    }
}

/// Long programs compile (their compile time, which must grow linearly, is measured by
/// `cargo bench -p whistler --bench expansion`).
#[test]
fn long_programs_compile() {
    let mut text = String::from(
        "(defmap m :type :array :key-size 4 :value-size 8 :max-entries 64)\n(defprog p (:type :xdp)\n (let ((a 0))\n",
    );
    for i in 0..5000 {
        text += &format!(
            "  (when (> (getmap m {}) {i}) (setf a (+ a {i})))\n",
            i % 64
        );
    }
    text += "  a))\n";
    let result = whistler_compiler::compile(&SourceFile::new("long.lisp", text));
    assert!(result.is_ok(), "{:?}", result.err());

    let mut text = String::from("(defprog p (:type :xdp)\n (let* ((a 1)\n");
    for i in 0..5000 {
        text += &format!("   (a (+ (* a 3) {i}))\n");
    }
    text += "  ) a))\n";
    let result = whistler_compiler::compile(&SourceFile::new("chain.lisp", text));
    assert!(result.is_ok(), "{:?}", result.err());
}

#[test]
fn hundred_thousand_levels_are_an_error_not_a_crash() {
    let text = format!(
        "(defprog p () {}1{})",
        "(progn ".repeat(100_000),
        ")".repeat(100_000)
    );
    let file = SourceFile::new("deep.lisp", text);
    let err = whistler_compiler::compile(&file).expect_err("too deep");
    assert!(err.iter().any(|d| d.message.contains("nesting")), "{err:?}");
}

#[test]
fn nesting_just_below_the_reader_limit_compiles() {
    let depth = whistler_syntax::MAX_DEPTH - 5;
    let text = format!(
        "(defprog p () {}1{})",
        "(progn ".repeat(depth),
        ")".repeat(depth)
    );
    let file = SourceFile::new("deep.lisp", text);
    let handle = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(move || whistler_compiler::compile(&file).map(|_| ()))
        .expect("spawn");
    assert!(handle.join().expect("no stack overflow").is_ok());
}

/// A small deterministic PRNG (xorshift) so mutation runs are reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn mutated_corpus_files_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut sources: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .expect("corpus")
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .collect();
    sources.sort();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..1500 {
        let mut bytes = sources[round % sources.len()].clone();
        for _ in 0..1 + rng.below(4) {
            if bytes.is_empty() {
                break;
            }
            let (a, b) = (rng.below(bytes.len()), rng.below(bytes.len()));
            let (lo, hi) = (a.min(b), a.max(b));
            match rng.below(4) {
                0 => {
                    bytes.drain(lo..hi.min(lo + 8));
                }
                1 => {
                    let chunk: Vec<u8> = bytes[lo..hi.min(lo + 16)].to_vec();
                    let at = rng.below(bytes.len());
                    bytes.splice(at..at, chunk);
                }
                2 => {
                    if let Some(x) = bytes.get_mut(lo) {
                        {
                            let alphabet = b"()'`,#:;\"0123456789xyz- \n";
                            *x = alphabet[rng.below(alphabet.len())];
                        }
                    }
                }
                _ => {
                    let last = bytes.len().saturating_sub(1);
                    if !bytes.is_empty() {
                        bytes.swap(lo.min(last), hi.min(last));
                    }
                }
            }
        }
        compile_text(&String::from_utf8_lossy(&bytes));
    }
}
