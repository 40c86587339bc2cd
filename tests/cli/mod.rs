//! Running the `eqlite` binary from the integration tests (hostile input, the splitter table).

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};

/// Runs `eqlite args…` with `stdin` as its input; a panic of the binary fails the test.
pub fn eqlite(args: &[&str], stdin: &[u8]) -> Output {
    eqlite_env(args, &[], stdin)
}

/// As [`eqlite`], with environment variables set.
pub fn eqlite_env(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut child = spawn(args, env);
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "the CLI panicked: {stderr}");
    out
}

/// Starts `eqlite args…` with stdin, stdout and stderr piped, for tests that feed it as it runs.
pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_eqlite"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The alerts printed on stdout, one JSON object a line.
pub fn alerts(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Runs `eqlite args…` on a pseudo-terminal (util-linux `script`): stdin, stdout and stderr
/// are all the terminal. Returns what the terminal showed, or `None` when `script` is missing.
#[allow(dead_code)]
pub fn eqlite_in_pty(args: &[&str], env: &[(&str, &str)]) -> Option<String> {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipping: no `script` (util-linux) to run the CLI on a pseudo-terminal");
        return None;
    }
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let line: Vec<String> =
        std::iter::once(quote(env!("CARGO_BIN_EXE_eqlite"))).chain(args.iter().map(|a| quote(a))).collect();
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &line.join(" "), "/dev/null"])
        .envs(env.iter().copied())
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!text.contains("panicked"), "{text}");
    Some(text)
}
