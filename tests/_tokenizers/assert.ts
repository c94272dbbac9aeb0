/** Minimal assertions for the HTF tests (JSR, home of @std/assert, is not reachable). */

/** Throws unless `cond` holds. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Throws unless `a` and `b` are deeply equal (typed arrays compared by content). */
export function assertEquals(a: unknown, b: unknown, msg = ""): void {
  const norm = (v: unknown): unknown =>
    ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v;
  const sa = JSON.stringify(norm(a), (_k, v) => typeof v === "bigint" ? `${v}n` : norm(v));
  const sb = JSON.stringify(norm(b), (_k, v) => typeof v === "bigint" ? `${v}n` : norm(v));
  if (sa !== sb) {
    throw new Error(
      `${msg ? msg + ": " : ""}not equal\n  actual:   ${sa.slice(0, 600)}\n  expected: ${
        sb.slice(0, 600)
      }`,
    );
  }
}

/** Runs `fn` and checks that it rejects with a HeliosError of `code` whose message includes `text`. */
export async function assertHeliosError(
  fn: () => unknown,
  code: string,
  text: string,
): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const e = err as { code?: string; message: string };
    if (e.code !== code || !e.message.includes(text)) {
      throw new Error(`expected ${code} with ${JSON.stringify(text)}, got ${e.code}: ${e.message}`);
    }
    if (e.message.includes("\n")) throw new Error(`error message is not one line: ${e.message}`);
    return;
  }
  throw new Error(`expected ${code} with ${JSON.stringify(text)}, but nothing was thrown`);
}
