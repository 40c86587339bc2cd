//! `eqlite scan`: events in (files, directories, stdin, compressed or not), alerts out.
//!
//! Events are taken in batches: each batch is parsed and matched against every rule's event
//! queries on `-j` threads, then fed in input order to one [`Stream`], which keeps sequence and
//! sample state. The alerts are thus the same, in the same order, whatever `-j` is.
//!
//! With `--state FILE` the stream's state is restored from FILE at the start and written to it
//! between batches (every `--state-every`) and at the end of the input, which then does not end
//! the stream (unless `--final`): see [`super::state`].

use super::inputs::{self, Counters, Source};
use super::output::{Format, Member, Output};
use super::state::{self, HeldEvent, State};
use super::{interactive, load, parse_duration};
use crate::ScanArgs;
use eqlite::input::SplitOptions;
use eqlite::{Alert, EcsContext, Event, RuleKind, RuleSet};
use eqlite::{Stream, StreamOptions};
use std::cell::Cell;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::ops::Range;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Text a batch gathers before it is matched: large enough that the threads' start-up does not
/// count, small enough to stay in cache and keep alerts flowing.
const BATCH_BYTES: usize = 1 << 20;
const BATCH_ITEMS: usize = 4096;

/// Items per batch: `EQLITE_BATCH_EVENTS` (tests make batches tiny, so that sequences span many).
fn batch_items() -> usize {
    std::env::var("EQLITE_BATCH_EVENTS").ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(BATCH_ITEMS)
}

/// Where an event starts, for messages: [`eqlite::input::RawEvent`] without its text.
#[derive(Clone, Copy)]
struct RawAt {
    line: usize,
    column: usize,
    offset: usize,
    origin: eqlite::input::Origin,
}

/// One input item of a batch.
enum Item {
    Event { file: u32, raw: RawAt, text: Range<usize> },
    Invalid { file: u32, message: String },
}

#[derive(Default)]
struct Batch {
    text: String,
    items: Vec<Item>,
    /// Input position of the first item.
    base: u64,
}

/// An event kept after its batch: it may be part of a sequence or sample alert yet to come.
struct Held {
    /// Index into [`Run::names`].
    file: u32,
    line: usize,
    text: Option<Box<str>>,
}

type Matched<'a> = Result<(Event<'a>, Vec<(usize, usize)>), eqlite::input::InputError>;

/// Parses and matches the events of a batch, on `jobs` threads; with `profile`, also the time
/// spent on each rule.
fn match_batch<'a>(
    rs: &RuleSet,
    batch: &'a Batch,
    jobs: usize,
    profile: bool,
) -> (Vec<Option<Matched<'a>>>, Vec<Duration>) {
    let part = |items: &[Item]| {
        let mut spent = vec![Duration::ZERO; if profile { rs.len() } else { 0 }];
        let matched: Vec<_> = items
            .iter()
            .map(|item| match item {
                Item::Event { raw, text, .. } => {
                    let json = &batch.text[text.clone()];
                    Some(match rs.read_json(json) {
                        Ok(ev) => {
                            let m = if profile { rs.matching_timed(&ev, &mut spent) } else { rs.matching(&ev) };
                            Ok((ev, m))
                        }
                        Err(e) => {
                            let (line, column, offset, origin) = (raw.line, raw.column, raw.offset, raw.origin);
                            Err(eqlite::input::RawEvent { json, line, column, offset, origin }.error(&e))
                        }
                    })
                }
                Item::Invalid { .. } => None,
            })
            .collect();
        (matched, spent)
    };
    if jobs <= 1 || batch.items.len() < 2 {
        return part(&batch.items);
    }
    let chunk = batch.items.len().div_ceil(jobs);
    std::thread::scope(|s| {
        let handles: Vec<_> = batch.items.chunks(chunk).skip(1).map(|c| s.spawn(move || part(c))).collect();
        let (mut out, mut spent) = part(&batch.items[..chunk]);
        for h in handles {
            let (m, t) = h.join().expect("a matching thread panicked");
            out.extend(m);
            spent.iter_mut().zip(t).for_each(|(a, b)| *a += b);
        }
        (out, spent)
    })
}

/// What a run counted, for the summary and the exit status.
#[derive(Default)]
pub struct Totals {
    pub events: u64,
    pub invalid: u64,
    pub alerts: u64,
    /// Alerts per rule index.
    pub per_rule: HashMap<usize, u64>,
    /// With --profile-rules: time spent matching each rule.
    pub spent: Vec<Duration>,
}

struct Run<'r> {
    rs: &'r RuleSet,
    stream: Stream,
    out: Output<'r>,
    sources: &'r [Source],
    /// The inputs' names, then those of earlier runs' inputs (restored with `--state`).
    names: Vec<String>,
    index: HashMap<&'r str, usize>,
    held: HashMap<u64, Held>,
    /// `held` is pruned when it reaches this size.
    prune_at: usize,
    keep_text: bool,
    whole: bool,
    totals: Totals,
    write_error: Option<std::io::Error>,
}

