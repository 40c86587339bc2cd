//! Stream snapshots: size and time per pending partial match (issue 21), through the library.
//!
//! ```sh
//! cargo run --release --example snapshot_size [-- --counts 1000,10000,100000 --reps 5]
//! ```
//!
//! A sequence rule keyed on `host.id` and `process.entity_id` (a 36-character id, as sensors
//! write it) holds N partial matches, one per key: half after its first stage, half after its
//! second. Reported per N: the snapshot's size, and the CPU time of `Stream::snapshot` and of
//! `Stream::from_snapshot` (the median of `--reps`), each divided by N.

use eqlite::{RuleSet, Stream, StreamOptions};

const QUERY: &str = "sequence by host.id, process.entity_id with maxspan=1h \
    [process where process.name == \"curl\"] [network where destination.port == 10250] [file where true]";

/// The event at time step `t` for key `k`: the first stage's (a curl start) or the second's (a
/// connection to the kubelet port).
fn event(t: usize, k: usize, second: bool) -> String {
    let (cat, what) = if second {
        ("network", r#""destination":{"port":10250},"process":{"entity_id":"ENTITY"}"#)
    } else {
        ("process", r#""process":{"name":"curl","entity_id":"ENTITY"}"#)
    };
    let ts = format!("2026-12-01T10:{:02}:{:02}.{:03}Z", (t / 60_000) % 60, (t / 1000) % 60, t % 1000);
    let text = format!(
        r#"{{"@timestamp":"{ts}","event":{{"category":["{cat}"]}},"host":{{"id":"host-{:04}"}},{what}}}"#,
        k % 500
    );
    text.replace("ENTITY", &format!("{k:08x}-5d1e-4c3b-9a70-0123456789ab"))
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: &str| {
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned().unwrap_or(default.into())
    };
    let counts: Vec<usize> = arg("--counts", "1000,10000,100000").split(',').map(|c| c.parse().unwrap()).collect();
    let reps: usize = arg("--reps", "5").parse().unwrap();
    let mut rs = RuleSet::default();
    rs.add_query("seq", QUERY).unwrap();
    println!(
        "| pending partial matches | snapshot bytes | bytes per match | snapshot ns per match | restore ns per match |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: |");
    for &n in &counts {
        let opts = StreamOptions { max_pending: n * 2, ..StreamOptions::default() };
        let mut stream = Stream::new(&rs, opts.clone());
        for k in 0..n {
            stream.push(&rs, &rs.read_json(&event(k, k, false)).unwrap(), k as u64);
        }
        // Every other key moves on to its second stage (times keep increasing: nothing is held
        // for ordering, nothing expires).
        for (t, k) in (0..n).step_by(2).enumerate() {
            stream.push(&rs, &rs.read_json(&event(n + t, k, true)).unwrap(), (n + t) as u64);
        }
        let pending = stream.stats().pending;
        assert_eq!(pending, n as u64, "{:?}", stream.stats());
        let mut bytes = Vec::new();
        let (mut save, mut load) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            let t = cpu_time::ThreadTime::now();
            bytes = stream.snapshot(&rs);
            save.push(t.elapsed().as_nanos() as u64);
            let t = cpu_time::ThreadTime::now();
            let (restored, r) = Stream::from_snapshot(&rs, opts.clone(), &bytes).unwrap();
            load.push(t.elapsed().as_nanos() as u64);
            assert_eq!((r.kept, restored.stats().pending), (1, pending));
        }
        let per = |ns: u64| ns as f64 / n as f64;
        println!(
            "| {n} | {} | {:.1} | {:.0} | {:.0} |",
            bytes.len(),
            bytes.len() as f64 / n as f64,
            per(median(save)),
            per(median(load))
        );
    }
}
