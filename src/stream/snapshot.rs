//! Snapshots of a stream's state, to survive a restart: a versioned binary form of everything a
//! [`Stream`] holds (pending partial matches per join key, sample state, reorder buffers, `head`
//! and `tail` pipes, counters), each rule's state tagged with its id and a fingerprint of its
//! query, so that a restore into a changed rule set keeps only what still means the same.
//!
//! Layout: `EQLS`, the format version (u16, little-endian), the body's length (u64, LE), the body
//! ([postcard](https://docs.rs/postcard)), then an FNV-1a-64 checksum of the body (u64, LE). The
//! length and checksum turn truncation and corruption into a clear error rather than a state that
//! happens to decode.

use super::{fits, fresh_state, pending_of, RuleState, ScratchCell, Stats, Stream, StreamOptions};
use crate::error::{Error, ErrorKind};
use crate::ruleset::{fnv1a, RuleSet};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

const MAGIC: &[u8; 4] = b"EQLS";
/// The snapshot format this build writes and reads; a snapshot of another version is refused.
pub const SNAPSHOT_VERSION: u16 = 1;
const HEADER: usize = 4 + 2 + 8;
const TRAILER: usize = 8;

/// What [`Stream::from_snapshot`] kept of a snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restored {
    /// Rules whose state was restored (same id, same query fingerprint).
    pub kept: usize,
    /// Rules of the snapshot whose state was dropped: no longer in the rule set, or changed.
    pub dropped: usize,
    /// Partial matches and events held for ordering that the dropped states held.
    pub dropped_pending: u64,
}

#[derive(Serialize, Deserialize)]
struct Body<'a> {
    /// The next input position the stream had not seen, so that a restarted shell numbers on.
    next_pos: u64,
    stats: Cow<'a, Stats>,
    rules: Vec<RuleSnap<'a>>,
}

#[derive(Serialize, Deserialize)]
struct RuleSnap<'a> {
    id: Cow<'a, str>,
    fingerprint: u64,
    state: Cow<'a, RuleState>,
}

/// A snapshot of `body`: the header before it, the checksum after it.
pub(crate) fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + body.len() + TRAILER);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&fnv1a(&[body]).to_le_bytes());
    out
}

fn invalid(message: impl std::fmt::Display) -> Error {
    Error::bare(ErrorKind::Snapshot, format!("invalid stream snapshot: {message}"))
}

impl Stream {
    /// The stream's whole state as a snapshot (see [`Stream::from_snapshot`]), for the rules of
    /// `rs` (the rule set it was pushed with).
    ///
    /// ```
    /// use eqlite::{RuleSet, Stream, StreamOptions};
    ///
    /// let mut rules = RuleSet::default();
    /// rules.add_query("r", "sequence by host.id [process where true] [network where true]")?;
    /// let opts = StreamOptions::default();
    /// let mut stream = Stream::new(&rules, opts.clone());
    /// let first = r#"{"@timestamp": 1, "event": {"category": "process"}, "host": {"id": "h1"}}"#;
    /// stream.push(&rules, &rules.read_json(first)?, 0);
    /// let bytes = stream.snapshot(&rules);
    ///
    /// // Another process, later: the pending match is still there.
    /// let (mut stream, restored) = Stream::from_snapshot(&rules, opts, &bytes)?;
    /// assert_eq!((restored.kept, restored.dropped), (1, 0));
    /// let second = r#"{"@timestamp": 2, "event": {"category": "network"}, "host": {"id": "h1"}}"#;
    /// let alerts = stream.push(&rules, &rules.read_json(second)?, stream.next_position());
    /// assert_eq!(alerts[0].events, [0, 1]);
    /// # Ok::<(), eqlite::Error>(())
    /// ```
    pub fn snapshot(&mut self, rs: &RuleSet) -> Vec<u8> {
        self.sync(rs);
        self.park();
        let rules = self
            .rules
            .iter()
            .zip(rs.fingerprints())
            .map(|((id, st), &fingerprint)| RuleSnap { id: Cow::Borrowed(id), fingerprint, state: Cow::Borrowed(st) })
            .collect();
        let body = Body { next_pos: self.next_pos, stats: Cow::Borrowed(&self.stats), rules };
        // Serialising plain data into a Vec cannot fail.
        frame(&postcard::to_allocvec(&body).unwrap_or_default())
    }

    /// A stream from a [`Stream::snapshot`], for the rules of `rs`: the state of each rule with
    /// the same id and query fingerprint as in the snapshot is kept, the rest is dropped (and
    /// counted in [`Restored`]); new rules start empty. The counters carry on.
    ///
    /// A snapshot that is truncated, corrupt, of another format version or not a snapshot at all
    /// is an error of kind [`ErrorKind::Snapshot`]; start from [`Stream::new`] then.
    pub fn from_snapshot(rs: &RuleSet, options: StreamOptions, bytes: &[u8]) -> Result<(Stream, Restored), Error> {
        if bytes.len() < HEADER || &bytes[..4] != MAGIC {
            return Err(invalid("it does not start with an eqlite snapshot header"));
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != SNAPSHOT_VERSION {
            return Err(invalid(format!("format version {version}; this eqlite reads version {SNAPSHOT_VERSION}")));
        }
        let mut len = [0; 8];
        len.copy_from_slice(&bytes[6..HEADER]);
        let len = u64::from_le_bytes(len);
        let have = (bytes.len() - HEADER) as u64;
        if have < len.saturating_add(TRAILER as u64) {
            return Err(invalid(format!(
                "truncated: {} of {} bytes",
                bytes.len(),
                len.saturating_add((HEADER + TRAILER) as u64)
            )));
        }
        if have > len + TRAILER as u64 {
            return Err(invalid(format!("{} bytes after its end", have - len - TRAILER as u64)));
        }
        let body = &bytes[HEADER..HEADER + len as usize];
        let mut sum = [0; 8];
        sum.copy_from_slice(&bytes[HEADER + len as usize..]);
        if u64::from_le_bytes(sum) != fnv1a(&[body]) {
            return Err(invalid("checksum mismatch (the snapshot is corrupt)"));
        }
        let body: Body = match postcard::take_from_bytes(body) {
            Ok((b, [])) => b,
            Ok((_, rest)) => return Err(invalid(format!("{} unread bytes in its body", rest.len()))),
            Err(e) => return Err(invalid(e)),
        };
        let mut old: FxHashMap<String, (u64, RuleState)> =
            body.rules.into_iter().map(|r| (r.id.into_owned(), (r.fingerprint, r.state.into_owned()))).collect();
        let mut restored = Restored::default();
        let rules = rs
            .compiled()
            .iter()
            .zip(rs.fingerprints())
            .map(|(r, &fingerprint)| {
                let kept = old
                    .remove(&r.rule.id)
                    .and_then(|(fp, st)| {
                        if fp == fingerprint && fits(&st, r) {
                            Some(st)
                        } else {
                            restored.dropped += 1;
                            restored.dropped_pending += pending_of(&st);
                            None
                        }
                    })
                    .inspect(|_| restored.kept += 1);
                (r.rule.id.clone(), kept.unwrap_or_else(|| fresh_state(r)))
            })
            .collect();
        restored.dropped += old.len();
        restored.dropped_pending += old.values().map(|(_, st)| pending_of(st)).sum::<u64>();
        let stream = Stream {
            options,
            rules,
            stats: body.stats.into_owned(),
            scratch: ScratchCell::default(),
            synced: Some(rs.revision()),
            next_pos: body.next_pos,
        };
        Ok((stream, restored))
    }
}
