//! The progress bar of long scans: on a terminal only, and only once a scan has run for a second
//! (`EQLITE_PROGRESS_DELAY_MS` changes the delay; the terminal tests set it to 0).

use super::inputs::{Counters, Source};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::{Cell, RefCell};
use std::io::Write;
use std::rc::Rc;
use std::time::{Duration, Instant};

pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    delay: Duration,
    shown: Cell<bool>,
}

impl Progress {
    /// A bar over the bytes of `sources` (a spinner when one is stdin), drawn on stderr.
    pub fn new(enabled: bool, sources: &[Source]) -> Progress {
        let bar = enabled.then(|| {
            let known = sources.iter().all(|s| s.path.is_some());
            let bar = if known {
                let b = ProgressBar::with_draw_target(
                    Some(sources.iter().map(|s| s.size).sum()),
                    ProgressDrawTarget::hidden(),
                );
                b.set_style(
                    ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}")
                        .expect("a valid template"),
                );
                b
            } else {
                let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
                b.set_style(
                    ProgressStyle::with_template("{spinner} {bytes} {bytes_per_sec} {msg}").expect("a valid template"),
                );
                b
            };
            bar
        });
        let delay = std::env::var("EQLITE_PROGRESS_DELAY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
        Progress { bar, started: Instant::now(), delay: Duration::from_millis(delay), shown: Cell::new(false) }
    }

    pub fn enabled(&self) -> bool {
        self.bar.is_some()
    }

    /// Writes what `pending` holds to stdout, the bar cleared meanwhile.
    pub fn print(&self, pending: &Pending) -> std::io::Result<()> {
        let bytes = std::mem::take(&mut *pending.0.borrow_mut());
        if bytes.is_empty() {
            return Ok(());
        }
        let write = || {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes).and_then(|_| out.flush())
        };
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    pub fn update(&self, counters: &Counters, events: u64, alerts: u64) {
        let Some(bar) = &self.bar else { return };
        if !self.shown.get() && self.started.elapsed() >= self.delay {
            self.shown.set(true);
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
        bar.set_position(counters.stored());
        bar.set_message(format!("{events} events, {alerts} alerts"));
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Output held back until the bar can make way for it.
#[derive(Clone, Default)]
pub struct Pending(Rc<RefCell<Vec<u8>>>);

impl Write for Pending {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
