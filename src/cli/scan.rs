//! `eqlite scan`: events in (files, directories, stdin, compressed or not), alerts out.
//!
//! Events are taken in batches: each batch is parsed and matched against every rule's event
//! queries on `-j` threads, then fed in input order to one [`Stream`], which keeps sequence and
//! sample state. The alerts are thus the same, in the same order, whatever `-j` is.

use super::inputs::{self, Counters, Source};
use super::output::{Format, Member, Output};
use super::{interactive, load, parse_duration};
use crate::ScanArgs;
use eqlite::input::SplitOptions;
use eqlite::{Alert, EcsContext, Event, RuleKind, RuleSet};
use eqlite::{Stream, StreamOptions};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::ops::Range;
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
                    // Alerts that may come after this batch (sequences, samples, and every rule of a
                    // whole input, which is ordered first) need the event's place kept.
                    if self.whole || m.iter().any(|&(i, _)| self.rs.kind(i) != Some(RuleKind::Event)) {
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
        let mut live = std::collections::HashSet::new();
        self.stream.held_positions(|p| {
            live.insert(p);
        });
        self.held.retain(|p, _| live.contains(p));
        self.prune_at = (2 * self.held.len()).max(batch_items());
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
                        return Member {
                            file: &self.sources[h.file as usize].name,
                            line: h.line,
                            text: h.text.as_deref(),
                        };
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

/// Reads every source into batches, calling `f` on each full one (and the last). An unreadable
/// or corrupt source is reported and the others are still read.
fn read_sources(sources: &[Source], options: &SplitOptions, counters: &Counters, mut f: impl FnMut(&mut Batch)) -> u64 {
    let mut batch = Batch::default();
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
                if batch.text.len() >= BATCH_BYTES || batch.items.len() >= most {
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
    let whole_input = sources.iter().all(|s| super::is_file(s.path.as_deref()));
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
    let mut run = Run {
        rs: &rs,
        stream: Stream::new(&rs, opts),
        out: Output::new(format, args.with_events, colour, w, cx),
        sources: &sources,
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
    let counters = Counters::default();
    let started = Instant::now();
    let unreadable = read_sources(&sources, &split, &counters, |batch| {
        run.batch(batch, jobs);
        batch.base += batch.items.len() as u64;
        batch.items.clear();
        batch.text.clear();
        if let Err(e) = run.out.flush().and_then(|_| progress.print(&held_back)) {
            run.write_error.get_or_insert(e);
        }
        progress.update(&counters, run.totals.events, run.totals.alerts);
    });
    let tail = run.stream.flush(&rs);
    run.emit(tail, None);
    progress.finish();
    let flushed = run.out.flush().and_then(|_| progress.print(&held_back));
    match flushed.err().or(run.write_error.take()) {
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Some(e) => return Err(format!("writing alerts: {e}")),
        None => {}
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
