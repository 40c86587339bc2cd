//! Deterministic generator of realistic ECS events for benchmarks (NDJSON on stdout).
//!
//! ```sh
//! cargo run --release --example gen_events -- --count 100000 --seed 1 > events.ndjson
//! cargo run --release --example gen_events -- --soak --count 10000000 --keys 200000 | eqlite scan --stats
//! ```
//!
//! The event kinds are the ones the kubelet rule pack reads: Elastic Defend for Containers
//! (`cloud_defend.process`, `cloud_defend.file`), Elastic Defend on hosts
//! (`endpoint.events.network`, `endpoint.events.process`), Auditd Manager
//! (`auditd_manager.auditd`) and the Kubernetes audit log (`kubernetes.audit_logs`), shaped like
//! `tests/fixtures/kubelet/*.json`: nested objects, `event.category` / `event.type` /
//! `process.args` arrays, `@timestamp` and `event.ingested` ISO-8601 and non-decreasing.
//!
//! Benign events are near misses on purpose (`cat`, `find`, `curl` in containers, connections to
//! port 10250 by the API server and Prometheus, interactive shells in debug pods) so that the
//! rules are evaluated past their first clause. A fraction (`--attack-rate`, default 0.001 of the
//! events) are the firing cases of the fixtures, re-timed and given fresh container and pod
//! identities so that cases never join each other; single-event rules and sequences fire.
//!
//! `--soak` emits a sequence soak instead: pods and containers drawn from `--keys` distinct
//! identities, many events matching the first stage of sequences (interactive processes, token
//! opens, `ls /var/lib/kubelet/pods/...`), audit events that complete some of them, and event
//! time advancing `--step-us` per event, so that pending partial matches pile up and must expire.
//!
//! Everything comes from one seeded PRNG (xoshiro256**): the same arguments give the same bytes.
//! Events are written one at a time; nothing but the fixtures is held in memory.

use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

const USAGE: &str = "gen_events [--count N] [--seed S] [--attack-rate P] [--fixtures DIR] [--start ISO8601]
           [--step-us MICROS] [--soak [--keys N]] [--stats]
  --count N        events to write (default 100000; 10k to 10M and more, streamed)
  --seed S         PRNG seed (default 1)
  --attack-rate P  fraction of events that come from firing fixture cases (default 0.001)
  --fixtures DIR   fixture directory (default tests/fixtures/kubelet of this crate)
  --start T        time of the first event (default 2026-09-01T00:00:00.000Z)
  --step-us U      mean event-time step in microseconds (default 2000; 100 with --soak)
  --soak           sequence soak: many distinct join keys, many first-stage matches
  --keys N         distinct pods/containers in --soak mode (default 200000)
  --stats          print a summary (events, bytes, attack cases per fixture) to stderr";

// ---------------------------------------------------------------------------------------------
// PRNG: xoshiro256** seeded through splitmix64.

