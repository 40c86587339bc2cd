//! The progress bar of long scans: on a terminal only, and only once a scan has run for a second.

use super::inputs::{Counters, Source};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::Cell;
use std::time::{Duration, Instant};

pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
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
        Progress { bar, started: Instant::now(), shown: Cell::new(false) }
    }

    pub fn update(&self, counters: &Counters, events: u64, alerts: u64) {
        let Some(bar) = &self.bar else { return };
        if !self.shown.get() && self.started.elapsed() >= Duration::from_secs(1) {
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
