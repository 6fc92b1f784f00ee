// Tool calls and reasoning through the real server, the official SDK and scripted output
// (--scripted-output: the engine emits known text, so parser results are exact): both
// DeepSeek tool-call formats, streaming vs non-streaming, tool_choice none/auto/required/named,
// and the deepseek_r1 reasoning parser (with a template whose prompt ends in <think>).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { collect, postJson, startServer, writeScript } from "./harness.mjs";

const B = "<｜tool▁calls▁begin｜>", E = "<｜tool▁calls▁end｜>";
const CB = "<｜tool▁call▁begin｜>", CE = "<｜tool▁call▁end｜>", SEP = "<｜tool▁sep｜>";
const fence = (args) => `\n\`\`\`json\n${args}\n\`\`\``;
// One call in each format.
const v3Call = (name, args) => `${CB}function${SEP}${name}${fence(args)}${CE}`;
const v31Call = (name, args) => `${CB}${name}${SEP}${args}${CE}`;

const tools = [
  { type: "function", function: { name: "get_weather", description: "Weather in a city",
                                  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } },
  { type: "function", function: { name: "get_time", parameters: { type: "object", properties: { tz: { type: "string" } } } } },
];
const user = (content) => [{ role: "user", content }];
const WEATHER = '{"city": "Paris"}';
const TIME = '{"tz": "CET", "n": [1, 2]}';

// The scripted outputs of one format; triggers are words of the user message.
function scripts(call) {
  const v3 = call === v3Call;
  return [
    { trigger: "CONTENT_THEN_CALL", output: `Let me check.${B}${call("get_weather", WEATHER)}${E}` },
    { trigger: "TWO_CALLS", output: `${B}${call("get_weather", WEATHER)}\n${call("get_time", TIME)}${E}` },
    // Never-completed header: the stream ends before the name is done.
    { trigger: "MALFORMED_OPEN", output: `I will call ${B}${CB}${v3 ? `function${SEP}get_weather` : "get_weather"}` },
    // Empty name.
    { trigger: "MALFORMED_EMPTY", output: `Oops ${B}${CB}${v3 ? `function${SEP}${fence("{}")}` : `${SEP}{}`}${CE}${E}` },
    // Forced calls: the server wrote the opening into the prompt; the model continues it.
    { trigger: "FORCED_NAMED", output: v3 ? `${WEATHER}\n\`\`\`${CE}${E}` : `${WEATHER}${CE}${E}` },
    { trigger: "FORCED_REQUIRED", output: v3 ? `get_time${fence(TIME)}${CE}${E}` : `get_time${SEP}${TIME}${CE}${E}` },
    { trigger: "REASON_THEN_ANSWER", output: "<think>The user greets me.</think>Hello there!" },
    { trigger: "REASON_THEN_CALL", output: `<think>I need the weather.</think>${B}${call("get_weather", WEATHER)}${E}` },
    { trigger: "CALL_INSIDE_REASONING", output: `<think>Maybe ${B}${call("get_weather", WEATHER)}${E}</think>No call after all.` },
    { trigger: "REASON_UNCLOSED", output: "<think>Still thinking about it" },
    { trigger: "", output: "plain answer" },
  ];
}

// A streamed chat completion, assembled as the SDK user would, with protocol checks:
// the first delta of a call has index, id, type, name and arguments ""; later ones only
// index and arguments. `firstArgsEmpty: false` relaxes the "" (checked apart for forced calls).
function assemble(chunks, { firstArgsEmpty = true } = {}) {
  const out = { content: "", reasoning: "", calls: [], finish: null, chunks };
  assert.equal(chunks[0].choices[0].delta.role, "assistant", "the first delta carries the role");
  for (const c of chunks) {
    for (const ch of c.choices) {
      const d = ch.delta;
      if (d.content) out.content += d.content;
      if (d.reasoning_content !== undefined || d.reasoning !== undefined) {
        assert.equal(d.reasoning, d.reasoning_content, "reasoning and reasoning_content carry the same text");
        out.reasoning += d.reasoning_content;
      }
      for (const t of d.tool_calls ?? []) {
        if (t.index === out.calls.length) {
          assert.match(t.id, /^call_/);
          assert.equal(t.type, "function");
          assert.equal(typeof t.function.name, "string");
          if (firstArgsEmpty) assert.equal(t.function.arguments, "", "the first delta of a call has empty arguments");
          out.calls.push({ id: t.id, name: t.function.name, arguments: t.function.arguments });
        } else {
          assert.ok(t.index < out.calls.length, `tool call index ${t.index} skips one`);
          assert.deepEqual(Object.keys(t).sort(), ["function", "index"], "later deltas: index and arguments only");
          assert.deepEqual(Object.keys(t.function), ["arguments"]);
          out.calls[t.index].arguments += t.function.arguments;
        }
      }
      if (ch.finish_reason) out.finish = ch.finish_reason;
    }
  }
  return out;
}