impl Run<'_> {
    /// Feeds a batch to the stream, in order, and writes the alerts it completes.
    fn batch(&mut self, batch: &Batch, jobs: usize) {
        let (matched, spent) = match_batch(self.rs, batch, jobs, !self.totals.spent.is_empty());
        self.totals.spent.iter_mut().zip(spent).for_each(|(a, b)| *a += b);
        for (k, (item, m)) in batch.items.iter().zip(matched).enumerate() {
            let pos = batch.base + k as u64;
            self.totals.events += 1;
            match (item, m) {
                (Item::Invalid { file, message }, _) => {
                    self.totals.invalid += 1;
                    eprintln!("eqlite: {}: {message}", self.sources[*file as usize].name);
                }
                (Item::Event { file, .. }, Some(Err(e))) => {
                    self.totals.invalid += 1;
                    eprintln!("eqlite: {}: {e}", self.sources[*file as usize].name);
                }
                (Item::Event { file, raw, text }, Some(Ok((ev, m)))) => {
                    // Any matched event can be in an alert that comes after this batch: sequences and
                    // samples, an event rule held by `--lateness` or a `tail` pipe, every rule of a
                    // whole input (ordered first). Its place is kept until `prune` finds the stream
                    // no longer holds it.
                    if !m.is_empty() {
                        let text = self.keep_text.then(|| batch.text[text.clone()].into());
                        self.held.insert(pos, Held { file: *file, line: raw.line, text });
                    }
                    let alerts = self.stream.push_matched(self.rs, &ev, pos, None, &m);
                    self.emit(alerts, Some(batch));
                }
                (Item::Event { .. }, None) => unreachable!("events are matched"),
            }
        }
        self.prune();
    }

    /// Lets go of the held events no later alert can name, once they have doubled since the
    /// last time: memory stays bounded by what the stream itself holds.
    fn prune(&mut self) {
        // A whole input is ordered before the rules see it: until the end, any event can still
        // be in an alert (and the stream's sort may have put records on disk, out of sight).
        if self.whole || self.held.len() < self.prune_at {
            return;
        }
        self.retain_live();
        self.prune_at = (2 * self.held.len()).max(batch_items());
    }

    /// Keeps only the held events the stream still holds (the only ones a later alert can name).
    fn retain_live(&mut self) {
        let mut live = std::collections::HashSet::new();
        self.stream.held_positions(|p| {
            live.insert(p);
        });
        self.held.retain(|p, _| live.contains(p));
    }

    /// The state to write with `--state`: the stream's snapshot and the held events it can
    /// still name in a later alert.
    fn state(&mut self) -> State {
        self.retain_live();
        let mut positions: Vec<u64> = self.held.keys().copied().collect();
        positions.sort_unstable();
        let (mut names, mut named) = (Vec::new(), HashMap::new());
        let held = positions
            .into_iter()
            .map(|pos| {
                let h = &self.held[&pos];
                let name = *named.entry(h.file).or_insert_with(|| {
                    names.push(self.names[h.file as usize].clone());
                    names.len() as u32 - 1
                });
                HeldEvent { pos, name, line: h.line as u64, text: h.text.as_deref().map(str::to_string) }
            })
            .collect();
        State { snapshot: self.stream.snapshot(self.rs), names, held }
    }

    /// Takes in the held events of a restored state.
    fn restore_held(&mut self, st: State) {
        let base = self.names.len() as u32;
        self.names.extend(st.names);
        for h in st.held {
            let text = h.text.map(String::into_boxed_str);
            self.held.insert(h.pos, Held { file: base + h.name, line: h.line as usize, text });
        }
        self.prune_at = self.prune_at.max(2 * self.held.len());
    }

    fn emit(&mut self, alerts: Vec<Alert>, batch: Option<&Batch>) {
        for a in alerts {
            self.totals.alerts += 1;
            let Some(&i) = self.index.get(a.rule_id.as_str()) else { continue };
            *self.totals.per_rule.entry(i).or_default() += 1;
            if self.write_error.is_some() {
                continue;
            }
            let members: Vec<Member> = a
                .events
                .iter()
                .map(|&p| {
                    if let Some(h) = self.held.get(&p) {
                        return Member { file: &self.names[h.file as usize], line: h.line, text: h.text.as_deref() };
                    }
                    match batch.and_then(|b| b.items.get((p - b.base) as usize).map(|it| (b, it))) {
                        Some((b, Item::Event { file, raw, text })) => Member {
                            file: &self.sources[*file as usize].name,
                            line: raw.line,
                            text: self.keep_text.then(|| &b.text[text.clone()]),
                        },
                        _ => Member { file: "?", line: 0, text: None },
                    }
                })
                .collect();
            let rule = self.rs.rule(i).expect("the rule of an alert");
            let kind = self.rs.kind(i).unwrap_or(RuleKind::Event);
            if let Err(e) = self.out.alert(&a, rule, kind, &members) {
                self.write_error = Some(e);
            }
        }
    }
}

