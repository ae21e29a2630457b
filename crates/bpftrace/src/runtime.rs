//! Running a compiled script on the session core: load, attach every probe, run BEGIN, turn
//! ring buffer events into output (printf, time, exit, clear, zero, print) and run interval
//! probes until exit() or Ctrl-C (or the `-c` command's or `-p` process's end), then detach,
//! run END and print every map as bpftrace does.
//!
//! BEGIN, END and interval probes are raw tracepoint programs run with BPF_PROG_TEST_RUN in
//! this process: their helpers see this process, as bpftrace's (uprobes on itself) do.

use crate::output::{self, Format};
use crate::plan::{Event, Plan, PlannedMap};
use crate::probes::ProbeKind;
use crate::symbols::Symbols;
use crate::translate::{
    GLOBALS_MAP, GLOBAL_CPID, GLOBAL_START, KERNEL_STACKS_MAP, USER_STACKS_MAP,
};
use crate::types::{MapKind, Type};
use crate::Compiled;
use std::cell::RefCell;
use std::io::Write;
use std::process::{Child, Command};
use std::rc::Rc;
use std::time::{Duration, Instant};
use whistler_loader::attach::{AttachError, AttachTarget};
use whistler_loader::ringbuf::RingBufferError;
use whistler_loader::{LoadError, LoadOptions, MapError, ProgramError, TestRun, UpdateFlags};
use whistler_session::{MapEntry, Session, StopFlag};

