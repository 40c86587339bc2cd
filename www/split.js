// Splits pasted text into input items the way the engine does (src/input.rs): one JSON object,
// NDJSON (or pretty-printed objects one after another), a JSON array, or an Elasticsearch search
// response (hits.hits, and hits.events / hits.sequences of an EQL search). Every item counts,
// invalid ones too, so item i here is position i in the engine's alerts and errors.
//
// The page uses this to show and explain the events behind alerts. Values are not built here:
// a small validating scanner finds where each item starts and ends (and where an invalid one
// goes wrong); JSON.parse runs later, only on the items that are shown or explained.

/** @typedef {{ start: number, end: number, line: number, json?: string, error?: { offset: number, line: number, column: number, message: string } }} Item */

class JsonError {
  constructor(offset, message) {
    this.offset = offset;
    this.message = message;
  }
}

const MAX_DEPTH = 128;

function isWs(c) {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function skipWs(s, i) {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

function scanString(s, i) {
  // s[i] is the opening quote.
  i++;
  for (;;) {
    if (i >= s.length) throw new JsonError(s.length, "EOF while parsing a string");
    const c = s.charCodeAt(i);
    if (c === 34) return i + 1;
    if (c === 92) {
      const e = s.charCodeAt(i + 1);
      if (i + 1 >= s.length) throw new JsonError(s.length, "EOF while parsing a string");
      if (e === 117) {
        for (let k = 2; k < 6; k++) {
          if (i + k >= s.length) throw new JsonError(s.length, "EOF while parsing a string");
          const h = s.charCodeAt(i + k);
          const hex = (h >= 48 && h <= 57) || (h >= 65 && h <= 70) || (h >= 97 && h <= 102);
          if (!hex) throw new JsonError(i + k, "invalid escape");
        }
        i += 6;
        continue;
      }
      // " \ / b f n r t
      if (e === 34 || e === 92 || e === 47 || e === 98 || e === 102 || e === 110 || e === 114 || e === 116) {
        i += 2;
        continue;
      }
      throw new JsonError(i + 1, "invalid escape");
    }
    if (c < 0x20) throw new JsonError(i, "control character (\\u0000-\\u001F) found while parsing a string");
    i++;
  }
}

function scanNumber(s, i) {
  const start = i;
  if (s.charCodeAt(i) === 45) i++;
  const digit = (k) => {
    const c = s.charCodeAt(k);
    return c >= 48 && c <= 57;
  };
  if (i >= s.length) throw new JsonError(i, "EOF while parsing a value");
  if (s.charCodeAt(i) === 48) {
    i++;
    if (digit(i)) throw new JsonError(i, "invalid number");
  } else if (digit(i)) {
    while (digit(i)) i++;
  } else {
    throw new JsonError(i, "invalid number");
  }
  if (s.charCodeAt(i) === 46) {
    i++;
    if (!digit(i)) throw new JsonError(i, i >= s.length ? "EOF while parsing a value" : "invalid number");
    while (digit(i)) i++;
  }
  const e = s.charCodeAt(i);
  if (e === 101 || e === 69) {
    i++;
    const sign = s.charCodeAt(i);
    if (sign === 43 || sign === 45) i++;
    if (!digit(i)) throw new JsonError(i, i >= s.length ? "EOF while parsing a value" : "invalid number");
    while (digit(i)) i++;
  }
  return i > start ? i : start + 1;
}

function scanIdent(s, i, word) {
  for (let k = 0; k < word.length; k++) {
    if (i + k >= s.length) throw new JsonError(s.length, "EOF while parsing a value");
    if (s.charCodeAt(i + k) !== word.charCodeAt(k)) throw new JsonError(i + k, "expected ident");
  }
  return i + word.length;
}

/** Scans one JSON value starting at s[i] (no leading whitespace); returns the index after it. */
function scanValue(s, i, depth) {
  if (i >= s.length) throw new JsonError(s.length, "EOF while parsing a value");
  const c = s.charCodeAt(i);
  switch (c) {
    case 123: // {
      return scanObject(s, i, depth + 1);
    case 91: // [
      return scanArray(s, i, depth + 1);
    case 34:
      return scanString(s, i);
    case 116:
      return scanIdent(s, i, "true");
    case 102:
      return scanIdent(s, i, "false");
    case 110:
      return scanIdent(s, i, "null");
    default:
      if (c === 45 || (c >= 48 && c <= 57)) return scanNumber(s, i);
      throw new JsonError(i, "expected value");
  }
}

function scanObject(s, i, depth) {
  if (depth > MAX_DEPTH) throw new JsonError(i, "recursion limit exceeded");
  i = skipWs(s, i + 1);
  if (i >= s.length) throw new JsonError(s.length, "EOF while parsing an object");
  if (s.charCodeAt(i) === 125) return i + 1;
  for (;;) {
    if (i >= s.length) throw new JsonError(s.length, "EOF while parsing an object");
    if (s.charCodeAt(i) !== 34) throw new JsonError(i, "key must be a string");
    i = skipWs(s, scanString(s, i));
    if (i >= s.length) throw new JsonError(s.length, "EOF while parsing an object");
    if (s.charCodeAt(i) !== 58) throw new JsonError(i, "expected `:`");
    i = skipWs(s, i + 1);
    i = skipWs(s, scanValue(s, i, depth));
    if (i >= s.length) throw new JsonError(s.length, "EOF while parsing an object");
    const c = s.charCodeAt(i);
    if (c === 125) return i + 1;
    if (c !== 44) throw new JsonError(i, "expected `,` or `}`");
    i = skipWs(s, i + 1);
    if (s.charCodeAt(i) === 125) throw new JsonError(i, "trailing comma");
  }
}

function scanArray(s, i, depth) {
  if (depth > MAX_DEPTH) throw new JsonError(i, "recursion limit exceeded");
  i = skipWs(s, i + 1);
  if (i >= s.length) throw new JsonError(s.length, "EOF while parsing a list");
  if (s.charCodeAt(i) === 93) return i + 1;
  for (;;) {
    i = skipWs(s, scanValue(s, i, depth));
    if (i >= s.length) throw new JsonError(s.length, "EOF while parsing a list");
    const c = s.charCodeAt(i);
    if (c === 93) return i + 1;
    if (c !== 44) throw new JsonError(i, "expected `,` or `]`");
    i = skipWs(s, i + 1);
    if (s.charCodeAt(i) === 93) throw new JsonError(i, "trailing comma");
  }
}

/** Line numbers for increasing offsets, without rescanning from the start each time. */
class Lines {
  constructor(text) {
    this.text = text;
    this.offset = 0;
    this.line = 1;
  }
  at(offset) {
    const t = this.text;
    if (offset < this.offset) {
      this.offset = 0;
      this.line = 1;
    }
    let o = this.offset;
    let line = this.line;
    for (;;) {
      const nl = t.indexOf("\n", o);
      if (nl < 0 || nl >= offset) break;
      line++;
      o = nl + 1;
    }
    this.offset = o;
    this.line = line;
    return line;
  }
}

/** 1-based column in characters (code points) of `offset` in `text`. */
export function columnAt(text, offset) {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  let n = 0;
  for (let i = lineStart; i < offset; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > lineStart) {
      const p = text.charCodeAt(i - 1);
      if (p >= 0xd800 && p <= 0xdbff) continue;
    }
    n++;
  }
  return n + 1;
}

/** UTF-16 offset of a 1-based (line, column-in-code-points) position, clamped to the text. */
export function offsetOf(text, line, column) {
  let o = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf("\n", o);
    if (nl < 0) return text.length;
    o = nl + 1;
  }
  let col = 1;
  while (col < column && o < text.length && text.charCodeAt(o) !== 10) {
    const c = text.charCodeAt(o);
    o += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
    col++;
  }
  return Math.min(o, text.length);
}

