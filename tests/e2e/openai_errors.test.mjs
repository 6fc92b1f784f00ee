// Error answers through the official `openai` SDK (its APIError subclasses) and raw fetch
// where the SDK hides details: 400 with `param` for each invalid parameter, context length,
// 401, 404 (model, route), 405, 413 and 503 + Retry-After from a full waiting queue.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { metrics, post, startServer, waitFor, waitIdle } from "./harness.mjs";

const KEY = "sk-e2e-secret";
const auth = { Authorization: `Bearer ${KEY}` };

// Runs `call`, which must throw an SDK error of class `cls`; returns the error.
async function rejects(call, cls) {
  try {
    await call();
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e?.constructor?.name}: ${e?.message}`);
    return e;
  }
  assert.fail(`expected ${cls.name}, but the request succeeded`);
}

// The OpenAI error body: exactly {error: {message, type, param, code}}.
function assertErrorShape(body) {
  assert.deepEqual(Object.keys(body), ["error"]);
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"]);
  assert.equal(typeof body.error.message, "string");
  assert.ok(body.error.message.length > 0);
}

describe("errors (api key, --max-model-len 64, --max-request-body 4KiB)", () => {
  let server, client;
  before(async () => {
    server = await startServer(["--api-key", KEY, "--max-model-len", "64", "--max-request-body", "4KiB"]);
    client = server.client({ apiKey: KEY });
  });
  after(() => server?.stop());

  const messages = [{ role: "user", content: "hi" }];
  const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: {} } } }];
  // [endpoint, body, param]: each answers 400 invalid_request_error naming `param`.
  const invalid = [
    ["completions", { prompt: "x", temperature: -1 }, "temperature"],
    ["completions", { prompt: "x", temperature: "hot" }, "temperature"],
    ["completions", { prompt: "x", top_p: 2 }, "top_p"],
    ["completions", { prompt: "x", top_p: 0 }, "top_p"],
    ["completions", { prompt: "x", top_k: -2 }, "top_k"],
    ["completions", { prompt: "x", min_p: 1.5 }, "min_p"],
    ["completions", { prompt: "x", presence_penalty: 3 }, "presence_penalty"],
    ["completions", { prompt: "x", frequency_penalty: -3 }, "frequency_penalty"],
    ["completions", { prompt: "x", repetition_penalty: 0 }, "repetition_penalty"],
    ["completions", { prompt: "x", n: 0 }, "n"],
    ["completions", { prompt: "x", max_tokens: 0 }, "max_tokens"],
    ["completions", { prompt: "x", max_tokens: 1.5 }, "max_tokens"],
    ["completions", { prompt: "x", max_tokens: 4, min_tokens: 5 }, "min_tokens"],
    ["completions", { prompt: "x", logprobs: 21 }, "logprobs"],
    ["completions", { prompt: "x", stop: [""] }, "stop"],
    ["completions", { prompt: "x", stop: 7 }, "stop"],
    ["completions", { prompt: "x", stop_token_ids: [-1] }, "stop_token_ids"],
    ["completions", { prompt: "x", logit_bias: { 99999999: 1 } }, "logit_bias"],
    ["completions", { prompt: "x", logit_bias: { 1: 500 } }, "logit_bias"],
    ["completions", { prompt: "x", seed: "abc" }, "seed"],
    ["completions", { prompt: "x", stream_options: { include_usage: true } }, "stream_options"],
    ["completions", { prompt: "x", echo: true }, "echo"],
    ["completions", {}, "prompt"],
    ["completions", { prompt: [] }, "prompt"],
    ["completions", { prompt: [1, "a"] }, "prompt"],
    ["completions", { prompt: { text: "x" } }, "prompt"],
    ["chat", {}, "messages"],
    ["chat", { messages: [] }, "messages"],
    ["chat", { messages: "hi" }, "messages"],
    ["chat", { messages: [{ role: "wizard", content: "x" }] }, "messages[0].role"],
    ["chat", { messages: [{ role: "user", content: "a" }, { role: "user" }] }, "messages[1].content"],
    ["chat", { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "http://x/y.png" } }] }] },
     "messages[0].content"],
    ["chat", { messages, max_completion_tokens: 0 }, "max_completion_tokens"],
    ["chat", { messages, top_logprobs: 2 }, "top_logprobs"],
    ["chat", { messages, logprobs: true, top_logprobs: 25 }, "top_logprobs"],
    ["chat", { messages, tools: [{ type: "function", function: {} }] }, "tools[0]"],
    ["chat", { messages, tools: { name: "x" } }, "tools"],
    ["chat", { messages, tools, tool_choice: { type: "function", function: { name: "not_there" } } }, "tool_choice"],
    ["chat", { messages, tool_choice: "required" }, "tool_choice"],
    ["chat", { messages, tools, tool_choice: "sometimes" }, "tool_choice"],
    // This server has no --tool-call-parser: tool calling cannot work, so it is refused.
    ["chat", { messages, tools, tool_choice: "auto" }, "tool_choice"],
    ["chat", { messages, tools }, "tool_choice"],
    ["chat", { messages, response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object" } } } },
     "response_format"],
    ["chat", { messages, response_format: { type: "json_object" } }, "response_format"],
    ["chat", { messages, chat_template_kwargs: "x" }, "chat_template_kwargs"],
  ];
  for (const [endpoint, body, param] of invalid) {
    test(`400 ${endpoint} ${JSON.stringify(body).slice(0, 110)} -> param ${param}`, async () => {
      const create = endpoint === "chat" ? (b) => client.chat.completions.create(b) : (b) => client.completions.create(b);
      const e = await rejects(() => create({ max_tokens: 4, ...body }), OpenAI.BadRequestError);
      assert.equal(e.status, 400);
      assert.equal(e.type, "invalid_request_error");
      assert.equal(e.param, param, e.message);
    });
  }

  test("400 raw: the body is {error: {message, type, param, code}}; a non-JSON body names `body`", async () => {
    const r = await post(server.base, "/v1/completions", { prompt: "x", temperature: -1 }, { headers: auth });
    assert.equal(r.status, 400);
    assert.match(r.headers.get("content-type"), /application\/json/);
    const body = await r.json();
    assertErrorShape(body);
    assert.deepEqual({ ...body.error, message: "" }, { message: "", type: "invalid_request_error", param: "temperature", code: null });
    const junk = await post(server.base, "/v1/chat/completions", "{not json", { headers: auth });
    assert.equal(junk.status, 400);
    const jb = await junk.json();
    assertErrorShape(jb);
    assert.equal(jb.error.param, "body");
  });

  test("400 context_length_exceeded: prompt too long, before any stream starts", async () => {
    const long = "word ".repeat(100);
    for (const stream of [false, true]) {
      const e = await rejects(() => client.completions.create({ prompt: long, max_tokens: 4, stream }), OpenAI.BadRequestError);
      assert.equal(e.code, "context_length_exceeded");
      assert.match(e.message, /\b64\b/, "the message names the limit");
      const c = await rejects(() => client.chat.completions.create({ messages: [{ role: "user", content: long }], max_tokens: 4, stream }),
                              OpenAI.BadRequestError);
      assert.equal(c.code, "context_length_exceeded");
      assert.match(c.message, /\b64\b/);
    }
    // A short prompt asking for more than fits.
    const m = await rejects(() => client.completions.create({ prompt: "hi", max_tokens: 100 }), OpenAI.BadRequestError);
    assert.equal(m.code, "context_length_exceeded");
    assert.equal(m.param, "max_tokens");
    assert.match(m.message, /\b64\b/);
    const s = await rejects(() => client.completions.create({ prompt: "hi", max_tokens: 100, stream: true }), OpenAI.BadRequestError);
    assert.equal(s.code, "context_length_exceeded");
    // Raw: a streaming request gets a plain JSON 400, not an SSE body.
    const r = await post(server.base, "/v1/completions", { prompt: long, stream: true }, { headers: auth });
    assert.equal(r.status, 400);
    assert.match(r.headers.get("content-type"), /application\/json/);
    assertErrorShape(await r.json());
  });

  test("a request that fits is served (limit is inclusive of prompt + max_tokens)", async () => {
    const r = await client.completions.create({ prompt: "hi", max_tokens: 8 });
    assert.equal(r.usage.completion_tokens + r.usage.prompt_tokens <= 64, true);
    const chat = await client.chat.completions.create({ messages, max_tokens: 4 });
    assert.equal(chat.choices.length, 1);
  });

  test("404 unknown model: code model_not_found, param model", async () => {
    const e = await rejects(() => client.completions.create({ model: "gpt-nope", prompt: "x", max_tokens: 2 }), OpenAI.NotFoundError);
    assert.equal(e.status, 404);
    assert.equal(e.code, "model_not_found");
    assert.equal(e.param, "model");
    const c = await rejects(() => client.chat.completions.create({ model: "gpt-nope", messages, max_tokens: 2 }), OpenAI.NotFoundError);
    assert.equal(c.code, "model_not_found");
    const ok = await client.completions.create({ model: "demo", prompt: "x", max_tokens: 1 });
    assert.equal(ok.model, "demo");
  });

  test("404 unknown route, 405 wrong method (JSON errors)", async () => {
    const r = await fetch(server.base + "/v1/nope", { headers: auth });
    assert.equal(r.status, 404);
    assertErrorShape(await r.json());
    const e = await rejects(() => client.get("/embeddingz"), OpenAI.NotFoundError);
    assert.equal(e.status, 404);
    const m = await fetch(server.base + "/v1/completions", { headers: auth });
    assert.equal(m.status, 405);
    assert.equal(m.headers.get("allow"), "POST");
    assertErrorShape(await m.json());
  });

  test("401 without or with a wrong key; /health, /metrics, /version stay public", async () => {
    const wrong = server.client({ apiKey: "sk-wrong" });
    const e = await rejects(() => wrong.completions.create({ prompt: "x", max_tokens: 1 }), OpenAI.AuthenticationError);
    assert.equal(e.status, 401);
    assert.equal(e.type, "authentication_error");
    assert.equal(e.code, "invalid_api_key");
    await rejects(() => wrong.models.list(), OpenAI.AuthenticationError);
    await rejects(() => wrong.chat.completions.create({ messages, max_tokens: 1 }), OpenAI.AuthenticationError);
    for (const path of ["/v1/completions", "/v1/chat/completions", "/tokenize", "/detokenize"]) {
      const r = await post(server.base, path, { prompt: "x", messages, tokens: [1] });
      assert.equal(r.status, 401, path);
      assertErrorShape(await r.json());
      const near = await post(server.base, path, {}, { headers: { Authorization: `Bearer ${KEY}x` } });
      assert.equal(near.status, 401, `${path} with a longer key`);
    }
    assert.equal((await fetch(server.base + "/v1/models")).status, 401);
    assert.equal((await fetch(server.base + "/health")).status, 200);
    assert.equal((await fetch(server.base + "/metrics")).status, 200);
    const v = await fetch(server.base + "/version");
    assert.equal(v.status, 200);
    assert.equal(typeof (await v.json()).version, "string");
    assert.deepEqual((await client.models.list()).data.map((m) => m.id), ["demo"]);
  });

  test("413 for a body over --max-request-body", async () => {
    const big = { prompt: "x".repeat(5000), max_tokens: 1 };
    const r = await post(server.base, "/v1/completions", big, { headers: auth });
    assert.equal(r.status, 413);
    assertErrorShape(await r.json());
    const e = await rejects(() => client.completions.create(big), OpenAI.APIError);
    assert.equal(e.status, 413);
    // The server still answers afterwards.
    assert.equal((await client.completions.create({ prompt: "x", max_tokens: 1 })).choices.length, 1);
  });
});

describe("503 + Retry-After when the waiting queue is full (--max-num-seqs 1 --max-num-waiting 1)", () => {
  let server, client;
  before(async () => {
    server = await startServer(["--max-num-seqs", "1", "--max-num-waiting", "1"]);
    client = server.client();
  });
  after(() => server?.stop());
  let rejectedBefore = 0;

  // Waits until `waiting` requests wait behind one running, unchanged over several polls
  // (so that what the server admits next is decided by a settled queue).
  async function queueSettled(waiting) {
    let m, stable = 0;
    await waitFor(async () => {
      m = await metrics(server.base);
      const ok = m["minke:num_requests_waiting"] === waiting && m["minke:num_requests_running"] === 1;
      stable = ok ? stable + 1 : 0;
      return stable >= 3;
    }, { describe: () => JSON.stringify(m) });
    rejectedBefore = m["minke:request_rejected_queue_full_total"];
  }

  test("one running, one waiting, the next is refused; all clean afterwards", async () => {
    const long = { prompt: "Tell a long story", max_tokens: 4000, ignore_eos: true, stream: true };
    const running = await client.completions.create(long);
    const it = running[Symbol.asyncIterator]();
    await it.next();  // it runs
    const waiting = await client.completions.create(long);  // SSE headers come at once; it waits
    await queueSettled(1);

    const e = await rejects(() => client.completions.create({ prompt: "x", max_tokens: 2 }), OpenAI.InternalServerError);
    assert.equal(e.status, 503);
    assert.ok(Number(e.headers.get("retry-after")) >= 1, "Retry-After");
    const r = await post(server.base, "/v1/chat/completions", { messages: [{ role: "user", content: "x" }], max_tokens: 2, stream: true });
    assert.equal(r.status, 503);
    assert.ok(Number(r.headers.get("retry-after")) >= 1);
    const body = await r.json();
    assertErrorShape(body);
    assert.equal(body.error.type, "service_unavailable");
    assert.ok((await metrics(server.base))["minke:request_rejected_queue_full_total"] >= 2);
    assert.equal((await fetch(server.base + "/health")).status, 200, "a full queue is not unhealthy");

    running.controller.abort();
    waiting.controller.abort();
    await waitIdle(server.base);
    const ok = await client.completions.create({ prompt: "x", max_tokens: 2 });
    assert.equal(ok.choices[0].finish_reason, "length", "served again once the queue has room");
  });

  test("a burst of requests: no more than --max-num-waiting are admitted to wait", async () => {
    const running = await client.completions.create({ prompt: "Tell a long story", max_tokens: 4000, ignore_eos: true, stream: true });
    await running[Symbol.asyncIterator]().next();
    await queueSettled(0);
    const ctrl = new AbortController();
    const burst = Array.from({ length: 12 }, (_, i) =>
      post(server.base, "/v1/completions", { prompt: `burst ${i}`, max_tokens: 2 }, { signal: ctrl.signal })
        .then((r) => r.status, () => "aborted"));
    // The admitted one waits behind the running request; the refusals answer at once.
    let m;
    await waitFor(async () => {
      m = await metrics(server.base);
      return m["minke:request_rejected_queue_full_total"] - rejectedBefore >= 11 || m["minke:num_requests_waiting"] > 1;
    }, { describe: () => JSON.stringify(m) });
    const waiting = (await metrics(server.base))["minke:num_requests_waiting"];
    running.controller.abort();
    const statuses = await Promise.all(burst);
    ctrl.abort();
    assert.equal(waiting, 1, `waiting requests after the burst (statuses ${statuses})`);
    assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses ${statuses}`);
    assert.equal(statuses.filter((s) => s === 503).length, 11, `statuses ${statuses}`);
    await waitIdle(server.base);
  });
});
