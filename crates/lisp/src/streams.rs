//! Streams: standard output, error output (`*error-output*`, `*trace-output*`), string
//! output streams (`with-output-to-string`, `make-string-output-stream`), input streams over
//! text (strings, files read through the host, standard input), file output streams, and the
//! composite streams (broadcast, two-way, echo, concatenated, synonym).

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use whistler_syntax::Span;

use crate::error::{EvalError, Flow};
use crate::interp::Interp;
use crate::value::{LispString, Value, NO_SPAN};

/// A string output stream: it appends to its string (a fresh one, or the string given to
/// `with-output-to-string`).
pub struct StringStream {
    pub text: Rc<LispString>,
}

impl StringStream {
    pub fn new() -> Rc<StringStream> {
        StringStream::appending_to(Rc::new(LispString::new(String::new())))
    }
    pub fn appending_to(text: Rc<LispString>) -> Rc<StringStream> {
        Rc::new(StringStream { text })
    }
}

/// An input stream: characters and a read position. Files are read whole when opened;
/// standard input is read a line at a time from the host as reading needs more.
pub struct InputStream {
    pub(crate) chars: RefCell<Vec<char>>,
    pub(crate) position: std::cell::Cell<usize>,
    /// Refill from the host's standard input at the end of the text.
    pub(crate) standard_input: bool,
    /// The file it reads, for `pathname` and `file-length`.
    pub(crate) path: Option<String>,
    /// Opened with `:element-type '(unsigned-byte 8)`: each character is one byte.
    pub(crate) binary: bool,
    pub(crate) open: std::cell::Cell<bool>,
}

impl InputStream {
    pub fn from_text(text: &str) -> Rc<InputStream> {
        Rc::new(InputStream {
            chars: RefCell::new(text.chars().collect()),
            position: std::cell::Cell::new(0),
            standard_input: false,
            path: None,
            binary: false,
            open: std::cell::Cell::new(true),
        })
    }
    pub(crate) fn file(path: &str, bytes: &[u8], binary: bool) -> Rc<InputStream> {
        let chars = if binary {
            bytes.iter().map(|b| char::from(*b)).collect()
        } else {
            String::from_utf8_lossy(bytes).chars().collect()
        };
        Rc::new(InputStream {
            chars: RefCell::new(chars),
            position: std::cell::Cell::new(0),
            standard_input: false,
            path: Some(path.to_string()),
            binary,
            open: std::cell::Cell::new(true),
        })
    }
    pub(crate) fn standard() -> Rc<InputStream> {
        Rc::new(InputStream {
            chars: RefCell::new(Vec::new()),
            position: std::cell::Cell::new(0),
            standard_input: true,
            path: None,
            binary: false,
            open: std::cell::Cell::new(true),
        })
    }
}

/// A file opened for output through the host.
pub struct FileOutput {
    pub(crate) path: String,
    pub(crate) writer: RefCell<Option<Box<dyn Write>>>,
    pub(crate) at_line_start: std::cell::Cell<bool>,
    /// Bytes written so far (`file-position`).
    pub(crate) written: std::cell::Cell<u64>,
    pub(crate) binary: bool,
}

/// The composite streams of the standard.
pub enum Composite {
    /// Output goes to every stream in the list.
    Broadcast(Vec<Value>),
    /// Input from the first, output to the second.
    TwoWay(Value, Value),
    /// Like two-way, and what is read is also written to the output.
    Echo(Value, Value),
    /// Input from each stream in turn.
    Concatenated(Vec<Value>),
    /// Whatever stream the symbol's value is at the time of use.
    Synonym(crate::value::Sym),
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
    File(Rc<FileOutput>),
    Broadcast(Vec<Sink>),
}

impl Sink {
    /// Resolves a stream argument: absent, `nil` or `t` mean `*standard-output*` (whatever it is
    /// bound to); otherwise it must be a stream.
    pub(crate) fn of(interp: &Interp, stream: Option<&Value>, span: Span) -> Result<Sink, Flow> {
        match stream {
            None | Some(Value::Nil) => {
                Sink::of_stream(interp, &interp.standard_output_value(), span)
            }
            Some(v) if v.as_sym().is_some_and(|s| s.name == "t") => {
                Sink::of_stream(interp, &interp.standard_output_value(), span)
            }
            Some(v) => Sink::of_stream(interp, v, span),
        }
    }

