// /v1/completions and /v1/chat/completions through the official `openai` SDK: usage
// accounting, n, streaming == non-streaming, logprobs shapes, seeds, prompt forms, sampling
// options; stop strings and the like on scripted output (exact text known in advance).
//   node --test tests/e2e/openai_api.test.mjs   (MINKE_BIN=path/to/minke)
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { collect, postJson, startServer, writeScript } from "./harness.mjs";

const utf8 = (s) => [...Buffer.from(s, "utf8")];

describe("demo model", () => {
  let server, client;
  before(async () => {
    server = await startServer();
    client = server.client();
  });
  after(() => server?.stop());

  const tokenCount = async (prompt) => (await postJson(server.base, "/tokenize", { prompt })).body.count;

  test("/v1/models lists the served model name", async () => {
    const models = await client.models.list();
    assert.deepEqual(models.data.map((m) => m.id), ["demo"]);
    assert.equal(models.data[0].object, "model");
  });

  test("completion: finish_reason length and usage", async () => {
    const r = await client.completions.create({ model: "demo", prompt: "Hello", max_tokens: 8, temperature: 0 });
    assert.equal(r.object, "text_completion");
    assert.match(r.id, /^cmpl-/);
    assert.equal(r.model, "demo");
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].index, 0);
    assert.equal(r.choices[0].finish_reason, "length");
    assert.equal(typeof r.choices[0].text, "string");
    assert.equal(r.usage.completion_tokens, 8);
    assert.equal(r.usage.prompt_tokens, await tokenCount("Hello"));
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  });

  test("completion: stream == non-stream at temperature 0, usage chunk last", async () => {
    const params = { model: "demo", prompt: "The capital of France is", max_tokens: 12, temperature: 0 };
    const whole = await client.completions.create(params);
    const chunks = await collect(await client.completions.create({
      ...params, stream: true, stream_options: { include_usage: true }, logprobs: 0,
    }));
    const usage = chunks.at(-1);
    assert.deepEqual(usage.choices, []);
    assert.deepEqual(usage.usage, whole.usage);
    const body = chunks.slice(0, -1);
    for (const c of body) {
      assert.equal(c.usage, null, "usage is null on all but the last chunk");
      assert.equal(c.object, "text_completion");
      assert.equal(c.id, chunks[0].id);
    }
    assert.equal(body.map((c) => c.choices[0].text).join(""), whole.choices[0].text);
    const streamed = body.reduce((k, c) => k + (c.choices[0].logprobs?.tokens.length ?? 0), 0);
    assert.equal(streamed, 12, "one logprobs entry per streamed token");
    assert.equal(usage.usage.completion_tokens, streamed);
    assert.equal(body.at(-1).choices[0].finish_reason, "length");
    for (const c of body.slice(0, -1)) assert.equal(c.choices[0].finish_reason, null);
  });

  test("chat: stream == non-stream at temperature 0, role first, usage last", async () => {
    const params = { model: "demo", messages: [{ role: "user", content: "Tell me a story." }], max_tokens: 10, temperature: 0 };
    const whole = await client.chat.completions.create(params);
    assert.equal(whole.object, "chat.completion");
    assert.match(whole.id, /^chatcmpl-/);
    assert.equal(whole.choices[0].message.role, "assistant");
    assert.equal(whole.choices[0].finish_reason, "length");
    assert.equal(whole.usage.completion_tokens, 10);
    const tokenized = await postJson(server.base, "/tokenize", { messages: params.messages });
    assert.equal(whole.usage.prompt_tokens, tokenized.body.count, "prompt_tokens == /tokenize {messages}");

    const chunks = await collect(await client.chat.completions.create({
      ...params, stream: true, stream_options: { include_usage: true },
    }));
    assert.equal(chunks[0].object, "chat.completion.chunk");
    assert.equal(chunks[0].choices[0].delta.role, "assistant");
    const usage = chunks.at(-1);
    assert.deepEqual(usage.choices, []);
    assert.deepEqual(usage.usage, whole.usage);
    const body = chunks.slice(0, -1);
    for (const c of body) assert.equal(c.usage, null);
    assert.equal(body.map((c) => c.choices[0].delta.content ?? "").join(""), whole.choices[0].message.content);
    assert.equal(body.at(-1).choices[0].finish_reason, "length");
  });

  test("chat: max_completion_tokens limits the completion", async () => {
    const r = await client.chat.completions.create({
      messages: [{ role: "user", content: "Count to ten." }], max_completion_tokens: 5, temperature: 0,
    });
    assert.equal(r.choices[0].finish_reason, "length");
    assert.equal(r.usage.completion_tokens, 5);
  });

  test("completion: stream without include_usage has no usage field", async () => {
    const chunks = await collect(await client.completions.create({ prompt: "Hi", max_tokens: 3, temperature: 0, stream: true }));
    assert.ok(chunks.length >= 1);
    for (const c of chunks) assert.ok(c.usage === undefined || c.usage === null);
    assert.equal(chunks.at(-1).choices[0].finish_reason, "length");
  });

  test("n=3: choices indexed 0..2, usage counts all of them", async () => {
    const r = await client.completions.create({ prompt: "Once upon a time", n: 3, max_tokens: 6, temperature: 1, seed: 7 });
    assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2]);
    for (const c of r.choices) assert.equal(c.finish_reason, "length");
    assert.equal(r.usage.completion_tokens, 18);

    const chat = await client.chat.completions.create({
      messages: [{ role: "user", content: "Hi" }], n: 3, max_tokens: 4, temperature: 1, seed: 7,
    });
    assert.deepEqual(chat.choices.map((c) => c.index), [0, 1, 2]);
    assert.equal(chat.usage.completion_tokens, 12);

    const chunks = await collect(await client.chat.completions.create({
      messages: [{ role: "user", content: "Hi" }], n: 3, max_tokens: 4, temperature: 1, seed: 7, stream: true,
    }));
    const text = ["", "", ""], finish = [null, null, null];
    for (const c of chunks)
      for (const ch of c.choices) {
        text[ch.index] += ch.delta.content ?? "";
        if (ch.finish_reason) finish[ch.index] = ch.finish_reason;
      }
    assert.deepEqual(finish, ["length", "length", "length"]);
    assert.deepEqual(text, chat.choices.map((c) => c.message.content), "same seed: streamed n=3 == non-streamed");
  });

  test("seed: temperature 1 with the same seed repeats, another seed differs", async () => {
    const params = { prompt: "Random words:", max_tokens: 16, temperature: 1 };
    const a = await client.completions.create({ ...params, seed: 1234 });
    const b = await client.completions.create({ ...params, seed: 1234 });
    const c = await client.completions.create({ ...params, seed: 4321 });
    assert.equal(a.choices[0].text, b.choices[0].text);
    assert.notEqual(a.choices[0].text, c.choices[0].text);
    const chatParams = { messages: [{ role: "user", content: "Surprise me" }], max_tokens: 16, temperature: 1, seed: 99 };
    const x = await client.chat.completions.create(chatParams);
    const y = await client.chat.completions.create(chatParams);
    assert.equal(x.choices[0].message.content, y.choices[0].message.content);
  });

  test("prompt forms: string, token ids, list of strings, list of token-id lists", async () => {
    const greedy = { max_tokens: 5, temperature: 0 };
    const one = async (prompt) => (await client.completions.create({ prompt, ...greedy })).choices[0].text;
    const alpha = await one("Alpha");
    const beta = await one("Beta");
    const alphaIds = (await postJson(server.base, "/tokenize", { prompt: "Alpha" })).body.tokens;
    const betaIds = (await postJson(server.base, "/tokenize", { prompt: "Beta" })).body.tokens;
    assert.equal(await one(alphaIds), alpha, "token ids (with BOS from /tokenize) == the string");

    const listed = await client.completions.create({ prompt: ["Alpha", "Beta"], n: 2, ...greedy });
    assert.deepEqual(listed.choices.map((c) => c.index), [0, 1, 2, 3]);
    assert.deepEqual(listed.choices.map((c) => c.text), [alpha, alpha, beta, beta], "choice = prompt_i * n + j");
    assert.equal(listed.usage.prompt_tokens, alphaIds.length + betaIds.length);
    assert.equal(listed.usage.completion_tokens, 20);

    const ids = await client.completions.create({ prompt: [betaIds, alphaIds], ...greedy });
    assert.deepEqual(ids.choices.map((c) => c.text), [beta, alpha]);

    const chunks = await collect(await client.completions.create({ prompt: ["Alpha", "Beta"], ...greedy, stream: true }));
    const text = ["", ""];
    for (const c of chunks) for (const ch of c.choices) text[ch.index] += ch.text;
    assert.deepEqual(text, [alpha, beta]);
  });

  test("completion logprobs: tokens, token_logprobs, top_logprobs, text_offset", async () => {
    const r = await client.completions.create({ prompt: "Hello world", max_tokens: 6, temperature: 0, logprobs: 3 });
    const lp = r.choices[0].logprobs;
    for (const key of ["tokens", "token_logprobs", "top_logprobs", "text_offset"]) assert.equal(lp[key].length, 6, key);
    assert.equal(lp.tokens.join(""), r.choices[0].text);
    for (let i = 0; i < 6; i++) {
      assert.ok(lp.token_logprobs[i] <= 0 && Number.isFinite(lp.token_logprobs[i]));
      const top = Object.entries(lp.top_logprobs[i]);
      assert.ok(top.length >= 1 && top.length <= 3, `top_logprobs[${i}] has 1..3 entries`);
      // Greedy: the chosen token is the most likely one.
      assert.ok(Math.abs(Math.max(...top.map(([, v]) => v)) - lp.token_logprobs[i]) < 1e-4);
    }
    const chunks = await collect(await client.completions.create({
      prompt: "Hello world", max_tokens: 6, temperature: 0, logprobs: 3, stream: true,
    }));
    const streamed = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
    for (const c of chunks) for (const [k, v] of Object.entries(c.choices[0].logprobs ?? {})) streamed[k].push(...v);
    assert.deepEqual(streamed, lp, "streamed logprobs (offsets continuing across chunks) == non-streamed");
    const none = await client.completions.create({ prompt: "Hello world", max_tokens: 2, temperature: 0 });
    assert.equal(none.choices[0].logprobs, null);
  });

  test("completion logprobs: text_offset counts characters, as OpenAI and vLLM do", async () => {
    // The demo model writes many CJK tokens (3 UTF-8 bytes per character).
    const r = await client.completions.create({ prompt: "Hello", max_tokens: 8, temperature: 0, logprobs: 1 });
    const lp = r.choices[0].logprobs;
    let offset = 0;
    for (let i = 0; i < lp.tokens.length; i++) {
      assert.equal(lp.text_offset[i], offset, `text_offset[${i}] (tokens ${JSON.stringify(lp.tokens)})`);
      offset += [...lp.tokens[i]].length;
    }
  });

  test("chat logprobs: content[{token, logprob, bytes, top_logprobs}]", async () => {
    const params = { messages: [{ role: "user", content: "Hi there" }], max_tokens: 5, temperature: 0, logprobs: true, top_logprobs: 2 };
    const r = await client.chat.completions.create(params);
    const content = r.choices[0].logprobs.content;
    assert.equal(content.length, 5);
    assert.equal(content.map((t) => t.token).join(""), r.choices[0].message.content);
    for (const t of content) {
      assert.ok(t.logprob <= 0);
      assert.deepEqual(t.bytes, utf8(t.token));
      assert.equal(t.top_logprobs.length, 2);
      assert.equal(t.top_logprobs[0].token, t.token, "greedy picks the top token");
      assert.ok(t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob);
      for (const top of t.top_logprobs) assert.deepEqual(top.bytes, utf8(top.token));
    }
    const chunks = await collect(await client.chat.completions.create({ ...params, stream: true }));
    const streamed = chunks.flatMap((c) => c.choices[0]?.logprobs?.content ?? []);
    assert.deepEqual(streamed, content, "streamed logprobs == non-streamed");
    const plain = await client.chat.completions.create({ ...params, logprobs: false, top_logprobs: undefined });
    assert.equal(plain.choices[0].logprobs, null);
  });

  test("sampling options are accepted: top_p, top_k, min_p, penalties, logit_bias", async () => {
    const r = await client.completions.create({
      prompt: "Options", max_tokens: 4, temperature: 0.8, top_p: 0.9, top_k: 50, min_p: 0.05,
      presence_penalty: 0.5, frequency_penalty: 0.5, repetition_penalty: 1.1, seed: 3,
    });
    assert.equal(r.usage.completion_tokens, 4);
    // A +100 bias makes one token the only choice.
    const [id] = (await postJson(server.base, "/tokenize", { prompt: " banana", add_special_tokens: false })).body.tokens;
    const biased = await client.completions.create({ prompt: "Fruit:", max_tokens: 3, temperature: 0, logit_bias: { [id]: 100 } });
    assert.equal(biased.choices[0].text, " banana banana banana");
  });

  test("stop_token_ids end the completion; the token is not in the text; stop_reason is the id", async () => {
    const [id] = (await postJson(server.base, "/tokenize", { prompt: " banana", add_special_tokens: false })).body.tokens;
    const stopped = await client.completions.create({ prompt: "Fruit:", max_tokens: 3, temperature: 0,
                                                      logit_bias: { [id]: 100 }, stop_token_ids: [id] });
    assert.equal(stopped.choices[0].finish_reason, "stop");
    assert.equal(stopped.usage.completion_tokens, 1);
    assert.equal(stopped.choices[0].text, "", "a stop token id is not part of the text");
    assert.equal(stopped.choices[0].stop_reason, id, "vLLM: stop_reason is the stop token id");
  });
});

