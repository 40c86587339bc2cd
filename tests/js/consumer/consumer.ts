// Type-checked (tsc --noEmit) against the shipped eqlite.d.ts: the public API has real types.
import { Engine, check, type Alert, type ExplanationNode, type Diagnostic, type BatchResult, type RuleInfo } from "eqlite";

const engine: Engine = new Engine({ latenessMs: 1000 });
// Optional arguments may be left out.
const plain: Engine = new Engine();
plain.addQuery("curl", 'process where process.name == "curl"');
plain.addQuery("wget", 'process where process.name == "wget"', { name: "wget", severity: "low" });
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
const severity: string = rules[0].severity;
const kind: "event" | "sequence" | "sample" = rules[0].kind;
console.log(n, first, positions, lines, trees.length, column, severity, kind);

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
] = [false, false, false, false, false, false, false, false];
console.log(noAny);