    pub(crate) fn of_stream(interp: &Interp, stream: &Value, span: Span) -> Result<Sink, Flow> {
        crate::stack::guard(|| Sink::of_stream_unguarded(interp, stream, span))
    }

    fn of_stream_unguarded(interp: &Interp, stream: &Value, span: Span) -> Result<Sink, Flow> {
        if let Some(s) = stream.downcast::<StringStream>() {
            return Ok(Sink::String(s));
        }
        if stream.downcast::<ErrorStream>().is_some() {
            return Ok(Sink::Error);
        }
        if let Some(file) = stream.downcast::<FileOutput>() {
            if file.writer.borrow().is_none() {
                return Err(closed_stream(stream, span));
            }
            return Ok(Sink::File(file));
        }
        if let Some(composite) = stream.downcast::<Composite>() {
            return match &*composite {
                Composite::Broadcast(streams) => streams
                    .iter()
                    .map(|s| Sink::of_stream(interp, s, span))
                    .collect::<Result<_, _>>()
                    .map(Sink::Broadcast),
                Composite::TwoWay(_, out) | Composite::Echo(_, out) => {
                    Sink::of_stream(interp, out, span)
                }
                Composite::Synonym(sym) => {
                    let target = sym.value.borrow().clone().unwrap_or(Value::Nil);
                    Sink::of_stream(interp, &target, span)
                }
                Composite::Concatenated(_) => Err(not_output(stream, span)),
            };
        }
        match stream {
            Value::Nil => Ok(Sink::Standard),
            Value::Sym(s, _) if s.name == "t" => Ok(Sink::Standard),
            other => Err(not_output(other, span)),
        }
    }

    /// Whether the last text written here ended a line (for `~&` and `fresh-line`).
    pub(crate) fn at_line_start(&self, interp: &Interp) -> bool {
        match self {
            Sink::Standard => interp.output.at_line_start,
            Sink::Error => interp.error_output.at_line_start,
            Sink::String(s) => {
                let text = s.text.text();
                text.is_empty() || text.ends_with('\n')
            }
            Sink::File(f) => f.at_line_start.get(),
            Sink::Broadcast(sinks) => sinks.last().is_none_or(|s| s.at_line_start(interp)),
        }
    }

    pub(crate) fn write(&self, interp: &mut Interp, text: &str) -> Result<(), Flow> {
        match self {
            Sink::Standard => interp.output.write(text),
            Sink::Error => interp.error_output.write(text),
            Sink::String(s) => {
                s.text.push_str(text);
                Ok(())
            }
            Sink::File(f) => f.write(text.as_bytes(), text.ends_with('\n')),
            Sink::Broadcast(sinks) => sinks.iter().try_for_each(|s| s.write(interp, text)),
        }
    }
}

impl FileOutput {
    /// Writes bytes (text, or raw bytes from `write-byte`).
    pub(crate) fn write(&self, bytes: &[u8], ends_line: bool) -> Result<(), Flow> {
        if bytes.is_empty() {
            return Ok(());
        }
        let mut writer = self.writer.borrow_mut();
        let Some(w) = writer.as_mut() else {
            return Err(EvalError::new(
                "stream-error",
                format!("the stream for {} is closed", self.path),
                NO_SPAN,
            )
            .into());
        };
        w.write_all(bytes).map_err(|e| {
            Flow::from(EvalError::new(
                "stream-error",
                format!("cannot write {}: {e}", self.path),
                NO_SPAN,
            ))
        })?;
        self.written.set(self.written.get() + bytes.len() as u64);
        self.at_line_start.set(ends_line);
        Ok(())
    }

    /// Flushes and drops the writer; false when it was already closed.
    pub(crate) fn close(&self) -> bool {
        match self.writer.borrow_mut().take() {
            Some(mut w) => {
                let _ = w.flush();
                true
            }
            None => false,
        }
    }
}

fn not_output(stream: &Value, span: Span) -> Flow {
    EvalError::new(
        "type-error",
        format!("{} is not an output stream", crate::printer::prin1(stream)),
        span,
    )
    .with_help("write to `t`, `*standard-output*`, `*error-output*`, a string or a file stream")
    .into()
}

pub(crate) fn closed_stream(stream: &Value, span: Span) -> Flow {
    EvalError::new(
        "stream-error",
        format!("{} is closed", crate::printer::prin1(stream)),
        span,
    )
    .into()
}
