// Renders the engine's explanation trees: the query with every clause coloured by its outcome,
// and the clause tree with the values that decided each comparison. Everything from events or
// rules goes through textContent; no HTML is ever parsed from data.

import { failurePath, isLeaf, leafCounts, literal } from "./explain-utils.js";

export const MARK = { true: "✓", false: "✗", null: "?" };
export const WORD = { true: "true", false: "false", null: "null" };

/** createElement with a class, text and children. */
export function h(tag, cls, ...kids) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    el.append(typeof k === "string" || typeof k === "number" ? document.createTextNode(String(k)) : k);
  }
  return el;
}

function res(node) {
  return node.result === true ? "true" : node.result === false ? "false" : "null";
}

/** The node's span in UTF-16 units, without trailing whitespace. */
function spanOf(node, query) {
  let s = node.span.startUtf16;
  let e = node.span.endUtf16;
  while (e > s && /\s/.test(query[e - 1])) e--;
  return [s, e];
}

export function mark(result, extra = "") {
  const r = result === true ? "true" : result === false ? "false" : "null";
  const el = h("span", `mk mk-${r} ${extra}`.trim(), MARK[r]);
  el.setAttribute("aria-hidden", "true");
  return el;
}

/** A badge "✓ true" / "✗ false" / "? null" that does not rely on colour. */
export function outcome(result) {
  const r = result === true ? "true" : result === false ? "false" : "null";
  return h("span", `outcome o-${r}`, mark(result), h("span", "", WORD[r]));
}

const COMPOSITE_LABEL = { and: "all of", or: "any of", not: "not", query: "query" };

function oneLine(text, max = 220) {
  const t = text.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\s+/g, " ").trim();
  return t.length > max ? t.slice(0, max - 1) + "…" : t;
}

let nextId = 0;

/** Query text between clauses, with block comments dimmed (string literals are skipped). */
function codeText(text) {
  if (!text.includes("/*")) return document.createTextNode(text);
  const frag = document.createDocumentFragment();
  let cur = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"' || c === "'" || c === "`") {
      const triple = text.startsWith(c.repeat(3), i);
      const close = triple ? c.repeat(3) : c;
      let j = i + close.length;
      while (j < text.length && !text.startsWith(close, j)) j += text[j] === "\\" && !triple ? 2 : 1;
      i = j + close.length;
    } else if (c === "/" && text[i + 1] === "*") {
      const j = text.indexOf("*/", i + 2);
      const stop = j < 0 ? text.length : j + 2;
      frag.append(document.createTextNode(text.slice(cur, i)), h("span", "comment", text.slice(i, stop)));
      cur = i = stop;
    } else {
      i++;
    }
  }
  frag.append(document.createTextNode(text.slice(cur)));
  return frag;
}

/**
 * Renders one tree (an event query, or one stage of a sequence) against `query`.
 * Returns an element with the coloured query and the clause tree.
 */