/// Reads every source into batches, the first at input position `base`, calling `f` on each
/// full one, on one that is `due` (the state is to be written), and on the last. An unreadable
/// or corrupt source is reported and the others are still read.
fn read_sources(
    sources: &[Source],
    options: &SplitOptions,
    counters: &Counters,
    base: u64,
    due: impl Fn() -> bool,
    mut f: impl FnMut(&mut Batch),
) -> u64 {
    let mut batch = Batch { base, ..Batch::default() };
    let mut failed = 0;
    let most = batch_items();
    for (file, src) in sources.iter().enumerate() {
        let file = file as u32;
        let read = inputs::open(src, counters).and_then(|r| {
            eqlite::input::read(r, options, |item| {
                match item {
                    Ok(raw) => {
                        let start = batch.text.len();
                        batch.text.push_str(raw.json);
                        let at = RawAt { line: raw.line, column: raw.column, offset: raw.offset, origin: raw.origin };
                        batch.items.push(Item::Event { file, raw: at, text: start..batch.text.len() });
                    }
                    Err(e) => batch.items.push(Item::Invalid { file, message: e.to_string() }),
                }
                if batch.text.len() >= BATCH_BYTES || batch.items.len() >= most || due() {
                    f(&mut batch);
                }
            })
            .map_err(|e| format!("{}: {e}", src.name))
        });
        if let Err(e) = read {
            failed += 1;
            eprintln!("eqlite: {e}");
        }
    }
    f(&mut batch);
    failed
}

