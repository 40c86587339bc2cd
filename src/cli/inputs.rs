//! Where `scan` reads events from: files, directories searched recursively, stdin; `.gz` and
//! `.zst` decompressed, told by their first bytes rather than their names.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One input: a file, or stdin (`-`).
#[derive(Clone, Debug)]
pub struct Source {
    /// As alerts name it: the path as given or found, `-` for stdin.
    pub name: String,
    pub path: Option<PathBuf>,
    /// Bytes on disk (0 for stdin), for the progress bar.
    pub size: u64,
}

/// Names a directory search takes: event files, compressed or not.
fn is_event_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let name = name.strip_suffix(".gz").or_else(|| name.strip_suffix(".zst")).unwrap_or(name);
    [".json", ".ndjson", ".jsonl", ".log"].iter().any(|x| name.ends_with(x))
}

/// The sources the command line names, in order: a directory contributes its event files in path
/// order; nothing at all means stdin.
pub fn expand(args: &[PathBuf]) -> Result<Vec<Source>, String> {
    if args.is_empty() {
        return Ok(vec![Source { name: "-".into(), path: None, size: 0 }]);
    }
    let mut out = Vec::new();
    for a in args {
        if a.as_os_str() == "-" {
            out.push(Source { name: "-".into(), path: None, size: 0 });
            continue;
        }
        let files = eqlite::files_under(a, is_event_file).map_err(|e| e.message().to_string())?;
        if files.is_empty() {
            return Err(format!(
                "{}: no .json, .ndjson, .jsonl or .log files (or .gz, .zst of them) below it",
                a.display()
            ));
        }
        for p in files {
            let size = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
            out.push(Source { name: p.display().to_string(), path: Some(p), size });
        }
    }
    Ok(out)
}

/// Counts the bytes read through it (for the summary and the progress bar).
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Byte counters of a run: as stored (compressed) and as read (decompressed).
#[derive(Clone, Default)]
pub struct Counters {
    pub stored: Arc<AtomicU64>,
    pub read: Arc<AtomicU64>,
}

impl Counters {
    pub fn stored(&self) -> u64 {
        self.stored.load(Ordering::Relaxed)
    }
    pub fn read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }
}

const GZIP: &[u8] = &[0x1f, 0x8b];
const ZSTD: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// Opens a source, decompressing gzip (several members, as `cat a.gz b.gz` makes) and zstd by
/// their magic bytes.
pub fn open(src: &Source, counters: &Counters) -> Result<Box<dyn Read>, String> {
    let raw: Box<dyn Read> = match &src.path {
        Some(p) => Box::new(std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => Box::new(std::io::stdin()),
    };
    let mut r = BufReader::with_capacity(1 << 16, Counted { inner: raw, count: counters.stored.clone() });
    let head = r.fill_buf().map_err(|e| format!("{}: {e}", src.name))?;
    let decoded: Box<dyn Read> = if head.starts_with(GZIP) {
        Box::new(flate2::bufread::MultiGzDecoder::new(r))
    } else if head.starts_with(ZSTD) {
        Box::new(ruzstd::decoding::StreamingDecoder::new(r).map_err(|e| format!("{}: zstd: {e}", src.name))?)
    } else {
        Box::new(r)
    };
    Ok(Box::new(Counted { inner: decoded, count: counters.read.clone() }))
}
