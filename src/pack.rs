//! Rule packs: detection-rules TOML files as data, before they are compiled — the kubelet pack
//! embedded in the library, files embedded by a shell at build time, or a directory read at run
//! time. [`crate::RuleSet::load`] compiles a pack and reports what it did in a [`LoadReport`].

use crate::error::{Error, ErrorKind};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// The embedded kubelet rule pack: (file name, TOML text), from `rules/*.toml` at build time.
const KUBELET_PACK: &[(&str, &str)] = &include!(concat!(env!("OUT_DIR"), "/kubelet_pack.rs"));

/// One rule file: where it came from and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleFile {
    /// A path or name, used in messages.
    pub origin: String,
    /// The TOML text.
    pub text: Cow<'static, str>,
}

/// A set of rule files, and the files that could not be read.
///
/// ```
/// use eqlite::{Pack, RuleSet};
///
/// let pack = Pack::from_texts([(
///     "mine.toml".to_string(),
///     "[rule]\nrule_id = \"r1\"\nname = \"Curl\"\nlanguage = \"eql\"\ntype = \"eql\"\nseverity = \"low\"\n\
///      query = 'process where process.name == \"curl\"'\n"
///         .to_string(),
/// )]);
/// let mut rules = RuleSet::default();
/// let report = rules.load(&pack);
/// assert_eq!(report.loaded, ["r1"]);
/// assert!(rules.load(&Pack::kubelet()).is_ok());
/// assert_eq!(rules.len(), 21);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Pack {
    files: Vec<RuleFile>,
    unreadable: Vec<Error>,
}

impl Pack {
    /// The Kubernetes kubelet / node-API rules of Elastic's detection-rules, embedded in the
    /// library (`rules/`, Elastic License 2.0).
    pub fn kubelet() -> Pack {
        Pack::embedded(KUBELET_PACK, "rules/")
    }

    /// Files embedded at build time, as `(file name, text)`; `prefix` goes before each name in
    /// messages.
    pub fn embedded(files: &[(&'static str, &'static str)], prefix: &str) -> Pack {
        let files = files
            .iter()
            .map(|(name, text)| RuleFile { origin: format!("{prefix}{name}"), text: Cow::Borrowed(*text) })
            .collect();
        Pack { files, unreadable: vec![] }
    }

    /// Rule files given as (origin, text).
    pub fn from_texts(files: impl IntoIterator<Item = (String, String)>) -> Pack {
        let files = files.into_iter().map(|(origin, text)| RuleFile { origin, text: Cow::Owned(text) }).collect();
        Pack { files, unreadable: vec![] }
    }

    /// Reads a rule file, or every `*.toml` file under a directory (recursively, in path order).
    /// A path that cannot be listed is an error; a file below it that cannot be read is recorded
    /// and reported when the pack is loaded, and the others still load.
    pub fn read(path: &Path) -> Result<Pack, Error> {
        let mut pack = Pack::default();
        for f in toml_files(path)? {
            let origin = f.display().to_string();
            match std::fs::read_to_string(&f) {
                Ok(text) => pack.files.push(RuleFile { origin, text: Cow::Owned(text) }),
                Err(e) => pack.unreadable.push(Error::bare(ErrorKind::Io, format!("{origin}: {e}"))),
            }
        }
        Ok(pack)
    }

    /// Adds the files of another pack after this one's.
    pub fn extend(&mut self, other: Pack) {
        self.files.extend(other.files);
        self.unreadable.extend(other.unreadable);
    }

    /// The readable files, in order.
    pub fn files(&self) -> &[RuleFile] {
        &self.files
    }

    /// Files that were found but could not be read.
    pub fn unreadable(&self) -> &[Error] {
        &self.unreadable
    }

    /// Number of rule files found, readable or not.
    pub fn len(&self) -> usize {
        self.files.len() + self.unreadable.len()
    }

    /// Whether the pack has no files at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A valid rule file whose rule was not loaded because eqlite does not run its language or type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The file.
    pub origin: String,
    /// The rule's `rule_id`.
    pub rule_id: String,
    /// The rule's name.
    pub name: String,
    /// Why it was skipped (for example "a KQL (kuery) rule, not EQL").
    pub reason: String,
}

/// What loading a pack did: rules loaded, skipped and in error; each error says its file and
/// position, and the other files still loaded.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    /// Rule files seen.
    pub files: usize,
    /// The ids of the rules added, in order.
    pub loaded: Vec<String>,
    /// Valid rules of another language or type.
    pub skipped: Vec<Skipped>,
    /// Files that could not be read, parsed or compiled.
    pub errors: Vec<Error>,
}

impl LoadReport {
    /// Whether every file loaded or was skipped for a stated reason.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// The rule files a path names: the path itself if it is a file, else every `*.toml` below it
/// but case files (`*.tests.toml`, see [`crate::testing`]), in path order. The error names the
/// path that could not be read.
pub fn toml_files(path: &Path) -> Result<Vec<PathBuf>, Error> {
    files_under(path, |p| p.extension().is_some_and(|x| x == "toml") && !is_case_file(&p.to_string_lossy()))
}

/// The case files (`*.tests.toml`) a path names: the path itself if it is a file, else every one
/// below it, in path order.
pub fn case_files(path: &Path) -> Result<Vec<PathBuf>, Error> {
    files_under(path, |p| is_case_file(&p.to_string_lossy()))
}

/// Whether a path names a case file (`*.tests.toml`, see [`crate::testing`]), not a rule file.
pub fn is_case_file(name: &str) -> bool {
    name.ends_with(".tests.toml")
}

/// The files a path names: the path itself if it is a file, else every file below it (searched
/// recursively) that `accept` takes, in path order. The error names the path that could not be
/// read.
pub fn files_under(path: &Path, accept: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>, Error> {
    fn walk(path: &Path, accept: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) -> Result<(), Error> {
        let io = |e: std::io::Error| Error::bare(ErrorKind::Io, format!("{}: {e}", path.display()));
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.is_file() {
            out.push(path.to_path_buf());
            return Ok(());
        }
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(path).map_err(io)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, accept, out)?;
            } else if accept(&p) {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(path, &accept, &mut out)?;
    Ok(out)
}
