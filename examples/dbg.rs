fn main() {
    for p in ["*?:\\Users\\Public\\*", "*(New-Object*"] {
        println!("{:?}", eqlite::wildcard::Wildcard::new(p, true).map(|_| ()));
    }
}
