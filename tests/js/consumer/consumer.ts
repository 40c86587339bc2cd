// Type-checked (tsc --noEmit, strict, skipLibCheck false, lib ES2022 + DOM: see tsconfig.json)
// against the shipped declarations: the public API has real types.
import init, { Engine, check, initSync, type Alert, type ExplanationNode, type Diagnostic, type BatchResult, type RuleInfo, type Severity, type SequenceProgress, type SequenceStop, type RuleTestReport, type TestExpect } from "eqlite";
import wasmModule from "eqlite/eqlite_bg.wasm";

const engine: Engine = new Engine({ latenessMs: 1000 });
// Optional arguments may be left out.
const plain: Engine = new Engine();
plain.addQuery("curl", 'process where process.name == "curl"');
plain.addQuery("wget", 'process where process.name == "wget"', { name: "wget", severity: "low" });
// @ts-expect-error: severity is one of four labels, not any string.
plain.addQuery("nc", 'process where process.name == "nc"', { severity: "urgent" });
const n: number = engine.loadDefaultRules();
const rules: RuleInfo[] = engine.rules();
const alerts: Alert[] = engine.evaluate({ process: { name: "curl" } });
const first: string | undefined = alerts[0]?.ruleId;
const batch: BatchResult = engine.evaluateBatch('{"a":1}\n{"a":2}');
const positions: number[] = batch.alerts.flatMap((a) => a.events);
const lines: number[] = batch.errors.map((e) => e.line);

function walk(node: ExplanationNode, depth = 0): string[] {
  const verdict: string = node.result === null ? "null" : String(node.result);
  const here = `${"  ".repeat(depth)}${node.text} -> ${verdict} (${node.span.startUtf16}..${node.span.endUtf16})`;
  return [here, ...(node.children ?? []).flatMap((c) => walk(c, depth + 1))];
}
const trees: string[] = engine.explain('{"event":{"category":"process"}}', rules[0].ruleId).flatMap((r) => r.explanations.flatMap((t) => walk(t)));
const diags: Diagnostic[] = check("process where");
const column: number = diags[0].columnUtf16;
const severity: Severity = rules[0].severity;
const alertSeverity: "low" | "medium" | "high" | "critical" | undefined = alerts[0]?.severity;
// Explicit initialisation is typed too: the bare module (Workers), or a URL for init().
const exportsOf: { memory: WebAssembly.Memory } = initSync({ module: wasmModule });
const ready: Promise<unknown> = init({ module_or_path: new URL("https://example.com/eqlite_bg.wasm") });
// Classes are disposable (wasm-bindgen's Symbol.dispose, from the lib the declarations reference).
{
  using scoped = new Engine();
  scoped.loadDefaultRules();
}
const kind: "event" | "sequence" | "sample" = rules[0].kind;
console.log(n, first, positions, lines, trees.length, column, severity, alertSeverity, kind, exportsOf, ready);

// Test cases of a rule (the `*.tests.toml` format of `eqlite test`), with the files they name.
const report: RuleTestReport = engine.test('rule_id = "r"\n', { "events.ndjson": "{}" });
const failed: string[] = report.cases.filter((c) => !c.passed).map((c) => `${c.name}: ${c.deciding?.snippet ?? c.error ?? ""}`);
const uncovered: string[] = report.conditions.filter((c) => c.decisiveIn.length === 0 && !c.excused).map((c) => `${c.line}:${c.column} ${c.text}`);
const expected: TestExpect = report.cases[0].expected;
const exact: number[][] | undefined = typeof expected === "object" ? expected.alerts : undefined;
console.log(report.coverage, failed, uncovered, exact, engine.test("rule_id = \"r\"\n"));

// The public surface has no `any`: each of these fails to compile if a type degrades to `any`.
type IsAny<T> = 0 extends 1 & T ? true : false;
const noAny: [
  IsAny<ReturnType<Engine["evaluate"]>>,
  IsAny<ReturnType<Engine["evaluateBatch"]>>,
  IsAny<ReturnType<Engine["explain"]>>,
  IsAny<ReturnType<Engine["rules"]>>,
  IsAny<ReturnType<Engine["push"]>>,
  IsAny<ReturnType<Engine["stats"]>>,
  IsAny<ReturnType<typeof check>>,
  IsAny<Parameters<Engine["evaluate"]>[0]>,
  IsAny<ReturnType<Engine["test"]>>,
] = [false, false, false, false, false, false, false, false, false];
console.log(noAny);

// Why a sequence did not fire, and the explanation fields that answer the next question.
const progress: SequenceProgress = engine.sequenceProgress(rules[0].ruleId, '{"a":1}');
const stop: SequenceStop | undefined = progress.keys[0]?.stopped;
const late: number | undefined = stop?.kind === "maxspan" ? stop.exceededMs : undefined;
const prevents: boolean = engine.explain("{}")[0].prevents;
const caseOnly: JsonScalarPair | undefined = engine.explain("{}")[0].explanations[0].caseOnly;
type JsonScalarPair = { value: string | number | boolean | null; pattern?: string | number | boolean | null };
const tsField: string = engine.explainAlert({ ruleId: "r", ruleName: "", severity: "low", riskScore: 0, events: [] }, [])[0].timestampField;
const progressIsAny: IsAny<ReturnType<Engine["sequenceProgress"]>> = false;
console.log(progress.timestampField, late, prevents, caseOnly, tsField, progressIsAny);