struct Rng([u64; 4]);

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut x = seed;
        Rng([splitmix(&mut x), splitmix(&mut x), splitmix(&mut x), splitmix(&mut x)])
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as usize) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    fn hex(&mut self, n: usize) -> String {
        const H: &[u8] = b"0123456789abcdef";
        (0..n).map(|_| H[self.below(16)] as char).collect()
    }

    fn alnum(&mut self, n: usize) -> String {
        const A: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..n).map(|_| A[self.below(A.len())] as char).collect()
    }

    fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-{}{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            self.pick(&["8", "9", "a", "b"]),
            self.hex(3),
            self.hex(12)
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Time: milliseconds since the epoch <-> ISO-8601 `YYYY-MM-DDTHH:MM:SS.mmmZ`.

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn iso(ms: i64) -> String {
    eqlite::rfc3339(ms * 1_000_000)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff…]Z`.
fn parse_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[10] != b'T' || *b.last()? != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let days = days_from_civil(n(0..4)?, n(5..7)?, n(8..10)?);
    let mut ms = days * 86_400_000 + n(11..13)? * 3_600_000 + n(14..16)? * 60_000 + n(17..19)? * 1000;
    if b[19] == b'.' {
        let digits = &s[20..s.len() - 1];
        let frac: String = digits.chars().chain("000".chars()).take(3).collect();
        ms += frac.parse::<i64>().ok()?;
    }
    Some(ms)
}

// ---------------------------------------------------------------------------------------------
// The simulated cluster.

struct Node {
    name: String,
    id: String,
    ip: String,
    ubuntu: bool,
}

struct Workload {
    deploy: &'static str,
    namespace: &'static str,
    image: &'static str,
    tag: &'static str,
    container: &'static str,
    user: (&'static str, &'static str),
    /// argv of processes it runs; argv[0] may be a path.
    commands: &'static [&'static [&'static str]],
    /// Files it opens or writes.
    files: &'static [&'static str],
    /// kubectl-exec'd into by people (interactive processes).
    debug: bool,
    /// Its service account calls the API server (audit events carry its pod name).
    api_client: Option<(&'static str, &'static [(&'static str, &'static str)])>,
}

const WORKLOADS: &[Workload] = &[
    Workload {
        deploy: "web",
        namespace: "shop",
        image: "ghcr.io/acme/shop-web",
        tag: "2.14.1",
        container: "web",
        user: ("101", "nginx"),
        commands: &[
            &["nginx", "-g", "daemon off;"],
            &["sh", "-c", "nginx -s reload"],
            &["curl", "-fsS", "--max-time", "2", "http://127.0.0.1:8080/healthz"],
            &["cat", "/etc/nginx/conf.d/default.conf"],
        ],
        files: &[
            "/etc/nginx/nginx.conf",
            "/var/log/nginx/access.log",
            "/var/cache/nginx/proxy_temp/3/00/0000000003",
            "/usr/share/nginx/html/index.html",
            "/etc/ssl/certs/ca-certificates.crt",
        ],
        debug: false,
        api_client: None,
    },
    Workload {
        deploy: "api",
        namespace: "shop",
        image: "ghcr.io/acme/shop-api",
        tag: "5.2.0",
        container: "api",
        user: ("1000", "app"),
        commands: &[
            &["python3", "-m", "gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "shop.wsgi:application"],
            &["python3", "manage.py", "migrate", "--noinput"],
            &[
                "python3",
                "-c",
                "import sys, urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=2)",
            ],
            &["/bin/sh", "-c", "python3 manage.py clearsessions"],
        ],
        files: &[
            "/app/shop/settings.py",
            "/app/shop/__pycache__/urls.cpython-312.pyc",
            "/tmp/tmpk3x9q2lp",
            "/etc/ssl/certs/ca-certificates.crt",
            "/app/static/manifest.json",
        ],
        debug: false,
        api_client: None,
    },
    Workload {
        deploy: "orders",
        namespace: "shop",
        image: "ghcr.io/acme/orders",
        tag: "3.9.4",
        container: "orders",
        user: ("1000", "app"),
        commands: &[
            &["java", "-XX:MaxRAMPercentage=75", "-jar", "/app/orders.jar", "--spring.profiles.active=prod"],
            &["/bin/sh", "-c", "wget -q -O- http://127.0.0.1:8081/actuator/health"],
            &["wget", "-q", "-O-", "http://127.0.0.1:8081/actuator/health"],
        ],
        files: &[
            "/app/orders.jar",
            "/tmp/hsperfdata_app/1",
            "/app/config/application-prod.yml",
            "/opt/java/openjdk/lib/security/cacerts",
        ],
        debug: false,
        api_client: None,
    },
    Workload {
        deploy: "frontend",
        namespace: "shop",
        image: "ghcr.io/acme/frontend",
        tag: "1.31.0",
        container: "frontend",
        user: ("1000", "node"),
        commands: &[
            &["node", "/app/dist/server.js"],
            &["node", "-e", "require('http').get('http://127.0.0.1:3000/api/health')"],
        ],
        files: &[
            "/app/dist/server.js",
            "/app/node_modules/express/lib/router/index.js",
            "/tmp/next-cache/fetch-cache/4f1d",
            "/app/.next/BUILD_ID",
        ],
        debug: false,
        api_client: None,
    },
    Workload {
        deploy: "postgres",
        namespace: "data",
        image: "postgres",
        tag: "16.4",
        container: "postgres",
        user: ("999", "postgres"),
        commands: &[
            &["pg_isready", "-U", "postgres", "-h", "127.0.0.1", "-p", "5432"],
            &["postgres", "-D", "/var/lib/postgresql/data"],
            &["psql", "-U", "postgres", "-c", "SELECT 1"],
            &["du", "-sh", "/var/lib/postgresql/data"],
        ],
        files: &[
            "/var/lib/postgresql/data/base/16384/2619",
            "/var/lib/postgresql/data/pg_wal/000000010000000A0000003C",
            "/var/lib/postgresql/data/postgresql.conf",
            "/var/run/postgresql/.s.PGSQL.5432.lock",
        ],
        debug: false,
        api_client: None,
    },
    Workload {
        deploy: "redis",
        namespace: "data",
        image: "redis",
        tag: "7.2.5",
        container: "redis",
        user: ("999", "redis"),
        commands: &[
            &["redis-cli", "-s", "/data/redis.sock", "ping"],
            &["redis-server", "/etc/redis/redis.conf"],
            &["redis-cli", "info", "replication"],
        ],
        files: &["/data/appendonly.aof", "/data/dump.rdb", "/etc/redis/redis.conf", "/data/temp-3107.rdb"],
        debug: false,
        api_client: None,
    },
    Workload {
        deploy: "log-cleaner",
        namespace: "ops",
        image: "busybox",
        tag: "1.36.1",
        container: "cleaner",
        user: ("0", "root"),
        commands: &[
            &["find", "/var/log/app", "-name", "*.gz", "-mtime", "+7", "-delete"],
            &["sh", "-c", "find /var/log/app -name '*.gz' -mtime +7 -delete"],
            &["tail", "-n", "200", "/var/log/app/app.log"],
            &["sleep", "3600"],
            &["ls", "-la", "/var/log/app"],
            &["sed", "-n", "1,20p", "/var/log/app/error.log"],
        ],
        files: &["/var/log/app/app.log", "/var/log/app/app.log.1.gz", "/var/log/app/error.log", "/etc/localtime"],
        debug: false,
        api_client: None,
    },
    Workload {
        deploy: "fluent-bit",
        namespace: "logging",
        image: "cr.fluentbit.io/fluent/fluent-bit",
        tag: "3.1.9",
        container: "fluent-bit",
        user: ("0", "root"),
        commands: &[&["/fluent-bit/bin/fluent-bit", "-c", "/fluent-bit/etc/fluent-bit.conf"]],
        files: &[
            "/var/log/containers/web-7d9c6b5f4-x2lqp_shop_web-0b1c.log",
            "/fluent-bit/etc/fluent-bit.conf",
            "/var/fluent-bit/state/flb_kube.db",
            "/var/log/containers/api-5c8d7f6b9-qk2mz_shop_api-9e3a.log",
        ],
        debug: false,
        api_client: Some((
            "system:serviceaccount:logging:fluent-bit",
            &[("list", "pods"), ("watch", "pods"), ("get", "namespaces")],
        )),
    },
    Workload {
        deploy: "coredns",
        namespace: "kube-system",
        image: "registry.k8s.io/coredns/coredns",
        tag: "v1.11.1",
        container: "coredns",
        user: ("65532", "nonroot"),
        commands: &[&["/coredns", "-conf", "/etc/coredns/Corefile"]],
        files: &["/etc/coredns/Corefile", "/etc/coredns/..data/Corefile"],
        debug: false,
        api_client: Some((
            "system:serviceaccount:kube-system:coredns",
            &[("watch", "endpointslices"), ("list", "services"), ("watch", "namespaces")],
        )),
    },
    Workload {
        deploy: "cert-manager",
        namespace: "cert-manager",
        image: "quay.io/jetstack/cert-manager-controller",
        tag: "v1.15.3",
        container: "cert-manager-controller",
        user: ("1000", "cert-manager"),
        commands: &[&[
            "/app/cmd/controller/controller",
            "--v=2",
            "--cluster-resource-namespace=$(POD_NAMESPACE)",
            "--leader-election-namespace=kube-system",
        ]],
        files: &["/tmp/cert-manager-leader", "/etc/ssl/certs/ca-certificates.crt"],
        debug: false,
        api_client: Some((
            "system:serviceaccount:cert-manager:cert-manager",
            &[("get", "secrets"), ("update", "leases"), ("list", "certificates"), ("watch", "secrets")],
        )),
    },
    Workload {
        deploy: "argocd-application-controller",
        namespace: "argocd",
        image: "quay.io/argoproj/argocd",
        tag: "v2.12.3",
        container: "application-controller",
        user: ("999", "argocd"),
        commands: &[
            &["argocd-application-controller", "--status-processors", "20", "--operation-processors", "10"],
            &["git", "fetch", "origin", "--tags", "--force"],
        ],
        files: &[
            "/tmp/_argocd-repo/shop-deploy/.git/FETCH_HEAD",
            "/home/argocd/.gitconfig",
            "/app/config/ssh/ssh_known_hosts",
        ],
        debug: false,
        api_client: Some((
            "system:serviceaccount:argocd:argocd-application-controller",
            &[("list", "deployments"), ("patch", "deployments"), ("get", "configmaps"), ("watch", "pods")],
        )),
    },
    Workload {
        deploy: "debug-tools",
        namespace: "default",
        image: "nicolaka/netshoot",
        tag: "v0.13",
        container: "netshoot",
        user: ("0", "root"),
        commands: &[
            &["ls", "-la", "/"],
            &["ps", "aux"],
            &["env"],
            &["cat", "/etc/resolv.conf"],
            &["ip", "addr", "show"],
            &["dig", "+short", "web.shop.svc.cluster.local"],
            &["ping", "-c", "1", "10.244.2.17"],
            &["curl", "-sv", "http://web.shop.svc.cluster.local:8080/"],
            &["top", "-b", "-n", "1"],
            &["df", "-h"],
            &["vi", "/tmp/notes.txt"],
            &["tcpdump", "-i", "eth0", "-c", "20", "port", "53"],
        ],
        files: &["/tmp/notes.txt", "/etc/resolv.conf", "/root/.bash_history", "/etc/hosts"],
        debug: true,
        api_client: None,
    },
];

struct Pod {
    w: usize,
    name: String,
    container_id: String,
    ip: String,
    node: usize,
    uid: String,
}

struct Cluster {
    nodes: Vec<Node>,
    cp: Node,
    bastion: Node,
    agent_ids: Vec<String>,
    pods: Vec<Pod>,
    /// Soak mode: pods are made on demand from an index in 0..keys.
    soak_keys: usize,
    soak_seed: u64,
}

impl Cluster {
    fn new(rng: &mut Rng, soak_keys: usize) -> Cluster {
        let mk = |rng: &mut Rng, name: String, ip: String, ubuntu: bool| Node { name, id: rng.hex(32), ip, ubuntu };
        let nodes: Vec<Node> =
            (1..=8).map(|i| mk(rng, format!("worker-{i}"), format!("10.0.1.{}", 20 + i), i % 3 == 0)).collect();
        let cp = mk(rng, "cp-1".into(), "10.0.1.10".into(), false);
        let bastion = mk(rng, "ops-bastion".into(), "10.0.8.5".into(), true);
        let agent_ids = (0..10).map(|_| rng.hex(32)).collect();
        let mut pods = Vec::new();
        for (w, wl) in WORKLOADS.iter().enumerate() {
            let replicas = match wl.deploy {
                "web" | "api" | "frontend" => 6,
                "orders" => 4,
                "fluent-bit" => 8,
                "debug-tools" => 2,
                _ => 2,
            };
            let rs = rng.alnum(9);
            for r in 0..replicas {
                let node = if wl.deploy == "fluent-bit" { r } else { rng.below(8) };
                pods.push(Pod {
                    w,
                    name: format!("{}-{rs}-{}", wl.deploy, rng.alnum(5)),
                    container_id: rng.hex(64),
                    ip: format!("10.244.{}.{}", node + 1, rng.range(2, 250)),
                    node,
                    uid: rng.uuid(),
                });
            }
        }
        let soak_seed = rng.next_u64();
        Cluster { nodes, cp, bastion, agent_ids, pods, soak_keys, soak_seed }
    }

    /// A pod: from the fixed pool, or in soak mode one of `soak_keys` made from its index.
    fn pod(&self, rng: &mut Rng, want: impl Fn(&Workload) -> bool) -> Pod {
        if self.soak_keys > 0 {
            loop {
                let k = rng.below(self.soak_keys) as u64;
                let mut r = Rng::new(self.soak_seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let w = r.below(WORKLOADS.len());
                if !want(&WORKLOADS[w]) {
                    continue;
                }
                let node = r.below(8);
                return Pod {
                    w,
                    name: format!("{}-{}-{}", WORKLOADS[w].deploy, r.alnum(9), r.alnum(5)),
                    container_id: r.hex(64),
                    ip: format!("10.244.{}.{}", node + 1, r.range(2, 250)),
                    node,
                    uid: r.uuid(),
                };
            }
        }
        loop {
            let p = &self.pods[rng.below(self.pods.len())];
            if want(&WORKLOADS[p.w]) {
                return Pod {
                    w: p.w,
                    name: p.name.clone(),
                    container_id: p.container_id.clone(),
                    ip: p.ip.clone(),
                    node: p.node,
                    uid: p.uid.clone(),
                };
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Event builders.

struct Gen {
    rng: Rng,
    cluster: Cluster,
    /// Event time, microseconds since the epoch.
    now_us: i64,
    step_us: i64,
    last_ts: i64,
    last_ingested: i64,
    soak: bool,
}

fn host_json(n: &Node) -> Value {
    let (family, name, version, kernel) = if n.ubuntu {
        ("ubuntu", "Ubuntu", "24.04", "6.8.0-1015-aws")
    } else {
        ("debian", "Debian GNU/Linux", "12", "6.1.0-23-cloud-amd64")
    };
    json!({
        "architecture": "x86_64", "hostname": n.name, "id": n.id, "ip": [n.ip], "name": n.name,
        "os": {"family": family, "kernel": kernel, "name": name, "platform": family, "type": "linux", "version": version}
    })
}

fn data_stream(dataset: &str) -> Value {
    json!({"dataset": dataset, "namespace": "default", "type": "logs"})
}

fn exe_of(arg0: &str) -> String {
    if arg0.starts_with('/') {
        arg0.to_string()
    } else {
        match arg0 {
            "sh" | "ls" | "cat" | "sed" | "ps" | "df" | "env" | "sleep" | "find" | "tail" | "du" => {
                format!("/bin/{arg0}")
            }
            "nginx" | "ip" => format!("/usr/sbin/{arg0}"),
            "python3" => "/usr/local/bin/python3.12".into(),
            "java" => "/opt/java/openjdk/bin/java".into(),
            "node" => "/usr/local/bin/node".into(),
            "postgres" | "pg_isready" | "psql" => format!("/usr/lib/postgresql/16/bin/{arg0}"),
            "redis-cli" | "redis-server" => format!("/usr/local/bin/{arg0}"),
            _ => format!("/usr/bin/{arg0}"),
        }
    }
}

fn name_of(exe: &str) -> &str {
    exe.rsplit('/').next().unwrap_or(exe)
}

impl Gen {
    /// Advances event time; returns (`@timestamp`, `event.ingested`) in ms, both non-decreasing.
    fn tick(&mut self) -> (i64, i64) {
        self.now_us += self.rng.range(1, 2 * self.step_us - 1);
        let ts = (self.now_us / 1000).max(self.last_ts);
        let ingested = (ts + self.rng.range(300, 1400)).max(self.last_ingested);
        self.last_ts = ts;
        self.last_ingested = ingested;
        (ts, ingested)
    }

    fn event(
        &mut self,
        action: &str,
        category: &str,
        types: &[&str],
        dataset: &str,
        module: &str,
        ingested: i64,
    ) -> Map<String, Value> {
        let id = if module == "cloud_defend" { self.rng.uuid() } else { self.rng.hex(24) };
        let v = json!({
            "action": action, "agent_id_status": "verified", "category": [category], "dataset": dataset,
            "id": id, "ingested": iso(ingested), "kind": "event", "module": module, "type": types
        });
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn container_parts(&self, pod: &Pod) -> (Value, Value, Value, Value) {
        let wl = &WORKLOADS[pod.w];
        let node = &self.cluster.nodes[pod.node];
        let agent = json!({"id": self.cluster.agent_ids[pod.node], "type": "cloud-defend", "version": "9.3.1"});
        let container =
            json!({"id": pod.container_id, "image": {"name": wl.image, "tag": wl.tag}, "name": wl.container});
        let orchestrator = json!({
            "cluster": {"name": "shop-prod"}, "namespace": wl.namespace,
            "resource": {"ip": [pod.ip], "name": pod.name, "type": "pod"}, "type": "kubernetes"
        });
        (agent, container, orchestrator, host_json(node))
    }

    /// Defend for Containers process event (exec, fork or end).
    fn d4c_process(&mut self) -> Value {
        let (ts, ingested) = self.tick();
        let interactive_share = if self.soak { 0.5 } else { 0.15 };
        let debug = self.rng.chance(interactive_share);
        let pod = self.cluster.pod(&mut self.rng, |w| w.debug == debug || self.soak);
        let wl = &WORKLOADS[pod.w];
        let soak_discovery = self.soak && self.rng.chance(0.05);
        let argv: Vec<String> = if soak_discovery {
            vec!["ls".into(), "-la".into(), format!("/var/lib/kubelet/pods/{}/volumes", pod.uid)]
        } else {
            self.rng.pick(wl.commands).iter().map(|s| s.to_string()).collect()
        };
        let interactive = if self.soak { debug || soak_discovery } else { wl.debug };
        let (action, types) = match self.rng.below(20) {
            0..=13 => ("exec", ["start"]),
            14..=16 => ("fork", ["start"]),
            _ => ("end", ["end"]),
        };
        let exe = exe_of(&argv[0]);
        let name = name_of(&exe).to_string();
        let (agent, container, orchestrator, host) = self.container_parts(&pod);
        let event = self.event(action, "process", &types, "cloud_defend.process", "cloud_defend", ingested);
        let parent = if interactive {
            json!({"executable": "/bin/bash", "name": "bash", "pid": self.rng.range(3000, 9000)})
        } else {
            json!({"executable": "/usr/bin/containerd-shim-runc-v2", "name": "containerd-shim", "pid": self.rng.range(900, 2000)})
        };
        let mut process = json!({
            "args": argv, "args_count": argv.len(), "command_line": argv.join(" "), "executable": exe,
            "interactive": interactive, "name": name, "parent": parent, "pid": self.rng.range(2, 60000),
            "working_directory": if interactive { "/" } else { "/app" }
        });
        if interactive {
            process["tty"] = json!({"char_device": {"major": 136, "minor": self.rng.range(0, 4)}});
        }
        json!({
            "@timestamp": iso(ts), "agent": agent, "container": container, "data_stream": data_stream("cloud_defend.process"),
            "ecs": {"version": "8.11.0"}, "event": event, "host": host, "orchestrator": orchestrator, "process": process,
            "user": {"id": wl.user.0, "name": wl.user.1}
        })
    }

    /// Defend for Containers file event.
    fn d4c_file(&mut self) -> Value {
        let (ts, ingested) = self.tick();
        let soak_token = self.soak && self.rng.chance(0.05);
        let pod = self.cluster.pod(&mut self.rng, |w| !w.debug || self.soak);
        let wl = &WORKLOADS[pod.w];
        let path: String = if soak_token {
            "/var/run/secrets/kubernetes.io/serviceaccount/token".into()
        } else {
            self.rng.pick(wl.files).to_string()
        };
        let (action, ty) = if soak_token {
            ("open", "change")
        } else {
            *self.rng.pick(&[
                ("open", "change"),
                ("open", "change"),
                ("modification", "change"),
                ("creation", "creation"),
                ("deletion", "deletion"),
                ("rename", "change"),
            ])
        };
        let argv0 = wl.commands[0][0];
        let exe = exe_of(argv0);
        let (agent, container, orchestrator, host) = self.container_parts(&pod);
        let event = self.event(action, "file", &[ty], "cloud_defend.file", "cloud_defend", ingested);
        let file_name = name_of(&path).to_string();
        let mut file = json!({"name": file_name, "path": path});
        if let Some((_, ext)) = file_name.rsplit_once('.') {
            file["extension"] = json!(ext);
        }
        json!({
            "@timestamp": iso(ts), "agent": agent, "container": container, "data_stream": data_stream("cloud_defend.file"),
            "ecs": {"version": "8.11.0"}, "event": event, "file": file, "host": host, "orchestrator": orchestrator,
            "process": {"executable": exe, "interactive": soak_token, "name": name_of(&exe), "pid": self.rng.range(2, 60000), "entity_id": self.rng.hex(24)},
            "user": {"id": wl.user.0, "name": wl.user.1}
        })
    }

    /// Elastic Defend network event on a host.
    fn endpoint_network(&mut self) -> Value {
        let (ts, ingested) = self.tick();
        let ni = self.rng.below(self.cluster.nodes.len());
        let worker_ip = self.cluster.nodes[self.rng.below(8)].ip.clone();
        // (host, process executable, destination ip, port, direction)
        let (host_node, exe, dst, port, direction): (&Node, &str, String, i64, &str) = match self.rng.below(10) {
            0 | 1 => (&self.cluster.nodes[ni], "/usr/bin/kubelet", "10.0.1.10".into(), 6443, "egress"),
            2 => (&self.cluster.cp, "/usr/local/bin/kube-apiserver", worker_ip, 10250, "egress"),
            3 => (&self.cluster.nodes[ni], "/bin/prometheus", worker_ip, 10250, "egress"),
            4 => (
                &self.cluster.nodes[ni],
                "/usr/bin/containerd",
                (*self.rng.pick(&["140.82.112.33", "104.18.123.25", "34.96.108.209"])).into(),
                443,
                "egress",
            ),
            5 => (&self.cluster.nodes[ni], "/usr/sbin/sshd", "10.0.8.5".into(), 22, "ingress"),
            6 => (&self.cluster.nodes[ni], "/usr/lib/systemd/systemd-resolved", "10.0.0.2".into(), 53, "egress"),
            7 => (&self.cluster.nodes[ni], "/usr/bin/node_exporter", "10.0.1.40".into(), 9100, "ingress"),
            8 => (&self.cluster.bastion, "/usr/local/bin/kubectl", "10.0.1.10".into(), 6443, "egress"),
            _ => (
                &self.cluster.nodes[ni],
                "/usr/bin/containerd",
                (*self.rng.pick(&["10.244.3.12", "10.244.5.40"])).into(),
                8080,
                "egress",
            ),
        };
        let src_ip = host_node.ip.clone();
        let host = host_json(host_node);
        let agent_id = self.cluster.agent_ids[ni].clone();
        let (action, ty) = match (direction, self.rng.below(4)) {
            (_, 3) => ("disconnect_received", "end"),
            ("ingress", _) => ("connection_accepted", "start"),
            _ => ("connection_attempted", "start"),
        };
        let event = {
            let mut m = self.event(action, "network", &[ty], "endpoint.events.network", "endpoint", ingested);
            m.insert("created".into(), json!(iso(ts)));
            m.insert("outcome".into(), json!("unknown"));
            m
        };
        let (src, dst_v, sport, dport) = if direction == "ingress" {
            (dst.clone(), src_ip.clone(), self.rng.range(32768, 60999), port)
        } else {
            (src_ip.clone(), dst.clone(), self.rng.range(32768, 60999), port)
        };
        let transport = if port == 53 { "udp" } else { "tcp" };
        json!({
            "@timestamp": iso(ts), "agent": {"id": agent_id, "type": "endpoint", "version": "9.3.1"},
            "data_stream": data_stream("endpoint.events.network"),
            "destination": {"address": dst_v, "ip": dst_v, "port": dport}, "ecs": {"version": "8.11.0"}, "event": event,
            "host": host, "network": {"direction": direction, "transport": transport, "type": "ipv4"},
            "process": {"entity_id": self.rng.hex(24), "executable": exe, "name": name_of(exe), "pid": self.rng.range(300, 90000)},
            "source": {"address": src, "ip": src, "port": sport},
            "user": {"id": "0", "name": "root"}
        })
    }

    fn host_argv(&mut self) -> Vec<&'static str> {
        self.rng
            .pick(&[
                &["systemctl", "status", "kubelet"][..],
                &["journalctl", "-u", "kubelet", "--since", "10 min ago"],
                &["crictl", "ps", "-a"],
                &["ls", "-la", "/var/log/pods"],
                &["python3", "/usr/local/bin/node-health.py", "--check", "disk"],
                &["curl", "-s", "http://127.0.0.1:10248/healthz"],
                &["curl", "-sk", "https://10.0.1.10:6443/readyz"],
                &["df", "-h", "/var/lib/containerd"],
                &["apt-get", "-q", "update"],
                &["kubectl", "get", "nodes", "-o", "wide"],
                &["bash", "-c", "uptime"],
                &["cat", "/proc/loadavg"],
            ])
            .to_vec()
    }

    /// Auditd Manager execve on a host.
    fn auditd_process(&mut self) -> Value {
        let (ts, ingested) = self.tick();
        let on_bastion = self.rng.chance(0.3);
        let ni = self.rng.below(8);
        let node = if on_bastion { &self.cluster.bastion } else { &self.cluster.nodes[ni] };
        let host = host_json(node);
        let argv = self.host_argv();
        let exe = exe_of(argv[0]);
        let (uid, uname) = if on_bastion { ("1000", "dev") } else { ("0", "root") };
        let mut title = argv.join(" ");
        title.truncate(128);
        let event = {
            let mut m = self.event("executed", "process", &["start"], "auditd_manager.auditd", "auditd", ingested);
            m.remove("id");
            m.insert("outcome".into(), json!("success"));
            m
        };
        json!({
            "@timestamp": iso(ts), "agent": {"id": self.cluster.agent_ids[ni], "type": "auditbeat", "version": "9.3.1"},
            "auditd": {
                "data": {"a0": self.rng.hex(12), "arch": "x86_64", "argc": argv.len().to_string(), "exit": "0", "syscall": "execve", "tty": if on_bastion { "pts1" } else { "(none)" }},
                "message_type": "syscall", "result": "success", "sequence": self.rng.range(1_000_000, 9_999_999),
                "summary": {"actor": {"primary": uname, "secondary": uname}, "how": exe, "object": {"primary": exe, "type": "file"}}
            },
            "data_stream": data_stream("auditd_manager.auditd"), "ecs": {"version": "8.11.0"}, "event": event, "host": host,
            "process": {
                "args": argv, "args_count": argv.len(), "executable": exe, "name": name_of(&exe),
                "parent": {"pid": self.rng.range(300, 90000)}, "pid": self.rng.range(300, 90000), "title": title,
                "working_directory": if on_bastion { "/home/dev" } else { "/root" }
            },
            "user": {"id": uid, "name": uname, "audit": {"id": uid, "name": uname}}
        })
    }

    /// Elastic Defend process event on a host.
    fn endpoint_process(&mut self) -> Value {
        let (ts, ingested) = self.tick();
        let ni = self.rng.below(8);
        let host = host_json(&self.cluster.nodes[ni]);
        let argv = self.host_argv();
        let exe = exe_of(argv[0]);
        let event = {
            let mut m = self.event("exec", "process", &["start"], "endpoint.events.process", "endpoint", ingested);
            m.insert("created".into(), json!(iso(ts)));
            m
        };
        json!({
            "@timestamp": iso(ts), "agent": {"id": self.cluster.agent_ids[ni], "type": "endpoint", "version": "9.3.1"},
            "data_stream": data_stream("endpoint.events.process"), "ecs": {"version": "8.11.0"}, "event": event, "host": host,
            "process": {
                "args": argv, "args_count": argv.len(), "command_line": argv.join(" "), "entity_id": self.rng.hex(24),
                "executable": exe, "interactive": false, "name": name_of(&exe),
                "parent": {"entity_id": self.rng.hex(24), "executable": "/usr/lib/systemd/systemd", "name": "systemd", "pid": 1},
                "pid": self.rng.range(300, 90000), "working_directory": "/"
            },
            "user": {"id": "0", "name": "root"}
        })
    }

    /// Kubernetes audit-log event.
    fn k8s_audit(&mut self) -> Value {
        let (ts, ingested) = self.tick();
        let pod = self.cluster.pod(&mut self.rng, |w| w.api_client.is_some() || self.soak);
        let wl = &WORKLOADS[pod.w];
        let from_pod = self.soak || self.rng.chance(0.5);
        let (username, verb, resource, pod_extra) = match (from_pod, wl.api_client) {
            (true, Some((user, calls))) => {
                let (v, r) = *self.rng.pick(calls);
                (user.to_string(), v, r, true)
            }
            (true, None) => (
                format!("system:serviceaccount:{}:default", wl.namespace),
                *self.rng.pick(&["get", "list"]),
                *self.rng.pick(&["configmaps", "pods"]),
                true,
            ),
            (false, _) => {
                let n = self.rng.below(8);
                let (v, r) = *self.rng.pick(&[
                    ("update", "leases"),
                    ("get", "nodes"),
                    ("patch", "nodes"),
                    ("get", "pods"),
                    ("list", "services"),
                    ("watch", "configmaps"),
                ]);
                (format!("system:node:worker-{}", n + 1), v, r, false)
            }
        };
        let stage = if verb == "watch" {
            "ResponseStarted"
        } else {
            *self.rng.pick(&["ResponseComplete", "ResponseComplete", "ResponseComplete", "RequestReceived"])
        };
        let (group, version) = match resource {
            "leases" => ("coordination.k8s.io", "v1"),
            "deployments" => ("apps", "v1"),
            "endpointslices" => ("discovery.k8s.io", "v1"),
            "certificates" => ("cert-manager.io", "v1"),
            _ => ("", "v1"),
        };
        let api = if group.is_empty() { format!("/api/{version}") } else { format!("/apis/{group}/{version}") };
        let ns = if resource == "nodes" || resource == "namespaces" { None } else { Some(wl.namespace) };
        let uri = match ns {
            Some(ns) => format!("{api}/namespaces/{ns}/{resource}"),
            None => format!("{api}/{resource}"),
        };
        let uri = if verb == "watch" { format!("{uri}?allowWatchBookmarks=true&watch=true") } else { uri };
        let mut user = json!({"username": username, "uid": self.rng.uuid(), "groups": ["system:serviceaccounts", format!("system:serviceaccounts:{}", wl.namespace), "system:authenticated"]});
        if pod_extra {
            let node = &self.cluster.nodes[pod.node].name;
            user["extra"] = json!({
                "authentication.kubernetes.io/node-name": [node],
                "authentication.kubernetes.io/pod-name": [pod.name],
                "authentication.kubernetes.io/pod-uid": [pod.uid]
            });
        } else {
            user["groups"] = json!(["system:nodes", "system:authenticated"]);
        }
        let mut object_ref = json!({"apiVersion": version, "resource": resource});
        if !group.is_empty() {
            object_ref["apiGroup"] = json!(group);
        }
        if let Some(ns) = ns {
            object_ref["namespace"] = json!(ns);
        }
        let source_ip = if pod_extra { pod.ip.clone() } else { self.cluster.nodes[pod.node].ip.clone() };
        let mut audit = json!({
            "annotations": {"authorization_k8s_io/decision": "allow", "authorization_k8s_io/reason": "RBAC: allowed by ClusterRoleBinding"},
            "apiVersion": "audit.k8s.io/v1", "auditID": self.rng.uuid(), "kind": "Event", "level": "Metadata",
            "objectRef": object_ref, "requestReceivedTimestamp": iso(ts - self.rng.range(1, 5)), "requestURI": uri,
            "sourceIPs": [source_ip], "stage": stage, "stageTimestamp": iso(ts), "user": user,
            "userAgent": "kube-controller/v1.30.4 (linux/amd64) kubernetes/8cd0e26", "verb": verb
        });
        if stage != "RequestReceived" {
            audit["responseStatus"] = json!({"code": 200, "metadata": {}});
        }
        json!({
            "@timestamp": iso(ts), "agent": {"id": self.cluster.agent_ids[9], "type": "filebeat", "version": "9.3.1"},
            "data_stream": data_stream("kubernetes.audit_logs"), "ecs": {"version": "8.11.0"},
            "event": {"agent_id_status": "verified", "dataset": "kubernetes.audit_logs", "ingested": iso(ingested), "module": "kubernetes"},
            "host": {"hostname": "cp-1", "name": "cp-1", "os": {"type": "linux", "family": "debian", "kernel": "6.1.0-23-cloud-amd64"}},
            "kubernetes": {"audit": audit},
            "log": {"file": {"path": "/var/log/kubernetes/audit/kube-apiserver-audit.log"}}
        })
    }

    fn benign(&mut self) -> Value {
        // Mix: 38% container processes, 22% container files, 14% host network, 7% auditd,
        // 5% Defend host processes, 14% Kubernetes audit.
        match self.rng.below(100) {
            0..=37 => self.d4c_process(),
            38..=59 => self.d4c_file(),
            60..=73 => self.endpoint_network(),
            74..=80 => self.auditd_process(),
            81..=85 => self.endpoint_process(),
            _ => self.k8s_audit(),
        }
    }

    /// Re-times a fixture case so that it starts after everything emitted so far, and gives its
    /// containers and pods fresh identities (consistently within the case).
    fn attack(&mut self, case: &[Value]) -> Vec<Value> {
        const TIME_FIELDS: &[&[&str]] = &[
            &["@timestamp"],
            &["event", "ingested"],
            &["event", "created"],
            &["kubernetes", "audit", "requestReceivedTimestamp"],
            &["kubernetes", "audit", "stageTimestamp"],
        ];
        let get = |v: &Value, path: &[&str]| {
            path.iter().try_fold(v, |v, k| v.get(k)).and_then(|v| v.as_str()).and_then(parse_iso)
        };
        let min_of = |path: &[&str]| case.iter().filter_map(|e| get(e, path)).min();
        let (Some(ts0), Some(ing0)) = (min_of(&["@timestamp"]), min_of(&["event", "ingested"])) else {
            return case.to_vec();
        };
        let delta = (self.last_ts + 1 - ts0).max(self.last_ingested + 1 - ing0);
        let mut ids: HashMap<String, String> = HashMap::new();
        let n = self.rng.next_u64();
        let mut out = Vec::new();
        for e in case {
            let mut e = e.clone();
            for path in TIME_FIELDS {
                if let Some(t) = get(&e, path) {
                    let slot = path.iter().try_fold(&mut e, |v, k| v.get_mut(*k)).expect("present");
                    *slot = json!(iso(t + delta));
                    if path[0] == "@timestamp" {
                        self.last_ts = self.last_ts.max(t + delta);
                    }
                    if path == &["event", "ingested"] {
                        self.last_ingested = self.last_ingested.max(t + delta);
                    }
                }
            }
            let mut fresh = |old: &str, rng: &mut Rng, hex: bool| -> String {
                if old.is_empty() {
                    return String::new();
                }
                ids.entry(old.to_string())
                    .or_insert_with(|| if hex { rng.hex(64) } else { format!("{old}-atk{:x}", n & 0xffffff) })
                    .clone()
            };
            if let Some(Value::String(s)) = e.pointer_mut("/container/id") {
                *s = fresh(s, &mut self.rng, true);
            }
            if let Some(Value::String(s)) = e.pointer_mut("/orchestrator/resource/name") {
                *s = fresh(s, &mut self.rng, false);
            }
            if let Some(Value::Array(a)) =
                e.pointer_mut("/kubernetes/audit/user/extra/authentication.kubernetes.io~1pod-name")
            {
                for v in a {
                    if let Value::String(s) = v {
                        *s = fresh(s, &mut self.rng, false);
                    }
                }
            }
            out.push(e);
        }
        self.now_us = self.now_us.max(self.last_ts * 1000);
        out
    }
}

/// The firing cases of the fixtures: (fixture file, events).
fn load_attacks(dir: &PathBuf) -> Vec<(String, Vec<Value>)> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => {
            rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "json")).collect()
        }
        Err(e) => {
            eprintln!("gen_events: {}: {e}; no attacks will be mixed in", dir.display());
            return vec![];
        }
    };
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let Ok(doc) = serde_json::from_str::<Value>(&text) else { continue };
        let stem = f.file_stem().unwrap_or_default().to_string_lossy().to_string();
        for case in doc["cases"].as_array().into_iter().flatten() {
            if case["fires"] == json!(true) {
                if let Some(evs) = case["events"].as_array() {
                    out.push((stem.clone(), evs.clone()));
                }
            }
        }
    }
    out
}

struct Args {
    count: u64,
    seed: u64,
    attack_rate: f64,
    fixtures: PathBuf,
    start_ms: i64,
    step_us: Option<i64>,
    soak: bool,
    keys: usize,
    stats: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        count: 100_000,
        seed: 1,
        attack_rate: 0.001,
        fixtures: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kubelet")),
        start_ms: parse_iso("2026-09-01T00:00:00.000Z").expect("valid"),
        step_us: None,
        soak: false,
        keys: 200_000,
        stats: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        let num = |s: String| -> Result<u64, String> {
            let t = s.replace('_', "");
            let (n, mult) = match t.chars().last() {
                Some('k') | Some('K') => (&t[..t.len() - 1], 1_000),
                Some('M') | Some('m') => (&t[..t.len() - 1], 1_000_000),
                _ => (&t[..], 1),
            };
            n.parse::<u64>().map(|n| n * mult).map_err(|_| format!("`{s}` is not a number"))
        };
        match flag.as_str() {
            "--count" | "-n" => a.count = num(val("--count")?)?,
            "--seed" => a.seed = num(val("--seed")?)?,
            "--attack-rate" => a.attack_rate = val("--attack-rate")?.parse().map_err(|_| "bad --attack-rate")?,
            "--fixtures" => a.fixtures = PathBuf::from(val("--fixtures")?),
            "--start" => a.start_ms = parse_iso(&val("--start")?).ok_or("bad --start (YYYY-MM-DDTHH:MM:SS.mmmZ)")?,
            "--step-us" => a.step_us = Some(num(val("--step-us")?)?.max(1) as i64),
            "--soak" => a.soak = true,
            "--keys" => a.keys = num(val("--keys")?)?.max(1) as usize,
            "--stats" => a.stats = true,
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(a)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("gen_events: {e}");
            std::process::exit(1);
        }
    };
    let mut rng = Rng::new(args.seed);
    let cluster = Cluster::new(&mut rng, if args.soak { args.keys } else { 0 });
    let step_us = args.step_us.unwrap_or(if args.soak { 100 } else { 2000 });
    let mut g =
        Gen { rng, cluster, now_us: args.start_ms * 1000, step_us, last_ts: 0, last_ingested: 0, soak: args.soak };
    let attacks = if args.soak || args.attack_rate <= 0.0 { vec![] } else { load_attacks(&args.fixtures) };
    let mean_case = if attacks.is_empty() {
        1.0
    } else {
        attacks.iter().map(|(_, e)| e.len()).sum::<usize>() as f64 / attacks.len() as f64
    };
    // Probability that an emission slot starts an attack case, so that attack *events* make up
    // `attack_rate` of the output.
    let p_case = args.attack_rate / (mean_case * (1.0 - args.attack_rate) + args.attack_rate);

    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let (mut written, mut bytes, mut attack_events) = (0u64, 0u64, 0u64);
    let mut per_fixture: BTreeMap<String, u64> = BTreeMap::new();
    let mut buf = Vec::with_capacity(4096);
    let mut write = |v: &Value, written: &mut u64, bytes: &mut u64| -> bool {
        buf.clear();
        serde_json::to_writer(&mut buf, v).expect("serialises");
        buf.push(b'\n');
        *written += 1;
        *bytes += buf.len() as u64;
        match out.write_all(&buf) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => false,
            Err(e) => {
                eprintln!("gen_events: writing: {e}");
                std::process::exit(1);
            }
        }
    };
    'outer: while written < args.count {
        if !attacks.is_empty() && g.rng.chance(p_case) {
            let (fixture, case) = &attacks[g.rng.below(attacks.len())];
            if written + case.len() as u64 <= args.count {
                *per_fixture.entry(fixture.clone()).or_default() += 1;
                for e in g.attack(case) {
                    attack_events += 1;
                    if !write(&e, &mut written, &mut bytes) {
                        break 'outer;
                    }
                }
                continue;
            }
        }
        let e = g.benign();
        if !write(&e, &mut written, &mut bytes) {
            break;
        }
    }
    if let Err(e) = out.flush() {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("gen_events: writing: {e}");
            std::process::exit(1);
        }
    }
    if args.stats {
        let cases: u64 = per_fixture.values().sum();
        eprintln!(
            "{{\"events\":{written},\"bytes\":{bytes},\"mean_bytes\":{:.0},\"attack_events\":{attack_events},\"attack_cases\":{cases},\"first\":\"{}\",\"last_ingested\":\"{}\",\"attack_cases_by_fixture\":{}}}",
            bytes as f64 / written.max(1) as f64,
            iso(args.start_ms),
            iso(g.last_ingested),
            serde_json::to_string(&per_fixture).expect("serialises")
        );
    }
}