export function renderTree(query, tree, { nearMiss = false, label = null } = {}) {
  const ids = new Map();
  const idOf = (n) => {
    if (!ids.has(n)) ids.set(n, `n${++nextId}`);
    return ids.get(n);
  };
  const path = tree.result === true ? [] : failurePath(tree);
  const onPath = new Set(path);
  const first = path.length ? path[path.length - 1] : null;

  const wrap = h("div", "explain");
  wrap.dataset.result = res(tree);

  if (first) {
    const callout = h(
      "div",
      "first-fail-callout",
      h("span", "ff-label", nearMiss ? "First failing clause" : "Failed at"),
      h("code", "ff-clause", mark(first.result), oneLine(first.text, 160)),
      h("span", "ff-reason", first.reason),
    );
    if (isLeaf(first) && first.field) {
      const vals = leafDetail(first).querySelector(".cvalues");
      if (vals) callout.append(vals);
    }
    callout.dataset.nid = idOf(first);
    wrap.append(callout);
  }

  // The query, coloured.
  const pre = h("pre", "query-view");
  pre.setAttribute("aria-label", `${label || "Query"} with clause outcomes`);
  const [rs, re] = spanOf(tree, query);
  const base = label && label !== "Query" ? rs : 0;
  const end = label && label !== "Query" ? re : query.length;
  const paint = (node, parent) => {
    const [s, e] = spanOf(node, query);
    const leaf = isLeaf(node);
    const cls = ["cl", `k-${node.kind}`, `r-${res(node)}`];
    if (leaf) cls.push("leaf");
    if (onPath.has(node) && node.kind !== "query") cls.push("on-path");
    if (node === first) cls.push("first-fail");
    const span = h("span", cls.join(" "));
    span.dataset.nid = idOf(node);
    span.title = `${MARK[res(node)]} ${WORD[res(node)]}: ${node.reason}`;
    if (leaf || node.kind === "not") span.append(mark(node.result));
    let cur = s;
    const kids = (node.children || []).slice().sort((a, b) => a.span.startUtf16 - b.span.startUtf16);
    for (const k of kids) {
      const [cs, ce] = spanOf(k, query);
      if (cs < cur || ce > e || ce <= cs) continue;
      span.append(codeText(query.slice(cur, cs)));
      paint(k, span);
      cur = ce;
    }
    span.append(codeText(query.slice(cur, e)));
    parent.append(span);
  };
  if (rs >= base && re <= end && re > rs) {
    pre.append(codeText(query.slice(base, rs)));
    paint(tree, pre);
    pre.append(codeText(query.slice(re, end).replace(/\s+$/, "")));
  } else {
    pre.append(codeText(query.slice(base, end)));
  }
  wrap.append(pre);

  // The clause tree.
  const counts = leafCounts(tree);
  wrap.append(
    h(
      "p",
      "clause-counts",
      `${counts.total} clause${counts.total === 1 ? "" : "s"}: `,
      h("span", "o-true", `${MARK.true} ${counts.true} true`),
      " · ",
      h("span", "o-false", `${MARK.false} ${counts.false} false`),
      " · ",
      h("span", "o-null", `${MARK.null} ${counts.null} null`),
    ),
  );
  const list = h("ul", "ctree");
  const row = (node, negated, parent) => {
    const li = h("li", `cnode r-${res(node)}${onPath.has(node) ? " on-path" : ""}${node === first ? " first-fail" : ""}`);
    li.dataset.nid = idOf(node);
    if (isLeaf(node)) {
      const tags = h("span", "ctags");
      if (negated) tags.append(h("span", "negated", "inside not"));
      if (node === first) tags.append(h("span", "ff-tag", "first failure"));
      const head = h("div", "crow", outcome(node.result), h("code", "ctext", oneLine(node.text)), tags);
      li.append(head, leafDetail(node));
    } else {
      const label = COMPOSITE_LABEL[node.kind] || node.kind;
      const tags = h("span", "ctags");
      if (node === first) tags.append(h("span", "ff-tag", "first failure"));
      const head = h("summary", "crow group", outcome(node.result), h("span", "glabel", label), h("span", "greason", node.reason), tags);
      // Alternatives of an `or` that neither matched nor are the closest miss start folded.
      const folded = parent && parent.kind === "or" && node.result !== true && !onPath.has(node);
      const box = h("details", "cgroup", head);
      box.open = !folded;
      const ul = h("ul", "ctree");
      for (const k of node.children) ul.append(row(k, negated || node.kind === "not", node));
      box.append(ul);
      li.append(box);
    }
    return li;
  };
  if (tree.kind === "query" && tree.children) {
    for (const k of tree.children) list.append(row(k, false, tree));
  } else {
    list.append(row(tree, false, null));
  }
  wrap.append(list);

  // Hovering a clause lights up its twin (query ↔ tree).
  wrap.addEventListener("mouseover", (e) => {
    const t = e.target.closest("[data-nid]");
    if (!t || !wrap.contains(t)) return;
    for (const el of wrap.querySelectorAll(".linked")) el.classList.remove("linked");
    for (const el of wrap.querySelectorAll(`[data-nid="${t.dataset.nid}"]`)) el.classList.add("linked");
  });
  wrap.addEventListener("mouseleave", () => {
    for (const el of wrap.querySelectorAll(".linked")) el.classList.remove("linked");
  });
  return wrap;
}

function valueChip(v, decisive) {
  const el = h("code", `val${decisive ? " decisive" : ""}`, literal(v));
  if (decisive) el.title = "the value that decided this clause";
  return el;
}

/** Field, values and the deciding value/pattern of one clause. */
function leafDetail(node) {
  const box = h("div", "cdetail");
  const decided = node.decidedBy || null;
  const hasDecided = !!decided && Object.prototype.hasOwnProperty.call(decided, "value");
  const hasPattern = hasDecided && Object.prototype.hasOwnProperty.call(decided, "pattern");
  const verb =
    node.kind === "match"
      ? node.result
        ? "matched"
        : "vs"
      : node.kind === "in"
        ? node.result
          ? "is in the list as"
          : "vs"
        : "compared with";
  const line = h("div", "cvalues");
  if (node.field) {
    line.append(h("code", "field", node.field), h("span", "arrow", "→"));
    const vals = node.values || [];
    if (!vals.length) {
      line.append(h("span", "missing", "no value (field missing)"));
    } else {
      const shown = vals.slice(0, 8);
      let marked = false;
      for (const v of shown) {
        const d = hasDecided && !marked && v === decided.value;
        if (d) marked = true;
        line.append(valueChip(v, d));
      }
      const total = node.valuesTotal || vals.length;
      if (total > shown.length) line.append(h("span", "more", `+${total - shown.length} more`));
      // The deciding value was not among those shown: name it.
      if (hasDecided && !marked) line.append(h("span", "dlabel", "decided by"), valueChip(decided.value, true));
    }
  } else if (hasDecided) {
    line.append(h("span", "dlabel", "value"), valueChip(decided.value, true));
  }
  if (hasPattern) line.append(h("span", "dverb", verb), h("code", "pattern", literal(decided.pattern)));
  if (line.childNodes.length) box.append(line);
  // The engine's sentence, when the chips above do not already say it.
  if (!hasPattern) box.append(h("div", "reason", node.reason));
  return box;
}
