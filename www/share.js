// Share links: the events and the analyst's rules, compressed into the URL fragment (which
// browsers never send to a server), and restored from it on load or when it changes.

import { loadText } from "./events-pane.js";
import { setDraft } from "./rules-pane.js";
import { decodeState, encodeState, state } from "./state.js";
import { el, fmtBytes, toast } from "./ui.js";

/** Loads the state of a share link in the URL fragment; false when there is none (or it is unreadable). */
export async function restoreFromHash() {
  const m = /^#s=(.+)$/.exec(location.hash);
  if (!m) return false;
  try {
    const s = await decodeState(m[1]);
    state.custom = s.custom;
    state.tests = s.tests;
    setDraft(s.draft);
    loadText(s.events);
    return true;
  } catch (err) {
    toast(`Could not read the shared state: ${err.message}`);
    return false;
  }
}

export function initShare() {
  el.share.addEventListener("click", async () => {
    const frag = await encodeState();
    if (frag.length > 1_800_000) {
      toast(`Too large for a link (${fmtBytes(frag.length)} after compression). Share a smaller set of events.`);
      return;
    }
    history.replaceState(null, "", `#s=${frag}`);
    const url = location.href;
    try {
      await navigator.clipboard.writeText(url);
      toast(`Link copied (${fmtBytes(url.length)}). The state lives in the #fragment, which browsers never send to a server.`);
    } catch {
      toast("The link is in the address bar. The state lives in the #fragment, which browsers never send to a server.");
    }
  });
  window.addEventListener("hashchange", restoreFromHash);
}
