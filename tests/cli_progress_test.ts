import assert from "node:assert/strict";
import { createProgressRenderer } from "../src/cli/progress.ts";

function progress(done: number, total: number) {
  return {
    type: "progress" as const,
    tensor: `text.layer${done}.mlp.down.weight`,
    tensorsDone: done,
    tensorsTotal: total,
    bytesDone: done * 1024,
    bytesTotal: total * 1024,
    elapsedMs: 1000 + done,
  };
}

Deno.test("the live progress line ends its own line on the last tensor, so the summary starts clean", () => {
  let out = "";
  const r = createProgressRenderer({ verbose: false, tty: true, write: (s) => out += s });
  r.onEvent(progress(0, 2));
  assert.ok(out.endsWith("text.layer0.mlp.down.weight"), "a running frame names its tensor");
  r.onEvent(progress(2, 2));
  assert.match(out, /\[2\/2 tensors\][^\n]*\n$/, "the last frame is a whole line");
  const before = out;
  r.finish();
  assert.equal(out, before, "finish has no live line left to clear");
});
