// A small load generator for `minke serve` (until `minke bench serve` lands): N streaming
// completions with at most C in flight; prints requests/s, output tokens/s, TTFT
// percentiles, the most streams open at once and failures.
//   node bench/serve_load.mjs --base http://127.0.0.1:8000 --requests 400 --concurrency 200 --max-tokens 16
const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (i % 2 ? a : [...a, [v.replace(/^--/, ""), all[i + 1]]]), []));
const base = args.base ?? "http://127.0.0.1:8000";
const total = Number(args.requests ?? 400);
const concurrency = Number(args.concurrency ?? 200);
const maxTokens = Number(args["max-tokens"] ?? 16);
const endpoint = args.endpoint ?? "/v1/completions";

let open = 0, peakOpen = 0, failed = 0, outTokens = 0;
const ttfts = [];
async function one(i) {
  const start = performance.now();
  const body = endpoint.includes("chat")
    ? { messages: [{ role: "user", content: `Request ${i}: tell me a story.` }] }
    : { prompt: `Request ${i}: once upon a time` };
  Object.assign(body, { max_tokens: maxTokens, ignore_eos: true, stream: true, stream_options: { include_usage: true } });
  try {
    const res = await fetch(base + endpoint, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    open++;
    peakOpen = Math.max(peakOpen, open);
    let first = true, buf = "", usage = null, done = false;
    const decoder = new TextDecoder();
    for await (const bytes of res.body) {
      buf += decoder.decode(bytes, { stream: true });
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const event = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        if (!event.startsWith("data: ")) continue;
        const data = event.slice(6);
        if (data === "[DONE]") { done = true; continue; }
        const chunk = JSON.parse(data);
        if (chunk.usage) usage = chunk.usage;
        if (first && chunk.choices?.length) { ttfts.push(performance.now() - start); first = false; }
      }
    }
    open--;
    if (!done || !usage) throw new Error("stream ended early");
    outTokens += usage.completion_tokens;
  } catch (e) {
    failed++;
  }
}

const t0 = performance.now();
let next = 0;
await Promise.all(Array.from({ length: Math.min(concurrency, total) }, async () => {
  while (next < total) await one(next++);
}));
const seconds = (performance.now() - t0) / 1000;
ttfts.sort((a, b) => a - b);
const pct = (p) => (ttfts.length ? ttfts[Math.min(ttfts.length - 1, Math.floor((p / 100) * ttfts.length))].toFixed(1) : "n/a");
console.log(`requests ${total}, concurrency ${concurrency}, max_tokens ${maxTokens}, endpoint ${endpoint}`);
console.log(`duration ${seconds.toFixed(2)} s, requests/s ${((total - failed) / seconds).toFixed(1)}, ` +
            `output tokens/s ${(outTokens / seconds).toFixed(1)}`);
console.log(`TTFT ms p50 ${pct(50)} p90 ${pct(90)} p99 ${pct(99)}; peak open streams ${peakOpen}; failed ${failed}`);
process.exit(failed ? 1 : 0);
