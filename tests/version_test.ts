import assert from "node:assert/strict";
import { VERSION } from "../mod.ts";

Deno.test("the package version matches deno.json", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.equal(VERSION, config.version);
  assert.equal(config.name, "@helios/convert");
});