/** The events of a search response, if `json` is one (mirrors the engine's serde shape check). */
function searchHits(json) {
  if (!json.includes('"hits"')) return null;
  let v;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) return null;
  const h = v.hits;
  if (!h || typeof h !== "object" || Array.isArray(h)) return null;
  const list = (x) => x === undefined || x === null || Array.isArray(x);
  if (!list(h.hits) || !list(h.events) || !list(h.sequences)) return null;
  const seqs = h.sequences || [];
  if (!seqs.every((s) => s && typeof s === "object" && !Array.isArray(s) && Array.isArray(s.events))) return null;
  const out = [...(h.hits || []), ...(h.events || [])];
  for (const s of seqs) out.push(...s.events);
  return out.map((e) => JSON.stringify(e));
}

/**
 * Splits `text` into items. Returns { items, form } where form is "empty", "array", "ndjson",
 * "object", "search" or "mixed" (for display).
 * @returns {{ items: Item[], form: string }}
 */
export function splitEvents(text) {
  const items = [];
  const lines = new Lines(text);
  const err = (offset, message) => {
    offset = Math.min(offset, text.length);
    return { start: offset, end: offset, line: lines.at(offset), error: { offset, line: lines.at(offset), column: columnAt(text, offset), message } };
  };
  const start = text.length - text.trimStart().length;
  if (start >= text.length) return { items, form: "empty" };
  if (text.charCodeAt(start) === 91) {
    splitArray(text, start, items, lines, err);
    return { items, form: "array" };
  }
  let values = 0;
  let searches = 0;
  let from = 0;
  while (from < text.length) {
    let i = from;
    let resume = -1;
    for (;;) {
      i = skipWs(text, i);
      if (i >= text.length) break;
      try {
        const end = scanValue(text, i, 0);
        const json = text.slice(i, end);
        values++;
        const hits = searchHits(json);
        if (hits) {
          searches++;
          const line = lines.at(i);
          hits.forEach((h, k) => items.push({ start: i, end, line, json: h, hit: k + 1 }));
        } else {
          items.push({ start: i, end, line: lines.at(i), json });
        }
        i = end;
      } catch (e) {
        if (!(e instanceof JsonError)) throw e;
        items.push(err(e.offset, e.message));
        const nl = text.indexOf("\n", e.offset);
        resume = Math.max(nl < 0 ? text.length : nl + 1, from + 1);
        break;
      }
    }
    if (resume < 0) break;
    from = resume;
  }
  const form = searches > 0 ? (searches === values ? "search" : "mixed") : values <= 1 && items.length <= 1 ? "object" : "ndjson";
  return { items, form };
}