// Non-streaming and streaming for the same request; returns [message, finish, streamed].
async function both(client, params, assembleOptions) {
  const whole = await client.chat.completions.create({ max_tokens: 200, ...params });
  const streamed = assemble(await collect(await client.chat.completions.create({ max_tokens: 200, ...params, stream: true })),
                            assembleOptions);
  const choice = whole.choices[0];
  assert.equal(streamed.finish, choice.finish_reason, "streamed finish_reason == non-streamed");
  assert.equal(streamed.content, choice.message.content ?? "", "streamed content == non-streamed");
  assert.equal(streamed.reasoning, choice.message.reasoning_content ?? "", "streamed reasoning == non-streamed");
  assert.deepEqual(streamed.calls.map(({ name, arguments: a }) => ({ name, arguments: a })),
                   (choice.message.tool_calls ?? []).map((t) => ({ name: t.function.name, arguments: t.function.arguments })),
                   "streamed calls (arguments assembled from deltas) == non-streamed");
  return [choice.message, choice.finish_reason, streamed];
}

for (const [parser, call] of [["deepseek_v3", v3Call], ["deepseek_v31", v31Call]]) {
  describe(`--tool-call-parser ${parser} --reasoning-parser deepseek_r1`, () => {
    let server, client;
    before(async () => {
      server = await startServer(["--scripted-output", writeScript(scripts(call)), "--tool-call-parser", parser,
                                  "--reasoning-parser", "deepseek_r1"]);
      client = server.client();
    });
    after(() => server?.stop());

    test("content, then a call", async () => {
      const [m, finish] = await both(client, { messages: user("CONTENT_THEN_CALL"), tools });
      assert.equal(finish, "tool_calls");
      assert.equal(m.content, "Let me check.");
      assert.equal(m.tool_calls.length, 1);
      const [c] = m.tool_calls;
      assert.match(c.id, /^call_/);
      assert.equal(c.type, "function");
      assert.equal(c.function.name, "get_weather");
      assert.equal(c.function.arguments, WEATHER);
      assert.deepEqual(JSON.parse(c.function.arguments), { city: "Paris" });
    });

    test("two calls in one message: index 0 and 1", async () => {
      const [m, finish, streamed] = await both(client, { messages: user("TWO_CALLS"), tools });
      assert.equal(finish, "tool_calls");
      assert.equal(m.content, null, "no text: content is null");
      assert.deepEqual(m.tool_calls.map((t) => [t.function.name, t.function.arguments]),
                       [["get_weather", WEATHER], ["get_time", TIME]]);
      assert.notEqual(m.tool_calls[0].id, m.tool_calls[1].id);
      assert.notEqual(streamed.calls[0].id, streamed.calls[1].id);
      const indexes = streamed.chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).map((t) => t.index);
      assert.deepEqual([...new Set(indexes)], [0, 1]);
      assert.ok(indexes.filter((i) => i === 1).length > 1, "arguments of call 1 arrive in several deltas");
    });

    test("the SDK's stream helper assembles the same message as the non-streaming answer", async () => {
      for (const [word, extra] of [["TWO_CALLS", {}], ["CONTENT_THEN_CALL", {}], ["REASON_THEN_CALL", {}],
                                   ["FORCED_NAMED", { tool_choice: { type: "function", function: { name: "get_weather" } } }]]) {
        const params = { messages: user(word), tools, max_tokens: 200, ...extra };
        const whole = (await client.chat.completions.create(params)).choices[0];
        const final = (await client.chat.completions.stream(params).finalChatCompletion()).choices[0];
        assert.equal(final.finish_reason, whole.finish_reason, word);
        assert.equal(final.message.content ?? null, whole.message.content, word);
        assert.deepEqual(final.message.tool_calls.map((t) => [t.type, t.function.name, t.function.arguments]),
                         whole.message.tool_calls.map((t) => [t.type, t.function.name, t.function.arguments]), word);
        for (const t of final.message.tool_calls) assert.match(t.id, /^call_/);
      }
    });

    test("a conversation with an assistant tool call and a tool result is rendered and served", async () => {
      const messages = [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: WEATHER } }] },
        { role: "tool", tool_call_id: "call_1", content: "22 degrees" },
      ];
      const rendered = await postJson(server.base, "/tokenize", { messages, tools });
      assert.equal(rendered.status, 200, JSON.stringify(rendered.body));
      const text = (await postJson(server.base, "/detokenize", { tokens: rendered.body.tokens })).body.prompt;
      assert.ok(text.includes(`get_weather\n\`\`\`json\n${WEATHER}\n\`\`\``), text);
      assert.ok(text.includes("<｜tool▁output▁begin｜>22 degrees<｜tool▁output▁end｜>"), text);
      const r = await client.chat.completions.create({ messages, tools, max_tokens: 50 });
      assert.equal(r.choices[0].message.content, "plain answer");
    });

    test("a malformed call degrades to content", async () => {
      const [open, finishOpen] = await both(client, { messages: user("MALFORMED_OPEN"), tools });
      assert.equal(open.tool_calls ?? undefined, undefined);
      assert.equal(finishOpen, "stop");
      assert.ok(open.content.startsWith("I will call "), open.content);
      assert.ok(open.content.includes("get_weather"), "the text of the broken call is kept");
      const [empty, finishEmpty] = await both(client, { messages: user("MALFORMED_EMPTY"), tools });
      assert.equal(empty.tool_calls ?? undefined, undefined);
      assert.equal(finishEmpty, "stop");
      assert.ok(empty.content.startsWith("Oops "), empty.content);
    });

    test("tool_choice none: no parsing, the markers come back as text", async () => {
      const [m, finish] = await both(client, { messages: user("CONTENT_THEN_CALL"), tools, tool_choice: "none" });
      assert.equal(finish, "stop");
      assert.equal(m.tool_calls ?? undefined, undefined);
      assert.equal(m.content, `Let me check.${B}${call("get_weather", WEATHER)}${E}`);
      // Without tools at all the same.
      const [plain] = await both(client, { messages: user("CONTENT_THEN_CALL") });
      assert.equal(plain.content, m.content);
    });

    test("tool_choice auto without a call: plain content, finish_reason stop", async () => {
      const [m, finish] = await both(client, { messages: user("nothing special"), tools, tool_choice: "auto" });
      assert.equal(m.content, "plain answer");
      assert.equal(finish, "stop");
      assert.equal(m.tool_calls ?? undefined, undefined);
    });

    test("tool_choice named: the prompt is forced into the call", async () => {
      const messages = user("FORCED_NAMED");
      const opening = parser === "deepseek_v3" ? `${B}${CB}function${SEP}get_weather\n\`\`\`json\n` : `${B}${CB}get_weather${SEP}`;
      const rendered = await postJson(server.base, "/tokenize", { messages, tools, tool_choice: { type: "function", function: { name: "get_weather" } } });
      const text = (await postJson(server.base, "/detokenize", { tokens: rendered.body.tokens })).body.prompt;
      assert.ok(text.endsWith(`<｜Assistant｜>${opening}`), `the prompt ends with the call opening: ${JSON.stringify(text.slice(-80))}`);
      const [m, finish] = await both(client, { messages, tools, tool_choice: { type: "function", function: { name: "get_weather" } } },
                                     { firstArgsEmpty: false });
      assert.ok(["tool_calls", "stop"].includes(finish), finish);
      assert.equal(m.tool_calls.length, 1);
      assert.equal(m.tool_calls[0].function.name, "get_weather");
      assert.equal(m.tool_calls[0].function.arguments, WEATHER);
      assert.ok(!m.content, "no content besides the call");
    });

    test("tool_choice named, streamed: the first delta (id, name) has arguments \"\" like any other call", async () => {
      const chunks = await collect(await client.chat.completions.create({
        messages: user("FORCED_NAMED"), tools, tool_choice: { type: "function", function: { name: "get_weather" } }, stream: true,
      }));
      const first = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])[0];
      assert.equal(first.function.name, "get_weather");
      assert.equal(first.function.arguments, "");
    });

    test("tool_choice required: the model writes the name", async () => {
      const rendered = await postJson(server.base, "/tokenize", { messages: user("FORCED_REQUIRED"), tools, tool_choice: "required" });
      const text = (await postJson(server.base, "/detokenize", { tokens: rendered.body.tokens })).body.prompt;
      const opening = parser === "deepseek_v3" ? `${B}${CB}function${SEP}` : `${B}${CB}`;
      assert.ok(text.endsWith(`<｜Assistant｜>${opening}`), JSON.stringify(text.slice(-80)));
      const [m, finish] = await both(client, { messages: user("FORCED_REQUIRED"), tools, tool_choice: "required" });
      assert.ok(["tool_calls", "stop"].includes(finish), finish);
      assert.deepEqual(m.tool_calls.map((t) => [t.function.name, t.function.arguments]), [["get_time", TIME]]);
      assert.ok(!m.content);
    });

    test("reasoning, then content", async () => {
      const [m, finish, streamed] = await both(client, { messages: user("REASON_THEN_ANSWER"), tools });
      assert.equal(finish, "stop");
      assert.equal(m.reasoning_content, "The user greets me.");
      assert.equal(m.reasoning, "The user greets me.");
      assert.equal(m.content, "Hello there!");
      assert.ok(!streamed.content.includes("<think>") && !streamed.reasoning.includes("think>"));
    });

    test("reasoning, then a call (tool parsing sees only the content)", async () => {
      const [m, finish] = await both(client, { messages: user("REASON_THEN_CALL"), tools });
      assert.equal(finish, "tool_calls");
      assert.equal(m.reasoning_content, "I need the weather.");
      assert.deepEqual(m.tool_calls.map((t) => [t.function.name, t.function.arguments]), [["get_weather", WEATHER]]);
      const [inside, finishInside] = await both(client, { messages: user("CALL_INSIDE_REASONING"), tools });
      assert.equal(finishInside, "stop");
      assert.equal(inside.tool_calls ?? undefined, undefined, "markers inside the reasoning are not calls");
      assert.equal(inside.reasoning_content, `Maybe ${B}${call("get_weather", WEATHER)}${E}`);
      assert.equal(inside.content, "No call after all.");
    });

    test("output without </think> is all reasoning", async () => {
      const [m, finish] = await both(client, { messages: user("REASON_UNCLOSED") });
      assert.equal(finish, "stop");
      assert.equal(m.reasoning_content, "Still thinking about it");
      assert.ok(!m.content, `content is empty or null, got ${JSON.stringify(m.content)}`);
    });

    test("include_reasoning: false drops the reasoning", async () => {
      const [m, , streamed] = await both(client, { messages: user("REASON_THEN_ANSWER"), include_reasoning: false });
      assert.equal(m.content, "Hello there!");
      assert.ok(!m.reasoning_content && !m.reasoning);
      assert.equal(streamed.reasoning, "");
    });

    test("without reasoning in the output the reasoning fields are null", async () => {
      const [m] = await both(client, { messages: user("hello") });
      assert.equal(m.content, "plain answer");
      assert.equal(m.reasoning_content, null);
    });
  });
}