pub fn run(args: ScanArgs) -> Result<ExitCode, String> {
    let rules = load(&args.rules)?;
    if let Some(e) = rules.errors.first() {
        return Err(format!("{} of the rules did not compile:\n{e}", rules.errors.len()));
    }
    if args.rules.verbose {
        for (what, why) in &rules.skipped {
            eprintln!("skipped {what}: {why}");
        }
    }
    let rs = rules.set;
    if rs.is_empty() {
        return Err("no EQL rules to run".into());
    }
    let sources = inputs::expand(&args.input)?;
    // With --state the inputs are a piece of a stream that goes on in the next run.
    let whole_input = args.state.is_none() && sources.iter().all(|s| super::is_file(s.path.as_deref()));
    let state_every = Duration::from_millis(parse_duration(&args.state_every)?);
    let opts = StreamOptions {
        lateness_ms: parse_duration(&args.lateness)?,
        max_pending: args.max_pending,
        // Regular files are complete inputs (ordered whole, as one index); stdin or a pipe among
        // the inputs makes the run a stream.
        whole_input,
        sort_memory: args.sort_memory.max(1),
        ..StreamOptions::default()
    };
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let stdout_tty = std::io::stdout().is_terminal();
    let format = args.format.unwrap_or(if stdout_tty { Format::Table } else { Format::Ndjson });
    let types = rs.options().type_tables();
    let now = eqlite::rfc3339(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64),
    );
    let cx = EcsContext { types: &types, timestamp_field: &args.rules.timestamp_field, now: &now };
    let colour = stdout_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let progress = super::progress::Progress::new(interactive(), &sources);
    // Alerts on the terminal the bar is drawn on go out between its redraws, batch by batch.
    let held_back = super::progress::Pending::default();
    let w: Box<dyn std::io::Write> = if stdout_tty && progress.enabled() {
        Box::new(held_back.clone())
    } else {
        Box::new(std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock()))
    };
    let (stream, restored) = match &args.state {
        Some(path) => restore(&rs, &opts, path)?,
        None => (Stream::new(&rs, opts), None),
    };
    let mut run = Run {
        rs: &rs,
        stream,
        out: Output::new(format, args.with_events, colour, w, cx),
        sources: &sources,
        names: sources.iter().map(|s| s.name.clone()).collect(),
        index: rs.rules().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect(),
        held: HashMap::new(),
        // As many as a batch: tests that make batches tiny prune often too.
        prune_at: batch_items(),
        keep_text: Output::needs_text(format, args.with_events),
        whole: whole_input,
        totals: Totals {
            spent: vec![Duration::ZERO; if args.profile_rules { rs.len() } else { 0 }],
            ..Totals::default()
        },
        write_error: None,
    };
    // `read_json` parses every item anyway: the splitter need not check NDJSON lines first.
    let split = SplitOptions { check_lines: false, max_item_bytes: rs.options().max_event_bytes };
    if let Some(st) = restored {
        run.restore_held(st);
    }
    let counters = Counters::default();
    let started = Instant::now();
    let written = Cell::new(Instant::now());
    let due = || args.state.is_some() && written.get().elapsed() >= state_every;
    let base = run.stream.next_position();
    let unreadable = read_sources(&sources, &split, &counters, base, due, |batch| {
        run.batch(batch, jobs);
        batch.base += batch.items.len() as u64;
        batch.items.clear();
        batch.text.clear();
        if let Err(e) = run.out.flush().and_then(|_| progress.print(&held_back)) {
            run.write_error.get_or_insert(e);
        }
        // After the alerts are out: a state on disk never stands for alerts not yet written.
        if let Some(path) = args.state.as_deref().filter(|_| due()) {
            if let Err(e) = save(&mut run, path) {
                eprintln!("eqlite: warning: {e}; the scan goes on");
            }
            written.set(Instant::now());
        }
        progress.update(&counters, run.totals.events, run.totals.alerts);
    });
    // A run with --state ends a piece of the stream, not the stream (unless --final): what waits
    // for later events stays in the state.
    let mut state_error = None;
    match args.state.as_deref() {
        Some(path) if !args.final_ => state_error = save(&mut run, path).err(),
        _ => {
            let tail = run.stream.flush(&rs);
            run.emit(tail, None);
        }
    }
    if let Some(path) = args.state.as_deref().filter(|_| args.final_) {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                state_error = Some(format!("removing the state file {} at the end of the stream: {e}", path.display()));
            }
            _ => {}
        }
    }
    progress.finish();
    let flushed = run.out.flush().and_then(|_| progress.print(&held_back));
    match flushed.err().or(run.write_error.take()) {
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Some(e) => return Err(format!("writing alerts: {e}")),
        None => {}
    }
    if let Some(e) = state_error {
        return Err(e);
    }
    let (pos, bad, alerts) = (run.totals.events, run.totals.invalid, run.totals.alerts);
    let st = run.stream.stats();
    if args.stats {
        eprintln!(
            "{{\"events\":{pos},\"alerts\":{alerts},\"invalid\":{bad},\"late\":{},\"untimed\":{},\"evicted\":{},\"expired\":{},\"pending\":{},\"spilled\":{},\"seconds\":{:.3}}}",
            st.late,
            st.untimed,
            st.evicted,
            st.expired,
            st.pending,
            st.spilled,
            started.elapsed().as_secs_f64()
        );
    }
    if st.late > 0 || st.evicted > 0 {
        eprintln!(
            "eqlite: {} late events were kept out of sequences and {} pending sequence matches were evicted (see --lateness, --max-pending)",
            st.late, st.evicted
        );
    }
    if args.summary || (interactive() && !args.no_summary) {
        super::report::summary(&rs, &run.totals, &counters, started.elapsed(), &sources);
    }
    if args.profile_rules {
        super::report::profile(&rs, &run.totals);
    }
    Ok(if bad > 0 || unreadable > 0 {
        if bad > 0 {
            eprintln!("eqlite: {bad} of {pos} input items were invalid and skipped");
        }
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// The stream of a `--state` file: restored when the file exists and is valid; empty, with a
/// warning that says why, when it is corrupt, truncated or of another version. A file that
/// exists but cannot be read is an error (it could not be written at the end either).
fn restore(rs: &RuleSet, opts: &StreamOptions, path: &Path) -> Result<(Stream, Option<State>), String> {
    let fresh = || Stream::new(rs, opts.clone());
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((fresh(), None)),
        Err(e) => return Err(format!("reading the state file {}: {e}", path.display())),
    };
    let warn = |why: &str| {
        eprintln!("eqlite: warning: state file {}: {why}; starting from an empty state", path.display());
    };
    let st = match State::from_bytes(&bytes) {
        Ok(st) => st,
        Err(why) => {
            warn(&why);
            return Ok((fresh(), None));
        }
    };
    match Stream::from_snapshot(rs, opts.clone(), &st.snapshot) {
        Ok((stream, r)) => {
            if r.dropped > 0 {
                eprintln!(
                    "eqlite: state file {}: dropped the state of {} rule(s) removed or changed since it was written ({} partial matches and held events with it); {} rules kept their state",
                    path.display(),
                    r.dropped,
                    r.dropped_pending,
                    r.kept
                );
            }
            Ok((stream, Some(st)))
        }
        Err(e) => {
            warn(e.message());
            Ok((fresh(), None))
        }
    }
}

/// Writes the run's state to `path` (atomically: see [`state::write_atomic`]).
fn save(run: &mut Run, path: &Path) -> Result<(), String> {
    let bytes = run.state().to_bytes();
    state::write_atomic(path, &bytes).map_err(|e| format!("writing the state file {}: {e}", path.display()))
}
