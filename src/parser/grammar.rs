//! The pest grammar, `eql.pest` beside this file.

#[derive(pest_derive::Parser)]
#[grammar = "parser/eql.pest"]
pub struct EqlParser;
