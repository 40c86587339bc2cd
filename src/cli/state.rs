//! `scan --state FILE`: a stream's state kept across runs.
//!
//! The file holds the core's [`Stream::snapshot`](eqlite::Stream::snapshot) (versioned and
//! checksummed on its own) and, beside it, where the events the state still holds came from
//! (file, line, and the JSON text when the output format needs it), so that an alert completed
//! in a later run names its earlier events as an uninterrupted run would.
//!
//! Layout: `EQLC`, the format version (u16, LE), the body's length (u64, LE), the body
//! ([postcard]: the snapshot's bytes, the source names, the held events), then an FNV-1a-64
//! checksum of the body (u64, LE). It is written to `FILE.tmp` in the same directory, synced,
//! then renamed over `FILE`: a crash leaves either the old state or the new one, never half.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 4] = b"EQLC";
/// The state-file format this build writes and reads.
pub const VERSION: u16 = 1;
const HEADER: usize = 4 + 2 + 8;
const TRAILER: usize = 8;

/// An event the stream still holds, from an earlier run: where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeldEvent {
    pub pos: u64,
    /// Index into [`State::names`].
    pub name: u32,
    pub line: u64,
    pub text: Option<String>,
}

/// What a state file holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The core's stream snapshot.
    pub snapshot: Vec<u8>,
    /// Names of the inputs the held events came from.
    pub names: Vec<String>,
    pub held: Vec<HeldEvent>,
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl State {
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain data into a Vec cannot fail.
        let body = postcard::to_allocvec(self).unwrap_or_default();
        let mut out = Vec::with_capacity(HEADER + body.len() + TRAILER);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(&fnv1a(&body).to_le_bytes());
        out
    }

    /// The state in `bytes`, or why it cannot be read (truncated, corrupt, another version).
    pub fn from_bytes(bytes: &[u8]) -> Result<State, String> {
        if bytes.len() < HEADER || &bytes[..4] != MAGIC {
            return Err(format!("not an eqlite state file ({} bytes, no `EQLC` header)", bytes.len()));
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != VERSION {
            return Err(format!("state file format version {version}; this eqlite reads version {VERSION}"));
        }
        let mut len = [0; 8];
        len.copy_from_slice(&bytes[6..HEADER]);
        let len = u64::from_le_bytes(len);
        let whole = len.saturating_add((HEADER + TRAILER) as u64);
        if (bytes.len() as u64) < whole {
            return Err(format!("truncated: {} of {whole} bytes", bytes.len()));
        }
        if bytes.len() as u64 > whole {
            return Err(format!("{} bytes after its end", bytes.len() as u64 - whole));
        }
        let body = &bytes[HEADER..HEADER + len as usize];
        let mut sum = [0; 8];
        sum.copy_from_slice(&bytes[HEADER + len as usize..]);
        if u64::from_le_bytes(sum) != fnv1a(body) {
            return Err("checksum mismatch (the file is corrupt)".into());
        }
        match postcard::take_from_bytes::<State>(body) {
            Ok((s, [])) if s.held.iter().all(|h| (h.name as usize) < s.names.len()) => Ok(s),
            Ok((_, [])) => Err("a held event names an input the file does not list".into()),
            Ok((_, rest)) => Err(format!("{} unread bytes in its body", rest.len())),
            Err(e) => Err(format!("its body does not decode: {e}")),
        }
    }
}

/// `FILE.tmp`, beside `FILE` (the rename that replaces `FILE` must stay on one file system).
fn temporary(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes `bytes` to `path` atomically: to `FILE.tmp`, synced, then renamed over `FILE` (and the
/// directory synced, where the platform allows, so that the rename itself survives a crash).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temporary(path);
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    // Opening a directory to sync it works on Unix; elsewhere this is best effort.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_truncation_is_an_error() {
        let s = State {
            snapshot: vec![1, 2, 3],
            names: vec!["-".into(), "a.log".into()],
            held: vec![HeldEvent { pos: 7, name: 1, line: 3, text: Some("{}".into()) }],
        };
        let bytes = s.to_bytes();
        assert_eq!(State::from_bytes(&bytes).unwrap(), s);
        for n in 0..bytes.len() {
            let e = State::from_bytes(&bytes[..n]).unwrap_err();
            assert!(e.contains("truncated") || e.contains("header"), "{n}: {e}");
        }
        let mut bad = bytes.clone();
        bad[HEADER] ^= 1;
        assert!(State::from_bytes(&bad).unwrap_err().contains("checksum"));
        let mut more = bytes;
        more.push(0);
        assert!(State::from_bytes(&more).unwrap_err().contains("after its end"));
    }
}
