//! `eqlite scan`: events in, one JSON line per alert out.

use super::{for_each_event, interactive, load, parse_duration};
use crate::ScanArgs;
use eqlite::Alert;
use eqlite::{Stream, StreamOptions};
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

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
    let opts = StreamOptions {
        lateness_ms: parse_duration(&args.lateness)?,
        max_pending: args.max_pending,
        whole_input: super::is_file(args.input.as_deref()),
        sort_memory: args.sort_memory.max(1),
        ..StreamOptions::default()
    };
    let mut stream = Stream::new(&rs, opts);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let (mut pos, mut alerts) = (0u64, 0u64);
    let mut write_error = None;
    let mut emit = |list: Vec<Alert>, alerts: &mut u64| {
        for a in list {
            *alerts += 1;
            if write_error.is_none() {
                if let Err(e) =
                    serde_json::to_writer(&mut out, &a).map_err(std::io::Error::from).and_then(|_| out.write_all(b"\n"))
                {
                    write_error = Some(e);
                }
            }
        }
    };
    let progress = interactive();
    let started = Instant::now();
    let mut next_report = started + Duration::from_secs(1);
    let bad = for_each_event(args.input.as_deref(), &rs, |_, ev| {
        if let Some(ev) = ev {
            emit(stream.push(&rs, ev, pos), &mut alerts);
        }
        pos += 1;
        if progress && pos.is_multiple_of(4096) && Instant::now() >= next_report {
            next_report += Duration::from_millis(500);
            let rate = pos as f64 / started.elapsed().as_secs_f64();
            eprint!("\r{pos} events, {alerts} alerts, {rate:.0} events/s ");
        }
    })?;
    emit(stream.flush(&rs), &mut alerts);
    if progress && started.elapsed() > Duration::from_secs(1) {
        eprintln!();
    }
    match out.flush().err().or(write_error) {
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Some(e) => return Err(format!("writing alerts: {e}")),
        None => {}
    }
    let st = stream.stats();
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
    Ok(if bad > 0 {
        eprintln!("eqlite: {bad} of {pos} input items were invalid and skipped");
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
