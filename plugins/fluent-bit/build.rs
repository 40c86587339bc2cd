//! 1. On wasm32-wasip1, export wasi-libc's `malloc` and `free` (defining them in Rust there is a
//!    duplicate symbol), so that Fluent Bit's WAMR copies records with them rather than into its
//!    8 KiB default app heap. (`.cargo/config.toml` in this directory is not read when building from
//!    the workspace root, hence a build script.) Without debug info, strip the symbol names too.
//! 2. Embed the rules (the kubelet pack, or the TOML files of `EQLITE_FLUENT_BIT_RULES`) with their
//!    queries already parsed: the EQL parser recurses deeply (about 38 KiB of WAMR's interpreter
//!    stack for the kubelet pack), far beyond Fluent Bit's default `wasm_stack_size` of 8 KiB, so
//!    the parse runs here, natively, and the module gets each query's syntax tree as Rust code that
//!    builds it without recursion. Only the rule TOML is read at run time, and the trees compiled.

use eqlite::ast::*;
use eqlite::Span;
use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if arch == "wasm32" && os == "wasi" {
        println!("cargo:rustc-cdylib-link-arg=--export=malloc");
        println!("cargo:rustc-cdylib-link-arg=--export=free");
    }
    // Without debug info (the `wasm` profiles), also drop the name section: about 200 KB.
    if arch == "wasm32" && std::env::var("DEBUG").as_deref() == Ok("false") {
        println!("cargo:rustc-cdylib-link-arg=--strip-all");
    }

    println!("cargo:rerun-if-env-changed=EQLITE_FLUENT_BIT_RULES");
    // (file name, Rust expression for its TOML text, the text)
    let mut files: Vec<(String, String, String)> = vec![];
    if let Some(dir) = std::env::var_os("EQLITE_FLUENT_BIT_RULES").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("EQLITE_FLUENT_BIT_RULES={}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            // Case files (`*.tests.toml`) are tests of the rules, not rules.
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && !p.to_string_lossy().ends_with(".tests.toml"))
            .collect();
        paths.sort();
        assert!(!paths.is_empty(), "EQLITE_FLUENT_BIT_RULES={}: no *.toml rule files", dir.display());
        for f in paths {
            println!("cargo:rerun-if-changed={}", f.display());
            let abs = std::fs::canonicalize(&f).expect("a rule file path");
            let text = std::fs::read_to_string(&abs).unwrap_or_else(|e| panic!("{}: {e}", abs.display()));
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            files.push((name, format!("include_str!({:?})", abs.display().to_string()), text));
        }
    } else {
        // The kubelet pack, from the repository's rules/ (what eqlite::Pack::kubelet embeds).
        let rules = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap()).join("../../rules");
        println!("cargo:rerun-if-changed={}", rules.display());
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&rules)
            .unwrap_or_else(|e| panic!("{}: {e}", rules.display()))
            .map(|e| e.expect("a directory entry").path())
            // Case files (`*.tests.toml`) are tests of the rules, not rules.
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && !p.to_string_lossy().ends_with(".tests.toml"))
            .collect();
        paths.sort();
        for f in paths {
            println!("cargo:rerun-if-changed={}", f.display());
            let abs = std::fs::canonicalize(&f).expect("a rule file path");
            let text = std::fs::read_to_string(&abs).unwrap_or_else(|e| panic!("{}: {e}", abs.display()));
            let name = format!("rules/{}", f.file_name().unwrap().to_string_lossy());
            files.push((name, format!("include_str!({:?})", abs.display().to_string()), text));
        }
    }

    let mut code = String::from("&[\n");
    let mut builders = String::new();
    for (i, (name, text_expr, text)) in files.iter().enumerate() {
        // A file that does not load here is reported by the module as it would have been at run time.
        let query = match eqlite::parse_rule_toml(text, name) {
            Ok(eqlite::Loaded::Rule(r)) => eqlite::parse_rule_query(&r).map(Some).map_err(|_| {
                // The message, positioned in the file, that loading it at run time would give.
                let e = eqlite::RuleSet::default().add_toml(text, name).err();
                e.map_or_else(String::new, |e| e.message().to_string())
            }),
            Ok(_) => Ok(None),
            Err(d) => Err(d.message().to_string()),
        };
        let parsed = match query {
            Ok(Some(q)) => {
                writeln!(builders, "fn query_{i}() -> Query {{ {} }}", query_code(&q)).unwrap();
                format!("Parsed::Query(query_{i})")
            }
            Ok(None) => "Parsed::NotEql".to_string(),
            Err(message) => format!("Parsed::Error({message:?})"),
        };
        writeln!(code, "    Embedded {{ file: {name:?}, toml: {text_expr}, query: {parsed} }},").unwrap();
    }
    code.push_str("]\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    std::fs::write(out.join("built_in_rules.rs"), code).unwrap();
    std::fs::write(out.join("built_in_queries.rs"), builders).unwrap();
}

// Rust source that builds a syntax tree. Every match is exhaustive, so a change of the tree's
// types fails this build instead of embedding a wrong tree (and `tests` compare each embedded
// tree with the parser's).

fn span(s: Span) -> String {
    format!("Span::new({}, {})", s.start, s.end)
}

fn list<T>(items: &[T], f: fn(&T) -> String) -> String {
    format!("vec![{}]", items.iter().map(f).collect::<Vec<_>>().join(", "))
}

fn string(s: &str) -> String {
    format!("String::from({s:?})")
}

