// Load and lifecycle through the official `openai` SDK: 200 concurrent streams with half
// cancelled midway, client disconnects while streaming and while queued, and SIGTERM drain.
// Every check on the server's state polls /metrics with a generous deadline, never a timing.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { metrics, onWatchdog, post, startServer, waitFor, waitIdle } from "./harness.mjs";

const isAbort = (e) => e instanceof OpenAI.APIUserAbortError || e?.name === "AbortError";

describe("200 concurrent streams (--max-num-seqs 256)", () => {
  let server, client;
  before(async () => {
    server = await startServer(["--max-num-seqs", "256"]);
    client = server.client();
  });
  after(() => server?.stop());

  test("100 cancelled midway, 100 complete; the engine ends idle", async () => {
    const started = Date.now();
    const before = await metrics(server.base);
    assert.equal(before["minke:kv_cache_usage_perc"], 0);
    const N = 200, MAX = 32;
    const state = new Map();  // i -> what request i is doing, for the watchdog
    onWatchdog(() => [...state].filter(([, v]) => v !== "done").map(([i, v]) => `${i}:${v}`).join(" ") || "streams done");
    const one = async (i) => {
      state.set(i, "creating");
      const cancel = i % 2 === 0;
      const stream = await client.completions.create({
        prompt: `Request number ${i}: tell me something`, max_tokens: MAX, ignore_eos: true, temperature: 0,
        stream: true, stream_options: { include_usage: true },
      });
      let chunks = 0, finish = null, usage = null, aborted = false;
      state.set(i, "streaming");
      try {
        // The SDK ends the iteration quietly after controller.abort().
        for await (const c of stream) {
          if (c.usage) usage = c.usage;
          for (const ch of c.choices) {
            chunks++;
            if (ch.finish_reason) finish = ch.finish_reason;
          }
          if (cancel && chunks === 3 && !finish) {
            aborted = true;
            // Abort, then leave the loop: waiting for the SDK to end the iteration by itself can
            // hang when the server already sent the whole response (a fast GPU server does;
            // openai-node #2613 fixed a hang of this family after 6.49).
            stream.controller.abort();
            break;
          }
        }
      } catch (e) {
        if (!isAbort(e)) throw e;
        aborted = true;
      }
      state.set(i, "done");
      return { cancel, aborted, chunks, finish, usage };
    };
    const results = await Promise.all(Array.from({ length: N }, (_, i) => one(i)));
    const completed = results.filter((r) => !r.cancel);
    for (const r of completed) {
      assert.equal(r.aborted, false);
      assert.equal(r.finish, "length");
      assert.equal(r.usage.completion_tokens, MAX);
      assert.ok(r.chunks >= 1 && r.chunks <= MAX);
    }
    // A cancelled stream whose client saw its end before cancelling ran out normally (allowed).
    for (const r of results.filter((x) => x.cancel && !x.aborted)) assert.equal(r.finish, "length");
    for (const r of results.filter((x) => x.aborted)) assert.equal(r.finish, null);

    state.set(-1, "waiting idle");
    const after = await waitIdle(server.base, { timeoutMs: 120_000 });
    state.set(-1, "after the storm");
    const delta = (k) => after[k] - before[k];
    const aborts = delta("minke:request_success_total{finished_reason=abort}");
    const lengths = delta("minke:request_success_total{finished_reason=length}");
    assert.equal(aborts + lengths, N, `abort ${aborts} + length ${lengths}`);
    assert.ok(lengths >= N / 2);
    assert.ok(delta("minke:generation_tokens_total") >= (N / 2) * MAX);
    assert.equal(after["minke:kv_cache_blocks_used"], 0);
    // Served again, normally.
    const r = await client.completions.create({ prompt: "after the storm", max_tokens: 4 });
    assert.equal(r.usage.completion_tokens, 4);
    state.set(-1, "done");
    const cancelled = results.filter((x) => x.aborted).length;
    console.log(`# 200 streams: ${cancelled} cancelled midway, engine aborts ${aborts}, lengths ${lengths}, ` +
                `${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  test("client disconnect mid-stream (SDK abort and raw fetch abort)", async () => {
    const stream = await client.chat.completions.create({
      messages: [{ role: "user", content: "Talk for a long time" }], max_tokens: 5000, ignore_eos: true, stream: true,
    });
    let n = 0;
    onWatchdog(() => `disconnect test: ${n} chunks`);
    try {
      for await (const _ of stream)
        if (++n === 5) {
          stream.controller.abort();
          break;
        }
    } catch (e) {
      if (!isAbort(e)) throw e;
    }
    assert.equal(n, 5);
    const ctrl = new AbortController();
    const r = await post(server.base, "/v1/completions", { prompt: "Long", max_tokens: 5000, ignore_eos: true, stream: true },
                         { signal: ctrl.signal });
    const reader = r.body.getReader();
    await reader.read();
    ctrl.abort();
    await waitIdle(server.base);
  });
});

describe("disconnect while queued (--max-num-seqs 1)", () => {
  let server, client;
  before(async () => {
    server = await startServer(["--max-num-seqs", "1"]);
    client = server.client();
  });
  after(() => server?.stop());

  const long = { prompt: "A very long story", max_tokens: 5000, ignore_eos: true };
  const waitQueue = async (running, waiting) => {
    let m;
    await waitFor(async () => {
      m = await metrics(server.base);
      return m["minke:num_requests_running"] === running && m["minke:num_requests_waiting"] === waiting;
    }, { describe: () => JSON.stringify(m) });
  };

  test("a queued stream and a queued non-streaming request leave the queue when their clients go", async () => {
    const running = await client.completions.create({ ...long, stream: true });
    await running[Symbol.asyncIterator]().next();
    const queuedStream = await client.completions.create({ ...long, stream: true });
    const ctrl = new AbortController();
    const queuedPlain = post(server.base, "/v1/completions", long, { signal: ctrl.signal }).catch((e) => e);
    await waitQueue(1, 2);
    queuedStream.controller.abort();
    await waitQueue(1, 1);
    ctrl.abort();
    assert.ok(isAbort(await queuedPlain));
    await waitQueue(1, 0);
    running.controller.abort();
    await waitIdle(server.base);
  });
});

describe("SIGTERM drain (--shutdown-timeout 1)", () => {
  let server, client;
  before(async () => {
    server = await startServer(["--shutdown-timeout", "1"]);
    client = server.client();
  });
  after(() => server?.stop("SIGKILL"));

  test("in-flight requests end with finish_reason abort, then [DONE]; exit code 0", async () => {
    const long = { max_tokens: 20000, ignore_eos: true };
    const stream = await client.chat.completions.create({ messages: [{ role: "user", content: "Go on forever" }], ...long, stream: true });
    const rawStream = await post(server.base, "/v1/completions", { prompt: "Forever", ...long, stream: true });
    const plain = client.completions.create({ prompt: "Forever and ever", ...long });
    const chunks = [];
    const it = stream[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) chunks.push((await it.next()).value);
    await waitFor(async () => (await metrics(server.base))["minke:num_requests_running"] === 3);

    server.proc.kill("SIGTERM");
    await waitFor(async () => server.stderr.includes("shutting down"));
    // Draining: /health stops answering 200 (503, or the connection is refused).
    let health;
    await waitFor(async () => {
      health = await fetch(server.base + "/health").then((r) => r.status, () => "refused");
      return health !== 200;
    }, { timeoutMs: 30_000, intervalMs: 20 });
    assert.ok(health === "refused" || health === 503, `health during drain: ${health}`);

    for (;;) {  // the SDK's iteration ends normally
      const { value, done } = await it.next();
      if (done) break;
      chunks.push(value);
    }
    const last = chunks.filter((c) => c.choices.length).at(-1);
    assert.equal(last.choices[0].finish_reason, "abort");
    for (const c of chunks.slice(0, -1)) assert.equal(c.choices[0].finish_reason, null);

    const sse = await rawStream.text();
    const events = sse.split("\n\n").filter((e) => e.startsWith("data: ")).map((e) => e.slice(6));
    assert.equal(events.at(-1), "[DONE]");
    assert.equal(JSON.parse(events.at(-2)).choices[0].finish_reason, "abort");

    const whole = await plain;
    assert.equal(whole.choices[0].finish_reason, "abort");
    assert.ok(whole.usage.completion_tokens > 0);

    const { code, signal } = await server.exit;
    assert.equal(signal, null);
    assert.equal(code, 0);
  });
});