/// The longest wait for events before the command's end, the process's end and intervals are
/// looked at again; records (an exit() among them) are handled as soon as they arrive.
const EVENT_WAIT: Duration = Duration::from_millis(10);

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub format: Format,
    /// No `Attaching N probes...` line.
    pub quiet: bool,
    /// `-c`: a command to start once attached; the run ends when it exits (`cpid` is its pid).
    pub command: Option<String>,
    /// `-p`: the run ends when this process exits.
    pub pid: Option<u32>,
    /// The run ends after this long (as if by Ctrl-C).
    pub duration: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("loading the programs: {0}")]
    Load(#[from] LoadError),
    #[error("attaching {probe}: {source}")]
    Attach {
        probe: String,
        #[source]
        source: AttachError,
    },
    #[error("running {probe}: {source}")]
    TestRun {
        probe: String,
        #[source]
        source: ProgramError,
    },
    #[error("reading events: {0}")]
    Ring(#[from] RingBufferError),
    #[error("map {0}: {1}")]
    Map(String, #[source] MapError),
    #[error("starting `{0}`: {1}")]
    Spawn(String, #[source] std::io::Error),
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
    #[error("the object lacks {0}, which its plan names")]
    Missing(String),
}

/// Runs a compiled script until it exits; writes its output to `out`.
pub fn run(
    compiled: &Compiled,
    options: &RunOptions,
    stop: &StopFlag,
    out: &mut dyn Write,
) -> Result<(), RunError> {
    run_object(&compiled.object.elf, &compiled.plan, options, stop, out)
}

/// Runs a script's object with its plan (compiled here or ahead of time, see [`crate::aot`]).
pub fn run_object(
    elf: &[u8],
    plan: &Plan,
    options: &RunOptions,
    stop: &StopFlag,
    out: &mut dyn Write,
) -> Result<(), RunError> {
    let mut session = Session::load(elf, &LoadOptions::default())?;
    set_global(&session, GLOBAL_START, monotonic_ns())?;
    let queue: Rc<RefCell<Vec<Vec<u8>>>> = Rc::default();
    let sink = queue.clone();
    session.consume_rings(move |_, record| sink.borrow_mut().push(record.to_vec()))?;
    let mut symbols = Symbols::default();
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    symbols.set_clock(plan.texts.clone(), wall - monotonic_ns() as i128);
    let mut run = Running {
        plan,
        format: options.format,
        symbols,
        queue,
        out,
        exit: false,
    };
    if !options.quiet {
        write!(
            run.out,
            "{}",
            output::attached(options.format, plan.probes.len())
        )?;
    }
    // BEGIN runs before the other probes are attached, as bpftrace runs it: what it sets up
    // (maps of names...) is there for their first event.
    run.probes(&session, |k| *k == ProbeKind::Begin)?;
    run.events(&mut session, stop)?;
    for probe in &plan.probes {
        attach(&mut session, &probe.object_name, &probe.kind)?;
    }
    let mut child = match &options.command {
        Some(command) => Some(spawn(&session, command)?),
        None => None,
    };
    let deadline = options.duration.map(|d| Instant::now() + d);
    run.until_exit(&mut session, stop, child.as_mut(), options.pid, deadline)?;
    // Events after exit() are dropped, as bpftrace drops them.
    let has_end = plan.probes.iter().any(|p| p.kind == ProbeKind::End);
    if has_end {
        // END runs once the probes are detached, so that what it prints and clears is final;
        // END's events are printed.
        detach(&mut session);
        session.drain_until(stop, Some(Instant::now()))?;
        run.queue.borrow_mut().clear();
        run.exit = false;
        run.probes(&session, |k| *k == ProbeKind::End)?;
        run.events(&mut session, stop)?;
    }
    // Without END, the maps are printed as they are at exit, and only then are the probes
    // detached: closing a tracepoint's perf event waits for RCU grace periods (tens of
    // milliseconds), which need not delay the output.
    write!(run.out, "\n\n")?;
    for map in &plan.maps {
        run.print_map(&session, map)?;
    }
    run.out.flush()?;
    detach(&mut session);
    if let Some(mut child) = child {
        if child.try_wait().ok().flatten().is_none() {
            let _ = child.kill();
        }
        let _ = child.wait();
    }
    Ok(())
}

/// Detaches every probe, each on its own thread: the kernel waits for RCU grace periods when
/// a tracepoint or probe attachment ends, and those waits overlap.
fn detach(session: &mut Session) {
    let links = session.take_links();
    if links.len() < 2 {
        drop(links);
        return;
    }
    std::thread::scope(|scope| {
        for link in links {
            scope.spawn(move || drop(link));
        }
    });
}

fn attach(session: &mut Session, name: &str, kind: &ProbeKind) -> Result<(), RunError> {
    let program = session
        .program_mut(name)
        .ok_or_else(|| RunError::Missing(format!("program {name}")))?;
    let result = match kind {
        ProbeKind::Begin | ProbeKind::End | ProbeKind::Interval(_) => return Ok(()),
        ProbeKind::Uprobe { binary, symbol, .. } => program.attach_to(AttachTarget::Uprobe {
            binary: binary.into(),
            symbol: Some(symbol.clone()),
            offset: 0,
            pid: None,
        }),
        ProbeKind::Profile {
            counter, sampling, ..
        } => program.attach_to(AttachTarget::PerfCounter(*counter, *sampling)),
        _ => program.attach_auto(),
    };
    result.map(drop).map_err(|source| RunError::Attach {
        probe: kind.full_name(),
        source,
    })
}

fn spawn(session: &Session, command: &str) -> Result<Child, RunError> {
    let mut words = command.split_whitespace();
    let program = words.next().unwrap_or_default();
    let child = Command::new(program)
        .args(words)
        .spawn()
        .map_err(|e| RunError::Spawn(command.to_string(), e))?;
    set_global(session, GLOBAL_CPID, child.id() as u64)?;
    Ok(child)
}

fn set_global(session: &Session, slot: u32, value: u64) -> Result<(), RunError> {
    let map = session
        .map(&whistler_compiler::symbol_name(GLOBALS_MAP))
        .ok_or_else(|| RunError::Missing(format!("map {GLOBALS_MAP}")))?;
    map.update(&slot.to_le_bytes(), &value.to_le_bytes(), UpdateFlags::Any)
        .map_err(|e| RunError::Map(GLOBALS_MAP.into(), e))
}

/// CLOCK_MONOTONIC, the clock of `bpf_ktime_get_ns`.
fn monotonic_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

struct Running<'a> {
    plan: &'a Plan,
    format: Format,
    symbols: Symbols,
    queue: Rc<RefCell<Vec<Vec<u8>>>>,
    out: &'a mut dyn Write,
    /// exit() was called.
    exit: bool,
}

impl Running<'_> {
    /// Runs the probes of the kinds `which` selects, once each, in script order.
    fn probes(
        &mut self,
        session: &Session,
        which: impl Fn(&ProbeKind) -> bool,
    ) -> Result<(), RunError> {
        for probe in self.plan.probes.iter().filter(|p| which(&p.kind)) {
            let program = session
                .program(&probe.object_name)
                .ok_or_else(|| RunError::Missing(format!("program {}", probe.object_name)))?;
            program
                .test_run(TestRun::default())
                .map_err(|source| RunError::TestRun {
                    probe: probe.kind.full_name(),
                    source,
                })?;
        }
        Ok(())
    }

    /// Events until exit(), Ctrl-C, or the end of the command or process watched.
    fn until_exit(
        &mut self,
        session: &mut Session,
        stop: &StopFlag,
        mut child: Option<&mut Child>,
        pid: Option<u32>,
        deadline: Option<Instant>,
    ) -> Result<(), RunError> {
        let start = Instant::now();
        let mut intervals: Vec<(usize, Duration, Instant)> = self
            .plan
            .probes
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p.kind {
                ProbeKind::Interval(ns) => {
                    let every = Duration::from_nanos(ns);
                    Some((i, every, start + every))
                }
                _ => None,
            })
            .collect();
        while !self.exit && !stop.is_set() {
            let next = intervals.iter().map(|(_, _, due)| *due).min();
            let slice = Instant::now() + EVENT_WAIT;
            session.wait_for_records(stop, Some(next.map_or(slice, |n| n.min(slice))))?;
            self.handle(session)?;
            for (i, every, due) in &mut intervals {
                if Instant::now() >= *due && !self.exit {
                    let probe = &self.plan.probes[*i];
                    self.probes(session, |k| *k == probe.kind)?;
                    *due += *every;
                    session.drain_until(stop, Some(Instant::now()))?;
                    self.handle(session)?;
                }
            }
            if let Some(child) = child.as_deref_mut() {
                if child.try_wait().ok().flatten().is_some() {
                    self.events(session, stop)?;
                    break;
                }
            }
            if pid.is_some_and(|p| !std::path::Path::new(&format!("/proc/{p}")).exists())
                || deadline.is_some_and(|d| Instant::now() >= d)
            {
                break;
            }
        }
        Ok(())
    }

    /// Reads what the rings hold now and handles it.
    fn events(&mut self, session: &mut Session, stop: &StopFlag) -> Result<(), RunError> {
        session.drain_until(stop, Some(Instant::now()))?;
        self.handle(session)
    }

    fn handle(&mut self, session: &Session) -> Result<(), RunError> {
        let records = std::mem::take(&mut *self.queue.borrow_mut());
        for record in records {
            if self.exit {
                // bpftrace stops reading events at exit().
                break;
            }
            self.event(session, &record)?;
        }
        Ok(())
    }

    fn event(&mut self, session: &Session, record: &[u8]) -> Result<(), RunError> {
        let header = output::int_at(record, 0) as u64;
        let (kind, index) = (header as u32, (header >> 32) as usize);
        let Some(event) = Event::from_u32(kind) else {
            return Ok(());
        };
        match event {
            Event::Exit => self.exit = true,
            Event::Printf | Event::System | Event::Cat => {
                let Some(printf) = self.plan.printfs.get(index) else {
                    return Ok(());
                };
                let mut offset = 8;
                let mut args = Vec::new();
                for ty in &printf.args {
                    let end = (offset + ty.slot_size()).min(record.len());
                    let value = &record[offset..(offset + ty.size()).min(end)];
                    read_stacks(session, &mut self.symbols, *ty, value);
                    args.push(output::printf_arg(*ty, value, &mut self.symbols));
                    offset = end;
                }
                let text = crate::printf::format(&printf.format, &args);
                match event {
                    Event::Printf => self.write("printf", &text)?,
                    Event::System => self.system(&text)?,
                    _ => self.cat(&text)?,
                }
            }
            Event::Join => {
                let delimiter = self.plan.texts.get(index).cloned().unwrap_or_default();
                let elements: Vec<String> = record
                    .get(8..)
                    .unwrap_or_default()
                    .chunks(crate::STRING_SIZE)
                    .take(crate::plan::JOIN_ARGS)
                    .map(output::c_string)
                    .take_while(|s| !s.is_empty())
                    .collect();
                self.write("join", &format!("{}\n", elements.join(&delimiter)))?;
            }
            Event::Time => {
                let format = self.plan.texts.get(index).cloned().unwrap_or_default();
                let text = crate::time::strftime(&format, wall_clock_seconds());
                self.write("time", &text)?;
            }
            Event::Clear | Event::Zero | Event::Print => {
                let Some(map) = self.plan.maps.iter().find(|m| map_index(m) == Some(index)) else {
                    return Ok(());
                };
                match event {
                    Event::Print => self.print_map(session, map)?,
                    _ => clear_map(session, map, event == Event::Zero)?,
                }
            }
        }
        Ok(())
    }

    fn write(&mut self, kind: &str, text: &str) -> Result<(), RunError> {
        write!(self.out, "{}", output::message(self.format, kind, text))?;
        self.out.flush()?;
        Ok(())
    }

    fn system(&mut self, command: &str) -> Result<(), RunError> {
        let result = Command::new("/bin/sh").arg("-c").arg(command).output();
        let text = match result {
            Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
            Err(e) => format!("system: {e}\n"),
        };
        self.write("syscall", &text)
    }

    fn cat(&mut self, path: &str) -> Result<(), RunError> {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| format!("cat {path}: {e}\n"));
        self.write("cat", &text)
    }

    fn print_map(&mut self, session: &Session, map: &PlannedMap) -> Result<(), RunError> {
        let entries = read_map(session, map)?;
        for (key, value) in &entries {
            let mut offset = 0;
            for ty in &map.keys {
                let end = (offset + ty.slot_size()).min(key.len());
                read_stacks(session, &mut self.symbols, *ty, &key[offset..end]);
                offset = end;
            }
            if let MapKind::Value(ty) = map.kind {
                read_stacks(session, &mut self.symbols, ty, value);
            }
        }
        let text = output::map(self.format, map, entries, &mut self.symbols);
        write!(self.out, "{text}")?;
        Ok(())
    }
}

