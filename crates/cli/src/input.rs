//! Reading input files: Lisp sources (checked to be text) or BPF ELF objects.

use anyhow::{bail, Context};
use std::path::Path;
use whistler_syntax::SourceFile;

pub enum Input {
    Lisp(SourceFile),
    Object(Vec<u8>),
}

const ELF_MAGIC: &[u8] = b"\x7fELF";

/// Reads a file, telling a BPF object from Lisp source by its ELF magic.
pub fn read(path: &Path) -> anyhow::Result<Input> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.starts_with(ELF_MAGIC) {
        return Ok(Input::Object(bytes));
    }
    Ok(Input::Lisp(source_from_bytes(path, bytes)?))
}

fn source_from_bytes(path: &Path, bytes: Vec<u8>) -> anyhow::Result<SourceFile> {
    let name = path.display().to_string();
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            bail!("{name}: not a text file (invalid UTF-8 at byte {at}); expected Whistler Lisp source or a BPF ELF object")
        }
    };
    if let Some(at) = text.find('\0') {
        bail!("{name}: not a text file (NUL byte at offset {at}); expected Whistler Lisp source or a BPF ELF object");
    }
    Ok(SourceFile::new(name, text))
}
