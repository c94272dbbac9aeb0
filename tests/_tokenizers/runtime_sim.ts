/**
 * A tiny model of the runtime's BPE path (§17, newer generation, steps 1–5), reading only the
 * HTF domain. Tests use it to show that the settings we write make the runtime's algorithm
 * give the ids tokenizers.js gives.
 *
 * @module
 */

import { byteToUnicode } from "../../src/fixtures/tokenizer.ts";
import type { HtfDomain } from "../../src/htf/mod.ts";

const BYTE_CHARS = byteToUnicode();

/** Encodes `text` the way the runtime's BPE path does with this domain's settings. */
export function simulateRuntime(d: HtfDomain, text: string): number[] {
  const t = d.text!;
  const toId = new Map<string, number>();
  const toToken = new Map<number, string>();
  for (const v of d.vocab) {
    toId.set(v.token, v.id);
    toToken.set(v.id, v.token);
  }
  const rank = new Map<number, number>();
  for (let i = 0; i < d.merges.length; i += 2) {
    const k = d.merges[i] * 4194304 + d.merges[i + 1];
    if (!rank.has(k)) rank.set(k, i / 2);
  }
  const out: number[] = [];
  // Step 1: added tokens, leftmost and longest first.
  let seg = "";
  for (let i = 0; i < text.length;) {
    let best: { id: number; content: string } | undefined;
    for (const a of d.added) {
      if (text.startsWith(a.content, i) && (!best || a.content.length > best.content.length)) {
        best = a;
      }
    }
    if (best) {
      out.push(...encodeSegment(seg));
      seg = "";
      out.push(best.id);
      i += best.content.length;
    } else seg += text[i++];
  }
  out.push(...encodeSegment(seg));
  return out;

  function encodeSegment(s: string): number[] {
    if (s.length === 0) return [];
    // Step 2.
    if (t.normalizerType === 1) s = s.replaceAll(" ", "\u2581");
    if (t.flags & 0x02 && !s.startsWith(" ")) s = " " + s;
    if (t.flags & 0x01) s = Array.from(new TextEncoder().encode(s), (b) => BYTE_CHARS[b]).join("");
    // Steps 3–4: one word; characters, then byte fallback or unk.
    const syms: number[] = [];
    for (const ch of s) {
      const id = toId.get(ch);
      if (id !== undefined) syms.push(id);
      else if (t.modelFlags & 0x01) {
        for (const b of new TextEncoder().encode(ch)) {
          syms.push(toId.get(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`)!);
        }
      } else if (t.unkTokenId >= 0) syms.push(t.unkTokenId);
    }
    // Step 5: lowest rank first; a joined string missing from the vocab stops merging.
    for (;;) {
      let at = -1;
      let best = Infinity;
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = rank.get(syms[i] * 4194304 + syms[i + 1]);
        if (r !== undefined && r < best) [best, at] = [r, i];
      }
      if (at < 0) break;
      const joined = toId.get(toToken.get(syms[at])! + toToken.get(syms[at + 1])!);
      if (joined === undefined) break;
      syms.splice(at, 2, joined);
    }
    return syms;
  }
}

/**
 * SentencePiece's own BPE encoding (bpe_model.cc): repeatedly merge the adjacent pair whose
 * concatenation is a normal piece with the highest score (leftmost on ties); then byte
 * fallback. An independent reference for merges derived from a tokenizer.model.
 */
export function sentencePieceBpeEncode(
  pieces: { piece: string; score: number; type: number }[],
  text: string,
): number[] {
  const normal = new Map<string, number>();
  const any = new Map<string, number>();
  pieces.forEach((p, i) => {
    if (p.type === 1 && !normal.has(p.piece)) normal.set(p.piece, i);
    if (!any.has(p.piece)) any.set(p.piece, i);
  });
  if (text.length === 0) return [];
  const syms = Array.from("\u2581" + text.replaceAll(" ", "\u2581"));
  for (;;) {
    let at = -1;
    let best = -Infinity;
    for (let i = 0; i + 1 < syms.length; i++) {
      const id = normal.get(syms[i] + syms[i + 1]);
      if (id !== undefined && pieces[id].score > best) [best, at] = [pieces[id].score, i];
    }
    if (at < 0) break;
    syms.splice(at, 2, syms[at] + syms[at + 1]);
  }
  const out: number[] = [];
  for (const s of syms) {
    const id = normal.get(s);
    if (id !== undefined) out.push(id);
    else {for (const b of new TextEncoder().encode(s)) {
        out.push(any.get(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`)!);
      }}
  }
  return out;
}
