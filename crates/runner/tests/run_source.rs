//! The runner in-process, on what needs no kernel: which files it takes, compile errors that
//! run nothing, record codecs, command-line arguments, and errors outside a session.
//! (Sessions on the kernel are tested through the CLI in crates/cli/tests/lisp_sessions.rs.)

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use whistler_runner::{needs_runner, run_source, Outcome, RunOptions};
use whistler_syntax::SourceFile;

#[derive(Clone, Default)]
struct Captured(Rc<RefCell<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `text` as `test.lisp`: (outcome, stdout, stderr).
fn run(text: &str, args: &[&str]) -> (Outcome, String, String) {
    let file = SourceFile::new("test.lisp", text);
    let out = Captured::default();
    let mut err = Vec::new();
    let options = RunOptions {
        args: args.iter().map(|s| s.to_string()).collect(),
        ..RunOptions::default()
    };
    let outcome = run_source(&file, &options, Box::new(out.clone()), &mut err);
    let stdout = String::from_utf8(out.0.borrow().clone()).unwrap();
    (outcome, stdout, String::from_utf8(err).unwrap())
}

fn needs(text: &str) -> bool {
    needs_runner(&SourceFile::new("t.lisp", text))
}

#[test]
fn definition_files_stay_objects_and_session_files_run() {
    assert!(!needs(
        "(in-package :whistler)\n(defstruct ev (pid u32))\n(defmap m :type :array :key-size 4 :value-size 8 :max-entries 1)\n\
         (defmacro two () 2)\n(defvar *x* (+ 1 2))\n(defprog p (:type :xdp) (two))"
    ));
    assert!(needs("(with-bpf-session () (format t \"hi\"))"));
    assert!(needs("(defun run () (with-bpf-session ()))"));
    assert!(needs("(defstruct ev (pid u32))\n(format t \"~a\" 1)"));
}

#[test]
fn top_level_macros_that_expand_to_definitions_are_definitions() {
    let defcounter = "(defmacro defcounter (name) `(defmap ,name :type :array :key-size 4 :value-size 8 :max-entries 1))\n";
    assert!(!needs(&format!(
        "{defcounter}(defcounter hits)\n(defprog p (:type :xdp) (incf (getmap hits 0)) 2)"
    )));
    assert!(needs(&format!(
        "{defcounter}(defcounter hits)\n(format t \"hi\")"
    )));
    let text = "(defmacro defrecord (name count &rest fields)\n\
                  `(progn (whistler:defstruct ,name ,@(mapcar (lambda (f) (list f 'u16)) fields))\n\
                          (defconstant ,count ,(length fields))))\n\
                (defrecord pair +pair-fields+ a b)\n\
                (format t \"~a ~a~%\" (encode-pair '(:a 1 :b 2)) +pair-fields+)\n";
    let (outcome, out, err) = run(text, &[]);
    assert_eq!(outcome, Outcome::Completed, "{err}");
    assert_eq!(out, "#(1 0 2 0) 2\n");
}

#[test]
fn compile_errors_run_nothing() {
    let (outcome, out, err) = run(
        "(format t \"before~%\")\n(with-bpf-session ()\n  (bpf:prog p (:type :xdp)\n    (+ 1 nosuch))\n  (format t \"in~%\"))\n",
        &[],
    );
    assert_eq!(outcome, Outcome::CompileFailed);
    assert_eq!(out, "");
    assert!(err.contains("test.lisp:4:10"), "{err}");
    assert_eq!(outcome.exit_code(), 1);
}

#[test]
fn errors_in_every_session_are_reported_once() {
    let text = "(defmacro bad () (car 5))\n\
                (with-bpf-session () (bpf:prog p (:type :xdp) (bad)))\n\
                (with-bpf-session () (bpf:prog q (:type :xdp) 0))\n";
    let (outcome, _, err) = run(text, &[]);
    assert_eq!(outcome, Outcome::CompileFailed);
    assert_eq!(err.matches("error:").count(), 1, "{err}");
}

#[test]
fn records_encode_and_decode() {
    let text = r#"
(asdf:load-system "whistler/loader")
(in-package #:whistler-loader-user)
(whistler:defstruct inner (x u16) (y i8))
(whistler:defstruct ev (pid u32) (ts u64) (delta i32) (in inner) (comm (array u8 4)))
(defvar *bytes* (encode-ev (make-ev-record :pid 258 :ts 18446744073709551615 :delta -2
                                          :in (make-inner-record :x 7 :y -1)
                                          :comm (list 97 98 99 0))))
(format t "~a~%" *bytes*)
(let ((e (decode-ev *bytes*)))
  (format t "pid=~d ts=~d delta=~d x=~d y=~d comm=~a~%"
          (ev-record-pid e) (ev-record-ts e) (ev-record-delta e)
          (inner-record-x (ev-record-in e)) (inner-record-y (ev-record-in e))
          (ev-record-comm e)))
(format t "~a~%" (encode-inner '(:x 1 :y 2)))
"#;
    let (outcome, out, err) = run(text, &[]);
    assert_eq!(outcome, Outcome::Completed, "{err}");
    assert_eq!(
        out,
        "#(2 1 0 0 0 0 0 0 255 255 255 255 255 255 255 255 254 255 255 255 7 0 255 0 97 98 99 0 0 0 0 0)\n\
         pid=258 ts=18446744073709551615 delta=-2 x=7 y=-1 comm=#(97 98 99 0)\n\
         #(1 0 2 0)\n"
    );
}

#[test]
fn command_line_arguments() {
    let (outcome, out, err) = run(
        "(format t \"~a ~a~%\" *args* (second (uiop:command-line-arguments)))",
        &["a", "bc"],
    );
    assert_eq!(outcome, Outcome::Completed, "{err}");
    assert_eq!(out, "(a bc) bc\n");
}

#[test]
fn lisp_errors_stop_the_run_with_their_position() {
    let (outcome, out, err) = run(
        "(format t \"one~%\")\n(error \"bad ~d\" 3)\n(format t \"two~%\")\n",
        &[],
    );
    assert_eq!(outcome, Outcome::Failed);
    assert_eq!(out, "one\n");
    assert!(
        err.contains("test.lisp:2:1") && err.contains("bad 3"),
        "{err}"
    );
}

#[test]
fn session_functions_outside_a_session_say_so() {
    let (outcome, _, err) = run("(bpf-session-map 'events)", &[]);
    assert_eq!(outcome, Outcome::Failed);
    assert!(err.contains("no BPF session is open"), "{err}");
    let (outcome, out, _) = run(
        "(handler-case (bpf:map-ref 'counts 0) (error (e) (format t \"caught~%\")))",
        &[],
    );
    assert_eq!((outcome, out.as_str()), (Outcome::Completed, "caught\n"));
}

#[test]
fn integer_helpers() {
    let (outcome, out, err) = run(
        "(format t \"~a ~d~%\" (encode-int-key 258 4) (decode-int-value (encode-int-key 65535 2)))",
        &[],
    );
    assert_eq!(outcome, Outcome::Completed, "{err}");
    assert_eq!(out, "#(2 1 0 0) 65535\n");
}

#[test]
fn records_of_structs_a_macro_defines_use_the_compilers_layout() {
    let text = r#"
(defmacro defevent (name &rest fields)
  `(progn (whistler:defstruct ,name ,@fields)
          (defmap ,(intern (format nil "~a-RING" name)) :type :ringbuf :max-entries 4096)))
(defevent exit-event (exit-code i32) (the-pid u32))
(format t "~a ~d~%" (encode-exit-event '(:exit-code -1 :the-pid 9))
        (exit-event-record-the-pid (decode-exit-event (encode-exit-event '(:the-pid 9)))))
"#;
    let (outcome, out, err) = run(text, &[]);
    assert_eq!(outcome, Outcome::Completed, "{err}");
    assert_eq!(out, "#(255 255 255 255 9 0 0 0) 9\n");
}

/// SBCL's extensions as SBCL documents and does them (the expected output is SBCL 2.2's for the
/// same script): run-program's output and error to Lisp streams, `:output :stream` read through
/// `process-output`, `:search`, `:wait nil` with `process-alive-p`/`process-kill`/
/// `process-wait`, statuses and exit codes (the signal number for a killed process), the two
/// getenvs, and `exit` with a code unwinding through `unwind-protect`.
#[test]
fn sbcl_extensions_behave_as_in_sbcl() {
    let script = r#"
(let ((out (make-string-output-stream)) (err (make-string-output-stream)))
  (let ((p (sb-ext:run-program "/bin/sh" '("-c" "echo out; echo err >&2; exit 7")
                               :output out :error err)))
    (format t "exit=~d out=~s err=~s~%" (sb-ext:process-exit-code p)
            (get-output-stream-string out) (get-output-stream-string err))))
(let ((p (sb-ext:run-program "echo" '("searched") :search t :output :stream :wait nil)))
  (format t "stream=~s~%" (read-line (sb-ext:process-output p)))
  (sb-ext:process-wait p))
(let ((p (sb-ext:run-program "/bin/true" nil :output nil)))
  (format t "status=~s code=~d~%" (sb-ext:process-status p) (sb-ext:process-exit-code p)))
(let ((p (sb-ext:run-program "/bin/sleep" '("5") :wait nil)))
  (format t "alive=~a status=~s~%" (sb-ext:process-alive-p p) (sb-ext:process-status p))
  (sb-ext:process-kill p 15)
  (sb-ext:process-wait p)
  (format t "killed alive=~a status=~s code=~d~%" (sb-ext:process-alive-p p)
          (sb-ext:process-status p) (sb-ext:process-exit-code p)))
(format t "path=~a same=~a missing=~a~%" (not (null (sb-posix:getenv "PATH")))
        (equal (sb-posix:getenv "PATH") (sb-ext:posix-getenv "PATH"))
        (sb-posix:getenv "WHISTLER_SURELY_UNSET_VARIABLE"))
(unwind-protect (sb-ext:exit :code 3) (format t "unwound~%"))
(format t "not reached~%")
"#;
    let (outcome, out, err) = run(script, &[]);
    assert_eq!(outcome, Outcome::Exited(3), "{err}");
    assert_eq!(
        out,
        "exit=7 out=\"out\n\" err=\"err\n\"\n\
         stream=\"searched\"\n\
         status=:EXITED code=0\n\
         alive=T status=:RUNNING\n\
         killed alive=NIL status=:SIGNALED code=15\n\
         path=T same=T missing=NIL\n\
         unwound\n"
    );
}
