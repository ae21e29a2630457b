//! Output streams: standard output, error output (`*error-output*`, `*trace-output*`) and string
//! streams (`with-output-to-string`, `make-string-output-stream`).

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use whistler_syntax::Span;

use crate::error::{EvalError, Flow};
use crate::interp::Interp;
use crate::value::{Value, NO_SPAN};

/// A string output stream.
pub struct StringStream {
    pub text: RefCell<String>,
}

impl StringStream {
    pub fn new() -> Rc<StringStream> {
        Rc::new(StringStream {
            text: RefCell::new(String::new()),
        })
    }
}

/// The value of `*error-output*` and `*trace-output*`: text written to it goes to the
/// interpreter's error output (the process's stderr unless redirected).
pub struct ErrorStream;

/// A process-level output: where text goes and whether the last text written ended a line.
pub(crate) struct Output {
    writer: Box<dyn Write>,
    at_line_start: bool,
}

impl Output {
    pub(crate) fn new(writer: Box<dyn Write>) -> Output {
        Output {
            writer,
            at_line_start: true,
        }
    }

    /// Writes `text`, flushing at line ends so interleaved output stays in order.
    fn write(&mut self, text: &str) -> Result<(), Flow> {
        if text.is_empty() {
            return Ok(());
        }
        self.at_line_start = text.ends_with('\n');
        let written = self.writer.write_all(text.as_bytes()).and_then(|()| {
            if text.contains('\n') {
                self.writer.flush()
            } else {
                Ok(())
            }
        });
        written.map_err(|e| {
            EvalError::new("stream-error", format!("cannot write output: {e}"), NO_SPAN).into()
        })
    }

    pub(crate) fn flush(&mut self) {
        let _ = self.writer.flush();
    }
}

/// Where one call's text goes, resolved from a stream designator.
pub(crate) enum Sink {
    Standard,
    Error,
    String(Rc<StringStream>),
}

impl Sink {
    /// Resolves a stream argument: absent, `nil` or `t` mean `*standard-output*` (whatever it is
    /// bound to); otherwise it must be a stream.
    pub(crate) fn of(interp: &Interp, stream: Option<&Value>, span: Span) -> Result<Sink, Flow> {
        match stream {
            None | Some(Value::Nil) => Sink::of_stream(&interp.standard_output_value(), span),
            Some(v) if v.as_sym().is_some_and(|s| s.name == "t") => {
                Sink::of_stream(&interp.standard_output_value(), span)
            }
            Some(v) => Sink::of_stream(v, span),
        }
    }

    fn of_stream(stream: &Value, span: Span) -> Result<Sink, Flow> {
        if let Some(s) = stream.downcast::<StringStream>() {
            return Ok(Sink::String(s));
        }
        if stream.downcast::<ErrorStream>().is_some() {
            return Ok(Sink::Error);
        }
        match stream {
            Value::Nil => Ok(Sink::Standard),
            Value::Sym(s, _) if s.name == "t" => Ok(Sink::Standard),
            other => Err(EvalError::new(
                "type-error",
                format!("{} is not an output stream", crate::printer::prin1(other)),
                span,
            )
            .with_help("write to `t`, `*standard-output*`, `*error-output*` or a string stream")
            .into()),
        }
    }

    /// Whether the last text written here ended a line (for `~&` and `fresh-line`).
    pub(crate) fn at_line_start(&self, interp: &Interp) -> bool {
        match self {
            Sink::Standard => interp.output.at_line_start,
            Sink::Error => interp.error_output.at_line_start,
            Sink::String(s) => {
                let text = s.text.borrow();
                text.is_empty() || text.ends_with('\n')
            }
        }
    }

    pub(crate) fn write(&self, interp: &mut Interp, text: &str) -> Result<(), Flow> {
        match self {
            Sink::Standard => interp.output.write(text),
            Sink::Error => interp.error_output.write(text),
            Sink::String(s) => {
                s.text.borrow_mut().push_str(text);
                Ok(())
            }
        }
    }
}
