//! Writing output files.

use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path`, creating it or replacing its contents. An existing file is
/// overwritten in place and then cut to the new length, not truncated to nothing first:
/// rebuilding an object of about the same size then frees no disk blocks, which on ext4
/// (block frees, discards, and the flush it forces on closing a file truncated to nothing)
/// costs a recompile of a small program more than compiling it.
pub fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let cannot = || format!("cannot write {}", path.display());
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(cannot)?;
    file.write_all(bytes).with_context(cannot)?;
    // Only a longer old file has a tail to cut (cutting to the same length still costs the
    // file system a transaction); pipes and devices (`-o /dev/stdout`) have no length.
    let metadata = file.metadata().with_context(cannot)?;
    if metadata.is_file() && metadata.len() > bytes.len() as u64 {
        file.set_len(bytes.len() as u64).with_context(cannot)?;
    }
    Ok(())
}
