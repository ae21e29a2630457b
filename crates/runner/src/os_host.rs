//! The operating system as the Lisp evaluator's host: files, directories, clocks, the
//! environment and standard input ([`OsHost`]), either whole (session code) or read-only
//! (code that runs while a file compiles, such as `probe-file` in an `eval-when`).

use std::io::{BufRead, Write};
use std::time::{Duration, Instant, SystemTime};
use whistler_lisp::host::{FileInfo, Host, HostError, WriteMode};

pub struct OsHost {
    read_only: bool,
    started: Instant,
}

impl OsHost {
    /// Everything: session code.
    pub fn full() -> OsHost {
        OsHost {
            read_only: false,
            started: Instant::now(),
        }
    }
    /// Reading files, the clock and the environment, but no writing: compile time.
    pub fn read_only() -> OsHost {
        OsHost {
            read_only: true,
            ..OsHost::full()
        }
    }
    fn writable(&self, what: &str) -> Result<(), HostError> {
        if self.read_only {
            return Err(HostError {
                condition: "file-error",
                message: format!("{what} is not allowed while a file compiles (only reading is)"),
            });
        }
        Ok(())
    }
}

impl Host for OsHost {
    fn read_file(&mut self, path: &str) -> Result<Vec<u8>, HostError> {
        std::fs::read(path).map_err(|e| HostError::file(path, e))
    }
    fn write_file(&mut self, path: &str, mode: WriteMode) -> Result<Box<dyn Write>, HostError> {
        self.writable("writing files")?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true);
        if mode.must_not_exist {
            options.create_new(true);
        } else {
            options
                .create(mode.create)
                .append(mode.append)
                .truncate(!mode.append);
        }
        let file = options.open(path).map_err(|e| HostError::file(path, e))?;
        Ok(Box::new(std::io::BufWriter::new(file)))
    }
    fn file_info(&mut self, path: &str) -> Result<Option<FileInfo>, HostError> {
        let Ok(canonical) = std::fs::canonicalize(path) else {
            return Ok(None);
        };
        let metadata = std::fs::metadata(&canonical).map_err(|e| HostError::file(path, e))?;
        let mut truename = canonical.display().to_string();
        if metadata.is_dir() && !truename.ends_with('/') {
            truename.push('/');
        }
        let modified = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map(|d| d.as_secs());
        Ok(Some(FileInfo {
            truename,
            is_directory: metadata.is_dir(),
            length: metadata.len(),
            modified,
        }))
    }
    fn list_directory(&mut self, path: &str) -> Result<Vec<String>, HostError> {
        let entries = std::fs::read_dir(path).map_err(|e| HostError::file(path, e))?;
        Ok(entries
            .flatten()
            .map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                match e.file_type() {
                    Ok(t) if t.is_dir() => format!("{name}/"),
                    _ => name,
                }
            })
            .collect())
    }
    fn delete_file(&mut self, path: &str) -> Result<(), HostError> {
        self.writable("deleting files")?;
        std::fs::remove_file(path).map_err(|e| HostError::file(path, e))
    }
    fn rename_file(&mut self, from: &str, to: &str) -> Result<(), HostError> {
        self.writable("renaming files")?;
        std::fs::rename(from, to).map_err(|e| HostError::file(from, e))
    }
    fn create_directories(&mut self, path: &str) -> Result<bool, HostError> {
        if std::path::Path::new(path).is_dir() {
            return Ok(false);
        }
        self.writable("creating directories")?;
        std::fs::create_dir_all(path).map_err(|e| HostError::file(path, e))?;
        Ok(true)
    }
    fn wall_clock(&mut self) -> Result<Duration, HostError> {
        Ok(SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default())
    }
    fn monotonic_clock(&mut self) -> Result<Duration, HostError> {
        Ok(self.started.elapsed())
    }
    fn run_time(&mut self) -> Result<Duration, HostError> {
        // utime and stime, fields 14 and 15 of /proc/self/stat, in clock ticks (100 a second).
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<u64> = after_name
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|f| f.parse().ok())
            .collect();
        Ok(Duration::from_millis(fields.iter().sum::<u64>() * 10))
    }
    fn environment_variable(&mut self, name: &str) -> Result<Option<String>, HostError> {
        Ok(std::env::var(name).ok())
    }
    fn read_standard_input(&mut self) -> Result<Option<String>, HostError> {
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) => Ok(None),
            Ok(_) => Ok(Some(line)),
            Err(e) => Err(HostError::file("standard input", e)),
        }
    }
    fn machine_name(&mut self) -> Option<String> {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
    }
}
