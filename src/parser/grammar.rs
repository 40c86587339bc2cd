//! The pest grammar, `src/eql.pest`.

#[derive(pest_derive::Parser)]
#[grammar = "eql.pest"]
pub struct EqlParser;
