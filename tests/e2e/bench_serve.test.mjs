// `minke bench serve` against `minke serve` on the demo model: the seed command's shape
// scaled down (16 prompts, 256 in / 64 out, ignore_eos) at request rate inf and at 8/s, with
// --max-concurrency, --save-result, and a server that is not there.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { MINKE, startServer } from "./harness.mjs";

let server;
before(async () => { server = await startServer(["--max-num-seqs", "64"]); });
after(async () => { await server?.stop(); });

function bench(args) {
  const r = spawnSync(MINKE, ["bench", "serve", "--disable-tqdm", ...args], { encoding: "utf8", timeout: 240_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const row = (out, label) => {  // a row of the result table (the preamble repeats some labels)
  const table = out.slice(out.indexOf("Serving Benchmark Result"));
  const line = table.split("\n").find((l) => l.startsWith(label));
  assert.ok(line, `no row '${label}' in:\n${out}`);
  return Number(line.slice(41).trim());
};
const seed = ["--dataset-name", "random", "--random-input-len", "256", "--random-output-len", "64",
              "--num-prompts", "16", "--ignore-eos"];

test("request rate inf: every request succeeds with exactly the asked lengths", () => {
  const r = bench(["--base-url", server.base, ...seed, "--request-rate", "inf"]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.out, /={12} Serving Benchmark Result ={12}/);
  assert.equal(row(r.out, "Successful requests:"), 16);
  assert.equal(row(r.out, "Failed requests:"), 0);
  assert.equal(row(r.out, "Total input tokens:"), 16 * 256, "random prompts re-tokenize to their length");
  assert.equal(row(r.out, "Total generated tokens:"), 16 * 64);
  assert.ok(row(r.out, "Mean TTFT (ms):") > 0);
  assert.ok(row(r.out, "Mean ITL (ms):") > 0, "tokens arrive as a stream, not at the end");
  assert.ok(row(r.out, "Mean TPOT (ms):") > 0);
  assert.ok(row(r.out, "Peak concurrent requests:") > 1);
  assert.match(r.out, /Traffic request rate: inf/);
});

test("request rate 8/s with max concurrency 4, and --save-result", () => {
  const dir = mkdtempSync(join(tmpdir(), "minke-bench-"));
  const r = bench(["--base-url", server.base, ...seed, "--request-rate", "8", "--max-concurrency", "4",
                   "--save-result", "--result-dir", dir, "--result-filename", "run.json",
                   "--percentile-metrics", "ttft,tpot,itl,e2el", "--metric-percentiles", "50,99"]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.equal(row(r.out, "Successful requests:"), 16);
  assert.equal(row(r.out, "Maximum request concurrency:"), 4);
  assert.ok(row(r.out, "Peak concurrent requests:") <= 4);
  assert.match(r.out, /P50 E2EL \(ms\):/);
  const saved = JSON.parse(readFileSync(join(dir, "run.json"), "utf8"));
  assert.equal(saved.completed, 16);
  assert.equal(saved.total_output_tokens, 16 * 64);
  assert.equal(saved.max_concurrency, 4);
  assert.equal(saved.request_rate, 8);
  assert.ok(saved.p99_ttft_ms >= saved.median_ttft_ms);
});

test("chat endpoint", () => {
  const r = bench(["--base-url", server.base, "--endpoint", "/v1/chat/completions", "--dataset-name", "random",
                   "--random-input-len", "64", "--random-output-len", "16", "--num-prompts", "8", "--ignore-eos"]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.equal(row(r.out, "Successful requests:"), 8);
  assert.equal(row(r.out, "Total generated tokens:"), 8 * 16);
});

test("no server: a clear error, exit code 2", () => {
  const r = bench(["--base-url", "http://127.0.0.1:1", ...seed]);
  assert.equal(r.code, 2);
  assert.match(r.err, /minke bench serve: /);
});
