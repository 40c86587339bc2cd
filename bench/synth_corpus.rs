//! Time to synthesize firing events and near misses for every rule of the corpus (each result
//! proven by the engine inside `synthesize`), in this process's CPU time and wall time.
//!
//! ```sh
//! cargo run --release --example synth_corpus -- ../shared/corpus/detection-rules
//! ```

use eqlite::RuleSet;
use std::time::Instant;

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "../shared/corpus/detection-rules".into());
    let mut rules = RuleSet::default();
    for f in eqlite::toml_files(std::path::Path::new(&dir)).expect("the corpus directory") {
        let text = std::fs::read_to_string(&f).expect("a rule file");
        rules.add_toml(&text, &f.display().to_string()).expect("a corpus rule");
    }
    let cpu = cpu_time::ProcessTime::now();
    let wall = Instant::now();
    let (mut done, mut near) = (0, 0);
    for i in 0..rules.len() {
        if let Ok(s) = eqlite::synthesize(&rules, i) {
            done += 1;
            near += s.near_misses.len();
        }
    }
    println!(
        "{{\"rules\": {}, \"synthesized\": {done}, \"near_misses\": {near}, \"cpu_s\": {:.2}, \"wall_s\": {:.2}}}",
        rules.len(),
        cpu.elapsed().as_secs_f64(),
        wall.elapsed().as_secs_f64()
    );
}