// A template like DeepSeek-R1-0528's: the generation prompt ends in "<think>\n", so output
// starts inside the reasoning. It lists the tools it is given, and prints a kwarg.
const thinkingTemplate =
  "{{ bos_token }}{% if tools %}[tools:{% for t in tools %}{{ t['function']['name'] }};{% endfor %}]{% endif %}" +
  "{% for m in messages %}{% if m['role'] == 'user' %}<｜User｜>{{ m['content'] }}" +
  "{% elif m['role'] == 'assistant' %}<｜Assistant｜>{{ m['content'] }}<｜end▁of▁sentence｜>{% endif %}{% endfor %}" +
  "{% if add_generation_prompt %}<｜Assistant｜><think>\n{% endif %}";

describe("prompt ending in <think> (R1-0528 style template)", () => {
  let server, client;
  before(async () => {
    const script = writeScript([
      { trigger: "THINK_THEN_ANSWER", output: "Pondering the question.</think>The answer is 4." },
      { trigger: "THINK_UNCLOSED", output: "Still pondering" },
      { trigger: "THINK_THEN_CALL", output: `Need the weather.</think>${B}${v3Call("get_weather", WEATHER)}${E}` },
      { trigger: "FORCED_NAMED", output: `${WEATHER}\n\`\`\`${CE}${E}` },
      { trigger: "[tools:get_weather;get_time;]<｜User｜>TOOLS_PROBE", output: "</think>tools rendered" },
      { trigger: "TOOLS_PROBE", output: "</think>no tools rendered" },
      { trigger: "", output: "fallback" },
    ]);
    server = await startServer(["--scripted-output", script, "--chat-template", thinkingTemplate,
                                "--tool-call-parser", "deepseek_v3", "--reasoning-parser", "deepseek_r1"]);
    client = server.client();
  });
  after(() => server?.stop());

  test("output without <think> starts as reasoning", async () => {
    const [m, finish] = await both(client, { messages: user("THINK_THEN_ANSWER") });
    assert.equal(finish, "stop");
    assert.equal(m.reasoning_content, "Pondering the question.");
    assert.equal(m.content, "The answer is 4.");
  });

  test("no </think>: everything is reasoning", async () => {
    const [m] = await both(client, { messages: user("THINK_UNCLOSED") });
    assert.equal(m.reasoning_content, "Still pondering");
    assert.ok(!m.content);
  });

  test("reasoning, then a call", async () => {
    const [m, finish] = await both(client, { messages: user("THINK_THEN_CALL"), tools });
    assert.equal(finish, "tool_calls");
    assert.equal(m.reasoning_content, "Need the weather.");
    assert.deepEqual(m.tool_calls.map((t) => [t.function.name, t.function.arguments]), [["get_weather", WEATHER]]);
  });

  test("include_reasoning: false", async () => {
    const [m] = await both(client, { messages: user("THINK_THEN_ANSWER"), include_reasoning: false });
    assert.equal(m.content, "The answer is 4.");
    assert.ok(!m.reasoning_content);
  });

  test("a forced call closes the open <think> first", async () => {
    const params = { messages: user("FORCED_NAMED"), tools, tool_choice: { type: "function", function: { name: "get_weather" } } };
    const rendered = await postJson(server.base, "/tokenize", params);
    const text = (await postJson(server.base, "/detokenize", { tokens: rendered.body.tokens })).body.prompt;
    assert.ok(text.endsWith(`<think>\n</think>${B}${CB}function${SEP}get_weather\n\`\`\`json\n`), JSON.stringify(text.slice(-100)));
    const [m] = await both(client, params, { firstArgsEmpty: false });
    assert.equal(m.tool_calls[0].function.arguments, WEATHER);
    assert.ok(!m.reasoning_content, "no reasoning in a forced call");
  });

  test("tool_choice none: the tools are not given to the template", async () => {
    const [auto] = await both(client, { messages: user("TOOLS_PROBE"), tools });
    assert.equal(auto.content, "tools rendered");
    const [none] = await both(client, { messages: user("TOOLS_PROBE"), tools, tool_choice: "none" });
    assert.equal(none.content, "no tools rendered");
  });
});