/// Reads the stack a `kstack` or `ustack` value names from its stack map, for printing.
fn read_stacks(session: &Session, symbols: &mut Symbols, ty: Type, bytes: &[u8]) {
    let Type::Stack { user, .. } = ty else {
        return;
    };
    let id = output::int_at(bytes, 0);
    if !symbols.needs_stack(user, id) {
        return;
    }
    let name = if user {
        USER_STACKS_MAP
    } else {
        KERNEL_STACKS_MAP
    };
    let frames = session
        .map(&whistler_compiler::symbol_name(name))
        .and_then(|m| m.lookup(&(id as u32).to_le_bytes()).ok().flatten());
    symbols.add_stack(user, id, &frames.unwrap_or_default());
}

/// The index in the map's object name (`map_N`).
fn map_index(map: &PlannedMap) -> Option<usize> {
    map.object_name.strip_prefix("map_")?.parse().ok()
}

fn object_map<'s>(
    session: &'s Session,
    map: &PlannedMap,
) -> Result<&'s whistler_loader::Map, RunError> {
    session
        .map(&map.object_name)
        .ok_or_else(|| RunError::Missing(format!("map {}", map.name)))
}

fn read_map(session: &Session, map: &PlannedMap) -> Result<Vec<MapEntry>, RunError> {
    let object = object_map(session, map)?;
    whistler_session::map_entries(object)
        .unwrap_or(Ok(Vec::new()))
        .map_err(|e| RunError::Map(map.name.clone(), e))
}

/// clear() deletes every entry; zero() keeps the keys with zero values.
fn clear_map(session: &Session, map: &PlannedMap, keep_keys: bool) -> Result<(), RunError> {
    let object = object_map(session, map)?;
    let failed = |e| RunError::Map(map.name.clone(), e);
    if !keep_keys {
        return whistler_session::clear_entries(object).map_err(failed);
    }
    let zero = vec![0u8; object.info().value_size as usize];
    for key in object.keys() {
        object
            .update(&key.map_err(failed)?, &zero, UpdateFlags::Any)
            .map_err(failed)?;
    }
    Ok(())
}

fn wall_clock_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
