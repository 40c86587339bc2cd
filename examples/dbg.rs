fn main() {
    let mut rs = eqlite::RuleSet::new(eqlite::Options { category_field: "event_type".into(), ..Default::default() });
    rs.add_query("q", r#"file where file_name like ("winini*.exe", "lsass.*")"#).unwrap();
    println!("{:#?}", rs.rules()[0].body);
}
