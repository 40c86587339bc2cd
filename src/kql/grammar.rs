//! The pest grammar, `kql.pest` beside this file.

#[derive(pest_derive::Parser)]
#[grammar = "kql/kql.pest"]
pub struct KqlParser;