fn query_code(q: &Query) -> String {
    let body = match &q.body {
        QueryBody::Event(e) => format!("QueryBody::Event({})", event_query(e)),
        QueryBody::Sequence(s) => format!(
            "QueryBody::Sequence(Sequence {{ by: {}, maxspan: {}, stages: {}, until: {}, span: {} }})",
            list(&s.by, field),
            s.maxspan.map_or("None".into(), |d| format!("Some({})", duration(&d))),
            list(&s.stages, stage),
            s.until.as_ref().map_or("None".into(), |st| format!("Some({})", stage(st))),
            span(s.span)
        ),
        QueryBody::Sample(s) => format!(
            "QueryBody::Sample(Sample {{ by: {}, stages: {}, span: {} }})",
            list(&s.by, field),
            list(&s.stages, stage),
            span(s.span)
        ),
    };
    format!("Query {{ body: {body}, pipes: {}, span: {} }}", list(&q.pipes, pipe), span(q.span))
}

fn pipe(p: &Pipe) -> String {
    match p {
        Pipe::Head(n, s) => format!("Pipe::Head({n}, {})", span(*s)),
        Pipe::Tail(n, s) => format!("Pipe::Tail({n}, {})", span(*s)),
    }
}

fn duration(d: &Duration) -> String {
    format!("Duration {{ millis: {}, span: {} }}", d.millis, span(d.span))
}

fn stage(s: &Stage) -> String {
    format!(
        "Stage {{ query: {}, by: {}, runs: {}, missing: {}, span: {} }}",
        event_query(&s.query),
        list(&s.by, field),
        s.runs,
        s.missing,
        span(s.span)
    )
}

fn event_query(e: &EventQuery) -> String {
    let category = match &e.category {
        Category::Any(s) => format!("Category::Any({})", span(*s)),
        Category::Named(c, s) => format!("Category::Named({}, {})", string(c), span(*s)),
    };
    format!("EventQuery {{ category: {category}, condition: {}, span: {} }}", expr(&e.condition), span(e.span))
}

fn field(f: &Field) -> String {
    let path: Vec<String> = f.path.iter().map(|p| string(p)).collect();
    format!("Field {{ path: vec![{}], optional: {}, span: {} }}", path.join(", "), f.optional, span(f.span))
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Null => "Literal::Null".into(),
        Literal::Bool(b) => format!("Literal::Bool({b})"),
        Literal::Int(i) => format!("Literal::Int({i}_i64)").replace("-9223372036854775808_i64", "i64::MIN"),
        Literal::Float(f) => format!("Literal::Float(f64::from_bits({:#x}))", f.to_bits()),
        Literal::Str(s) => format!("Literal::Str({})", string(s)),
    }
}

fn boxed(e: &Expr) -> String {
    format!("Box::new({})", expr(e))
}

fn expr(e: &Expr) -> String {
    let kind = match &e.kind {
        ExprKind::Literal(l) => format!("ExprKind::Literal({})", literal(l)),
        ExprKind::Field(f) => format!("ExprKind::Field({})", field(f)),
        ExprKind::And(v) => format!("ExprKind::And({})", list(v, expr)),
        ExprKind::Or(v) => format!("ExprKind::Or({})", list(v, expr)),
        ExprKind::Not(x) => format!("ExprKind::Not({})", boxed(x)),
        ExprKind::MustNot(x) => format!("ExprKind::MustNot({})", boxed(x)),
        ExprKind::Kql { field: f, value, value_span } => {
            let value = match value {
                KqlValue::Exists => "KqlValue::Exists".to_string(),
                KqlValue::Term { text, quoted } => format!("KqlValue::Term {{ text: {}, quoted: {quoted} }}", string(text)),
                KqlValue::Wildcard(pieces) => {
                    let pieces: Vec<String> = pieces.iter().map(|p| string(p)).collect();
                    format!("KqlValue::Wildcard(vec![{}])", pieces.join(", "))
                }
            };
            format!("ExprKind::Kql {{ field: {}, value: {value}, value_span: {} }}", field(f), span(*value_span))
        }
        ExprKind::Compare(op, a, b) => format!("ExprKind::Compare(CompareOp::{op:?}, {}, {})", boxed(a), boxed(b)),
        ExprKind::Arith(op, a, b) => format!("ExprKind::Arith(ArithOp::{op:?}, {}, {})", boxed(a), boxed(b)),
        ExprKind::Neg(x) => format!("ExprKind::Neg({})", boxed(x)),
        ExprKind::In { value, list: items, negated, insensitive } => format!(
            "ExprKind::In {{ value: {}, list: {}, negated: {negated}, insensitive: {insensitive} }}",
            boxed(value),
            list(items, expr)
        ),
        ExprKind::Match { op, value, patterns } => {
            let op = match op {
                MatchOp::Colon => "MatchOp::Colon".to_string(),
                MatchOp::Like { insensitive } => format!("MatchOp::Like {{ insensitive: {insensitive} }}"),
                MatchOp::Regex { insensitive } => format!("MatchOp::Regex {{ insensitive: {insensitive} }}"),
            };
            let lit = |l: &Lit| format!("Lit {{ value: {}, span: {} }}", literal(&l.value), span(l.span));
            let patterns: Vec<String> = patterns.iter().map(lit).collect();
            format!("ExprKind::Match {{ op: {op}, value: {}, patterns: vec![{}] }}", boxed(value), patterns.join(", "))
        }
        ExprKind::Call { function, insensitive, args, name_span } => format!(
            "ExprKind::Call {{ function: Function::{function:?}, insensitive: {insensitive}, args: {}, name_span: {} }}",
            list(args, expr),
            span(*name_span)
        ),
    };
    format!("Expr {{ kind: {kind}, span: {} }}", span(e.span))
}
