//! A quick pass over the raw text before the grammar runs. It finds the mistakes a recursive-descent
//! parser reports badly (an unterminated string or comment, unbalanced brackets) and bounds the
//! bracket nesting, so that hostile input cannot exhaust the stack inside the parser.

use super::Limits;
use crate::error::Error;
use crate::span::Span;

pub fn prescan(src: &str, limits: &Limits) -> Result<(), Error> {
    let b = src.as_bytes();
    let err = |start: usize, end: usize, msg: String| Err(Error::parse(src, Span::new(start, end), msg));
    let limit = |start: usize, end: usize, msg: String| Err(Error::limit(src, Span::new(start, end), msg));
    let line_end = |from: usize| b[from..].iter().position(|&c| c == b'\n' || c == b'\r').map_or(b.len(), |p| from + p);
    let mut open: Vec<(u8, usize)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' if b[i..].starts_with(b"\"\"\"") => {
                // Raw string: ends at the last `"""` of a run of quotes on the same line.
                let end = line_end(i + 3);
                match src[i + 3..end].find("\"\"\"") {
                    Some(p) => {
                        let mut close = i + 3 + p;
                        while b.get(close + 3) == Some(&b'"') {
                            close += 1;
                        }
                        i = close + 3;
                    }
                    None => {
                        return err(
                            i,
                            end,
                            "unterminated raw string: `\"\"\"` strings end with `\"\"\"` on the same line".into(),
                        )
                    }
                }
            }
            b'"' => {
                let mut j = i + 1;
                loop {
                    match b.get(j) {
                        None | Some(b'\n') | Some(b'\r') => {
                            return err(
                                i,
                                j,
                                "unterminated string: a `\"` is missing before the end of the line".into(),
                            );
                        }
                        Some(b'\\') => j += 2,
                        Some(b'"') => break,
                        _ => j += 1,
                    }
                }
                i = j + 1;
            }
            b'\'' => {
                // Not valid Elasticsearch EQL, but skip it so that its contents are not counted;
                // the grammar reports it by name.
                let end = line_end(i + 1);
                i = src[i + 1..end].find('\'').map_or(end, |p| i + 1 + p + 1);
            }
            b'`' => {
                let mut j = i + 1;
                loop {
                    match b.get(j) {
                        None => {
                            return err(i, b.len(), "unterminated backquoted field name: a closing ` is missing".into())
                        }
                        Some(b'`') if b.get(j + 1) == Some(&b'`') => j += 2,
                        Some(b'`') => break,
                        _ => j += 1,
                    }
                }
                i = j + 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => i = line_end(i),
            b'/' if b.get(i + 1) == Some(&b'*') => {
                // Block comments nest, as in Elasticsearch.
                let start = i;
                let mut depth = 0usize;
                loop {
                    if i >= b.len() {
                        return err(start, start + 2, "unterminated comment: `/*` has no matching `*/`".into());
                    } else if b[i..].starts_with(b"/*") {
                        depth += 1;
                        if depth > limits.max_depth {
                            return limit(
                                i,
                                i + 2,
                                format!("comments nested more than {} levels deep", limits.max_depth),
                            );
                        }
                        i += 2;
                    } else if b[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            c @ (b'(' | b'[') => {
                open.push((c, i));
                if open.len() > limits.max_depth {
                    return limit(
                        i,
                        i + 1,
                        format!("the query nests brackets more than {} levels deep", limits.max_depth),
                    );
                }
                i += 1;
            }
            c @ (b')' | b']') => {
                let want = if c == b')' { b'(' } else { b'[' };
                match open.pop() {
                    Some((o, _)) if o == want => {}
                    Some((o, at)) => {
                        let (oc, cc) = (o as char, if o == b'(' { ')' } else { ']' });
                        let lc = crate::span::SourceMap::new(src).line_col(at);
                        return err(
                            i,
                            i + 1,
                            format!(
                                "`{}` does not match the `{oc}` at {}:{}; expected `{cc}`",
                                c as char, lc.line, lc.column
                            ),
                        );
                    }
                    None => {
                        return err(
                            i,
                            i + 1,
                            format!("unbalanced `{}`: there is no `{}` to close", c as char, want as char),
                        )
                    }
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    if let Some((o, at)) = open.pop() {
        let close = if o == b'(' { ')' } else { ']' };
        return err(at, at + 1, format!("unbalanced `{}`: it is never closed by a `{close}`", o as char));
    }
    Ok(())
}
