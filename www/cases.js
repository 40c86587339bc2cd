// The playground's test cases as a case file (`NAME.tests.toml`, the format `eqlite test` reads):
// the worker runs it with engine.test(), the page offers it for download. No DOM here.

/** A TOML string holding `s`: a literal multi-line string when it can be, else a basic string. */
function tomlString(s) {
  if (!s.includes("'''") && !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s)) return `'''\n${s.replace(/\n*$/, "")}\n'''`;
  // JSON's string escapes are TOML's (JSON.stringify never writes `\/`).
  return JSON.stringify(s);
}

/** The case file of one rule's cases: `cases` are { name, expect: "fires" | "silent", events }. */
export function caseFileToml(ruleId, cases) {
  const out = [`# Cases of rule ${ruleId}, saved in the eqlite playground. Run: eqlite test RULE_FILE`, `rule_id = ${JSON.stringify(ruleId)}`, ""];
  for (const c of cases) {
    out.push("[[case]]", `name = ${JSON.stringify(c.name)}`, `expect = ${JSON.stringify(c.expect)}`, `events = ${tomlString(c.events)}`, "");
  }
  return out.join("\n");
}

/** The playground's cases, grouped by rule in first-saved order: [[ruleId, cases], …]. */
export function byRule(tests) {
  const groups = new Map();
  for (const t of tests) {
    if (!groups.has(t.ruleId)) groups.set(t.ruleId, []);
    groups.get(t.ruleId).push(t);
  }
  return [...groups];
}
