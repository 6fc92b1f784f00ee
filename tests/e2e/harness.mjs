// Shared helpers for the `openai` SDK end-to-end tests: start `minke serve` on a free port,
// talk to it (SDK client, raw fetch, SSE, /metrics), poll with deadlines, and always kill
// what was started. The binary comes from $MINKE_BIN (ctest sets it), else build/bin/minke.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";

export const MINKE = process.env.MINKE_BIN || "build/bin/minke";

const live = new Set();  // servers not yet stopped: killed when this process exits, whatever happens
// Tests may register a function describing their progress; the watchdog prints it.
const diagnostics = new Set();
export const onWatchdog = (describe) => diagnostics.add(describe);
const killAll = () => {
  for (const s of live) s.proc.kill("SIGKILL");
};
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    killAll();
    process.exit(1);
  });
}

// Watchdog: a test runner killed from outside (ctest's TIMEOUT) would orphan the servers, so
// give up before that: kill them and fail. Unref'd: it never keeps the process alive.
const watchdogS = Number(process.env.MINKE_E2E_WATCHDOG_S || 270);
setTimeout(async () => {
  console.error(`e2e harness: still running after ${watchdogS} s; killing the servers`);
  for (const d of diagnostics) console.error(`test progress: ${d()}`);
  for (const srv of live) {  // what each server was doing: its gauges and the end of its log
    try {
      const m = await fetch(`${srv.base}/metrics`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text());
      console.error(m.split("\n").filter((l) => /^minke:(num_requests|kv_cache)/.test(l)).join("\n"));
    } catch (e) {
      console.error(`(no /metrics: ${e})`);
    }
    console.error(`server stderr (tail):\n${srv.stderr.slice(-3000)}`);
  }
  killAll();
  process.exit(1);
}, watchdogS * 1000).unref();

// Files written for servers (scripts, templates); removed with the process.
const scratch = mkdtempSync(join(tmpdir(), "minke-e2e-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));
let files = 0;
export function writeTemp(name, text) {
  const path = join(scratch, `${files++}-${name}`);
  writeFileSync(path, text);
  return path;
}
// A --scripted-output file: [{trigger, output}], first matching trigger wins.
export const writeScript = (scripts) => writeTemp("script.json", JSON.stringify(scripts));

// Starts `minke serve --port 0 ... args` and resolves once it prints its address.
export async function startServer(args = [], { name = "demo", startTimeoutMs = 120_000 } = {}) {
  // In-flight requests at stop (a failed test) get 2 s, not the default 30.
  const drain = args.includes("--shutdown-timeout") ? [] : ["--shutdown-timeout", "2"];
  // MINKE_E2E_SERVER_ARGS: extra flags for every server (e.g. GPU memory for a suite whose
  // servers share one GPU).
  const extra = (process.env.MINKE_E2E_SERVER_ARGS || "").split(" ").filter(Boolean);
  const argv = ["serve", "--port", "0", "--threads", "2", "--served-model-name", name, ...drain, ...extra, ...args];
  const proc = spawn(MINKE, argv, { stdio: ["ignore", "pipe", "pipe"] });
  const server = { proc, name, stdout: "", stderr: "", exited: null };
  live.add(server);
  server.exit = new Promise((resolve) => {
    proc.on("exit", (code, signal) => {
      live.delete(server);
      server.exited = { code, signal };
      resolve(server.exited);
    });
  });
  proc.stderr.on("data", (d) => { server.stderr += d; });
  server.base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`minke serve did not start in time:\n${server.stderr}`)), startTimeoutMs);
    proc.stdout.on("data", (d) => {
      server.stdout += d;
      const m = server.stdout.match(/ready on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on("error", (e) => { clearTimeout(timer); reject(e); });
    server.exit.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`minke serve ${argv.join(" ")} exited (${code ?? signal}):\n${server.stderr}`));
    });
  });
  // An SDK client: no retries (the tests look at first answers, 503 included).
  server.client = (opts = {}) => new OpenAI({ baseURL: server.base + "/v1", apiKey: "none", maxRetries: 0, timeout: 120_000, ...opts });
  // SIGTERM (or `signal`); resolves with {code, signal}. SIGKILL if it has not exited in time.
  server.stop = async (signal = "SIGTERM", graceMs = 30_000) => {
    if (server.exited) return server.exited;
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
    const result = await server.exit;
    clearTimeout(timer);
    return result;
  };
  return server;
}

// Raw JSON POST (for what the SDK hides: headers, status of non-API routes, bodies as sent).
export function post(base, path, body, { headers = {}, signal } = {}) {
  return fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal,
  });
}

export async function postJson(base, path, body, opts) {
  const r = await post(base, path, body, opts);
  return { status: r.status, headers: r.headers, body: await r.json() };
}

// A whole SSE response as a list of parsed events; the final "[DONE]" stays a string.
export async function sse(base, path, body, opts) {
  const r = await post(base, path, { ...body, stream: true }, opts);
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${text}`);
  return text.split("\n\n").filter((e) => e.startsWith("data: "))
    .map((e) => e.slice(6)).map((e) => (e === "[DONE]" ? e : JSON.parse(e)));
}

// /metrics as {name: value} for unlabelled-by-reason series (model_name dropped) and
// {"name{finished_reason=x}": value} for the labelled ones.
export async function metrics(base) {
  const text = await (await fetch(base + "/metrics")).text();
  const out = {};
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = line.match(/^([^{\s]+)(?:\{([^}]*)\})?\s+(\S+)$/);
    if (!m) continue;
    const labels = (m[2] ?? "").split(",").filter((l) => l && !l.startsWith("model_name=") && !l.startsWith("le="));
    if ((m[2] ?? "").includes("le=")) continue;  // histogram buckets are not needed
    const key = labels.length ? `${m[1]}{${labels.join(",").replaceAll('"', "")}}` : m[1];
    out[key] = Number(m[3]);
  }
  return out;
}

// Polls `check` (async, returns truthy when done) until it holds; fails with `describe()`
// after the deadline. Deadlines are generous: the tests run on small, busy machines.
export async function waitFor(check, { timeoutMs = 60_000, intervalMs = 100, describe = () => "" } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms ${await describe()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// Waits until the engine holds no request and no KV block (the state of an idle server).
export async function waitIdle(base, { timeoutMs = 60_000, kvUsage = 0 } = {}) {
  let last;
  await waitFor(async () => {
    last = await metrics(base);
    return last["minke:num_requests_running"] === 0 && last["minke:num_requests_waiting"] === 0 &&
      last["minke:kv_cache_usage_perc"] === kvUsage;
  }, { timeoutMs, describe: () => JSON.stringify(last) });
  return last;
}

// Collects an SDK stream: the chunks, in order.
export async function collect(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
