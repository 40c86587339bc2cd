// Helpers over the engine's explanation trees, shared by the worker and the page.

export const LEAF_KINDS = new Set(["category", "compare", "in", "match", "exists", "value"]);

export function isLeaf(node) {
  return LEAF_KINDS.has(node.kind) || !node.children || node.children.length === 0;
}

/**
 * How close a tree came to matching, in [0, 1]: the share of true clauses along the best branch
 * (an `or` counts its best operand; a wrong category weighs the rest down).
 */
export function closeness(node) {
  if (node.result === true) return 1;
  if (isLeaf(node) || node.kind === "not") return 0;
  const kids = node.children;
  if (node.kind === "or") return Math.max(0, ...kids.map(closeness));
  if (node.kind === "query") {
    const cat = kids.find((k) => k.kind === "category");
    const rest = kids.filter((k) => k.kind !== "category");
    const cond = rest.length ? rest.reduce((a, k) => a + closeness(k), 0) / rest.length : 1;
    if (cat && cat.result !== true) return 0.2 * cond;
    return cond;
  }
  return kids.reduce((a, k) => a + closeness(k), 0) / kids.length;
}

/**
 * The path (root first) to the first clause that failed: in an `and`, the first operand that is
 * not true; in an `or`, the operand that came closest. The last node is the deepest one: a leaf,
 * or a `not` whose operand was true. Empty when the tree matched.
 */
export function failurePath(node) {
  const path = [];
  let n = node;
  while (n && n.result !== true) {
    path.push(n);
    if (isLeaf(n) || n.kind === "not") break;
    const kids = n.children;
    if (n.kind === "or") {
      let best = null;
      let bestScore = -1;
      for (const k of kids) {
        const s = closeness(k);
        if (s > bestScore) {
          best = k;
          bestScore = s;
        }
      }
      n = best;
    } else {
      n = kids.find((k) => k.result !== true) || null;
    }
  }
  return path;
}

export function firstFailure(node) {
  const p = failurePath(node);
  return p.length ? p[p.length - 1] : null;
}

/** Counts of leaf outcomes in a tree. */
export function leafCounts(node, acc = { true: 0, false: 0, null: 0, total: 0 }) {
  if (isLeaf(node)) {
    acc.total++;
    acc[String(node.result)]++;
  } else {
    for (const k of node.children) leafCounts(k, acc);
  }
  return acc;
}

/**
 * Labels for the trees of a rule: "Query" for an event rule; for a sequence, "Stage 1", … and
 * "until" for an until clause (told apart by the query text between the stages).
 */
export function treeLabels(query, trees, sequence) {
  if (!sequence) return trees.map(() => "Query");
  let stage = 0;
  return trees.map((t, i) => {
    const prevEnd = i === 0 ? 0 : trees[i - 1].span.endUtf16;
    const between = query.slice(prevEnd, t.span.startUtf16);
    if (i > 0 && /\buntil\b/.test(between)) return "until";
    stage++;
    return `Stage ${stage}`;
  });
}

/**
 * Which stage each member event of a sequence alert stands for: the i-th member is stage i when
 * the counts agree; otherwise (runs=N) members walk forward through the stages they match.
 */
export function stageOfMembers(treesPerMember, labels) {
  const stages = labels.map((l, i) => (l === "until" ? -1 : i)).filter((i) => i >= 0);
  if (treesPerMember.length === stages.length) return stages;
  let p = 0;
  return treesPerMember.map((trees) => {
    for (let q = p; q < stages.length; q++) {
      if (trees[stages[q]] && trees[stages[q]].result === true) {
        p = q;
        return stages[q];
      }
    }
    return stages[Math.min(p, stages.length - 1)];
  });
}

function get(obj, dotted) {
  if (obj == null || typeof obj !== "object") return undefined;
  if (dotted in obj) return obj[dotted];
  const parts = dotted.split(".");
  let cur = obj;
  for (let i = 0; i < parts.length; i++) {
    if (cur == null || typeof cur !== "object") return undefined;
    const rest = parts.slice(i).join(".");
    if (rest in cur) return cur[rest];
    cur = cur[parts[i]];
  }
  return cur;
}

function first(v) {
  return Array.isArray(v) ? v[0] : v;
}

function clip(s, n) {
  s = String(s);
  return s.length > n ? s.slice(0, n - 1) + "…" : s;
}

/** A one-line description of an event for lists: what happened, where. */
export function eventSummary(ev) {
  if (ev && typeof ev === "object" && ev._source && typeof ev._source === "object") ev = ev._source;
  if (!ev || typeof ev !== "object" || Array.isArray(ev)) return { title: "not a JSON object", detail: "" };
  const cat = get(ev, "event.category");
  const cats = Array.isArray(cat) ? cat.join(",") : cat;
  const action = get(ev, "event.action");
  const ts = get(ev, "@timestamp");
  const host = first(get(ev, "host.name")) || first(get(ev, "host.hostname"));
  const pod = get(ev, "orchestrator.resource.name");
  const container = get(ev, "container.name");
  let what = "";
  const args = get(ev, "process.args");
  const cmd = get(ev, "process.command_line") || get(ev, "process.title") || (Array.isArray(args) ? args.join(" ") : args);
  const filePath = get(ev, "file.path");
  const verb = get(ev, "kubernetes.audit.verb");
  const dip = get(ev, "destination.ip");
  const dport = get(ev, "destination.port");
  if (verb) {
    const res = get(ev, "kubernetes.audit.objectRef.resource");
    const sub = get(ev, "kubernetes.audit.objectRef.subresource");
    const ns = get(ev, "kubernetes.audit.objectRef.namespace");
    const decision = get(ev, "kubernetes.audit.annotations.authorization_k8s_io/decision");
    what = `k8s audit: ${verb} ${res || ""}${sub ? "/" + sub : ""}${ns ? " in " + ns : ""}${decision ? " (" + decision + ")" : ""}`;
  } else if (cats && String(cats).includes("network") && (dip || dport)) {
    what = `${get(ev, "process.name") || "connection"} → ${dip || "?"}:${dport ?? "?"}`;
  } else if (filePath && (!cmd || String(cats).includes("file"))) {
    what = `${get(ev, "process.name") ? get(ev, "process.name") + " opens " : ""}${filePath}`;
  } else if (cmd) {
    what = String(cmd);
  } else if (get(ev, "process.name")) {
    what = String(get(ev, "process.name"));
  }
  const tags = [cats, action].filter((x) => x !== undefined && x !== null && x !== "").join(" · ");
  const where = [pod ? `pod ${pod}` : container ? `container ${container}` : "", host ? `host ${host}` : ""].filter(Boolean).join(", ");
  return {
    title: clip(what || tags || "event", 200),
    detail: clip([ts, tags, where].filter(Boolean).join(" — "), 200),
  };
}

/** A JSON scalar as it would be written in JSON (strings quoted). */
export function literal(v) {
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}