describe("scripted output", () => {
  let server, client;
  const template =
    "{{ bos_token }}{% if flavor is defined %}[flavor={{ flavor }}]{% endif %}" +
    "{% for m in messages %}<｜User｜>{{ m['content'] }}{% endfor %}" +
    "{% if add_generation_prompt %}<｜Assistant｜>{% endif %}";
  before(async () => {
    const script = writeScript([
      { trigger: "[flavor=mint]", output: "minty fresh" },
      { trigger: "STOPS", output: "alpha beta STOP gamma delta" },
      { trigger: "SHORT", output: "tiny" },
      { trigger: "", output: "one two three four five six seven eight" },
    ]);
    server = await startServer(["--scripted-output", script, "--chat-template", template]);
    client = server.client();
  });
  after(() => server?.stop());

  test("scripted text ends with finish_reason stop", async () => {
    const r = await client.completions.create({ prompt: "anything", max_tokens: 50 });
    assert.equal(r.choices[0].text, "one two three four five six seven eight");
    assert.equal(r.choices[0].finish_reason, "stop");
    const limited = await client.completions.create({ prompt: "anything", max_tokens: 3 });
    assert.equal(limited.choices[0].text, "one two three");
    assert.equal(limited.choices[0].finish_reason, "length");
  });

  test("stop strings: cut before the stop string, unless include_stop_str_in_output", async () => {
    const r = await client.completions.create({ prompt: "STOPS", max_tokens: 50, stop: "STOP" });
    assert.equal(r.choices[0].text, "alpha beta ");
    assert.equal(r.choices[0].finish_reason, "stop");
    assert.equal(r.choices[0].stop_reason, "STOP");
    const kept = await client.completions.create({ prompt: "STOPS", max_tokens: 50, stop: ["STOP"], include_stop_str_in_output: true });
    assert.equal(kept.choices[0].text, "alpha beta STOP");
    const list = await client.completions.create({ prompt: "STOPS", max_tokens: 50, stop: ["nope", "mma"] });
    assert.equal(list.choices[0].text, "alpha beta STOP ga", "a stop string inside a token");
    assert.equal(list.choices[0].stop_reason, "mma");
    const chunks = await collect(await client.completions.create({ prompt: "STOPS", max_tokens: 50, stop: "STOP", stream: true }));
    assert.equal(chunks.map((c) => c.choices[0].text).join(""), "alpha beta ");
    assert.equal(chunks.at(-1).choices[0].finish_reason, "stop");
    const chat = await client.chat.completions.create({ messages: [{ role: "user", content: "STOPS" }], stop: ["beta"] });
    assert.equal(chat.choices[0].message.content, "alpha ");
    assert.equal(chat.choices[0].finish_reason, "stop");
    const chatChunks = await collect(await client.chat.completions.create({
      messages: [{ role: "user", content: "STOPS" }], stop: ["beta"], stream: true,
    }));
    assert.equal(chatChunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), "alpha ");
  });

  test("min_tokens and ignore_eos keep generating past the end token", async () => {
    const r = await client.completions.create({ prompt: "SHORT", max_tokens: 20 });
    assert.equal(r.choices[0].text, "tiny");
    const min = await client.completions.create({ prompt: "SHORT", max_tokens: 20, min_tokens: 6 });
    assert.ok(min.usage.completion_tokens >= 6, `min_tokens 6: got ${min.usage.completion_tokens}`);
    assert.ok(min.choices[0].text.startsWith("tiny"));
    const ign = await client.completions.create({ prompt: "SHORT", max_tokens: 9, ignore_eos: true });
    assert.equal(ign.usage.completion_tokens, 9);
    assert.equal(ign.choices[0].finish_reason, "length");
  });

  test("chat_template_kwargs reach the template", async () => {
    const messages = [{ role: "user", content: "What flavor?" }];
    const plain = await postJson(server.base, "/tokenize", { messages });
    const minty = await postJson(server.base, "/tokenize", { messages, chat_template_kwargs: { flavor: "mint" } });
    assert.ok(minty.body.count > plain.body.count);
    const text = (await postJson(server.base, "/detokenize", { tokens: minty.body.tokens })).body.prompt;
    assert.equal(text, "<｜begin▁of▁sentence｜>[flavor=mint]<｜User｜>What flavor?<｜Assistant｜>");
    const r = await client.chat.completions.create({ messages, chat_template_kwargs: { flavor: "mint" } });
    assert.equal(r.choices[0].message.content, "minty fresh", "the scripted trigger saw the kwarg in the prompt");
    assert.equal(r.usage.prompt_tokens, minty.body.count);
    const r2 = await client.chat.completions.create({ messages });
    assert.equal(r2.choices[0].message.content, "one two three four five six seven eight");
  });
});