function splitArray(text, open, items, lines, err) {
  let depth = 0;
  let inStr = false;
  let elemStart = -1;
  let i = open + 1;
  let closed = false;
  const flush = (s, e) => {
    const raw = text.slice(s, e);
    const piece = raw.trim();
    if (piece === "") return;
    const at = s + (raw.length - raw.trimStart().length);
    try {
      let end = scanValue(piece, 0, 0);
      end = skipWs(piece, end);
      if (end < piece.length) throw new JsonError(end, "trailing characters");
      items.push({ start: at, end: at + piece.length, line: lines.at(at), json: piece });
    } catch (x) {
      if (!(x instanceof JsonError)) throw x;
      items.push(err(at + x.offset, x.message));
    }
  };
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (inStr) {
      if (c === 92) i++;
      else if (c === 34) inStr = false;
    } else if (c === 34) {
      inStr = true;
    } else if (c === 123 || c === 91) {
      depth++;
    } else if ((c === 125 || c === 93) && depth > 0) {
      depth--;
    } else if (c === 93) {
      if (elemStart >= 0) flush(elemStart, i);
      elemStart = -1;
      closed = true;
      break;
    } else if (c === 44 && depth === 0) {
      if (elemStart >= 0) flush(elemStart, i);
      else items.push(err(i, "an empty element in the array"));
      elemStart = -1;
      i++;
      continue;
    }
    if (elemStart < 0 && !(isWs(c) || c === 12)) elemStart = i;
    i++;
  }
  if (!closed) {
    if (elemStart >= 0) flush(elemStart, text.length);
    items.push(err(text.length, "the array is not closed with `]`"));
  } else {
    const rest = text.slice(i + 1);
    if (rest.trim() !== "") items.push(err(i + 1 + (rest.length - rest.trimStart().length), "text after the end of the array"));
  }
}
