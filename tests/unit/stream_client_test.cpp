// The benchmark client: SSE parsing split at every byte, chunk scanning, URL parsing, and
// run_requests() against MockServer (timing, usage, failures, concurrency cap, keep-alive,
// 2,000 concurrent streams) and against a bare HttpServer for malformed streams.
#include "bench/stream_client.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <numeric>

#include "bench/client_selfbench.h"
#include "bench/mock_server.h"
#include "server/http_server.h"

namespace minke::bench {
namespace {

using namespace std::chrono_literals;

// ---------------------------------------------------------------- SSE parser

std::vector<std::string> drain(SseParser& p, bool at_end) {
  std::vector<std::string> out;
  while (auto e = p.next()) out.emplace_back(*e);
  if (at_end)
    while (auto e = p.finish()) out.emplace_back(*e);
  return out;
}

const std::string kStream =
    ": ping\r\n\r\n"
    "data: {\"a\":1}\n\n"
    "data:{\"b\":2}\r\n\r\n"
    "event: message\nid: 7\nretry: 100\ndata: line1\ndata: line2\n\n"
    "data: has: colon\r\rdata: cr-only\r\r"
    "data\n\n"
    ": comment between\ndata:  two spaces\n\n"
    "unknown: field\n\n"
    "data: [DONE]\n\n";
const std::vector<std::string> kEvents = {
    "{\"a\":1}", "{\"b\":2}", "line1\nline2", "has: colon", "cr-only", "", " two spaces", "[DONE]"};

TEST(StreamClientSse, WholeStream) {
  SseParser p;
  p.feed(kStream);
  EXPECT_EQ(drain(p, true), kEvents);
}

TEST(StreamClientSse, SplitAtEveryByteBoundary) {
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    SseParser p;
    p.feed(kStream.substr(0, cut));
    auto got = drain(p, false);
    p.feed(kStream.substr(cut));
    for (auto& e : drain(p, true)) got.push_back(e);
    ASSERT_EQ(got, kEvents) << "cut at " << cut;
  }
}

TEST(StreamClientSse, OneByteAtATime) {
  SseParser p;
  std::vector<std::string> got;
  for (char c : kStream) {
    p.feed(std::string_view(&c, 1));
    for (auto& e : drain(p, false)) got.push_back(e);
  }
  for (auto& e : drain(p, true)) got.push_back(e);
  EXPECT_EQ(got, kEvents);
}

TEST(StreamClientSse, CrLfSplitBetweenReadsIsOneLineEnd) {
  SseParser p;
  p.feed("data: x\r");
  EXPECT_FALSE(p.next());
  p.feed("\n");  // completes "data: x\r\n", not a blank line
  EXPECT_FALSE(p.next());
  p.feed("\r\n");
  auto e = p.next();
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, "x");
}

TEST(StreamClientSse, FinishTakesAnUnterminatedLastEvent) {
  SseParser p;
  p.feed("data: [DONE]");
  EXPECT_FALSE(p.next());
  auto e = p.finish();
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, "[DONE]");
  EXPECT_FALSE(p.finish());
}

// ---------------------------------------------------------------- chunks and URLs

TEST(StreamClientChunk, CompletionsChatReasoningUsageError) {
  ChunkInfo c;
  ASSERT_TRUE(scan_chunk(R"({"id":"x","choices":[{"index":0,"text":"hi\n\u00e9\ud83d\ude00","logprobs":null}],"usage":null})", c).is_ok());
  EXPECT_EQ(c.choices, 1);
  EXPECT_EQ(c.text, "hi\n\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_FALSE(c.has_usage);

  ASSERT_TRUE(scan_chunk(R"({"choices":[{"delta":{"role":"assistant","content":""}},{"delta":{"content":"no"}}]})", c).is_ok());
  EXPECT_EQ(c.choices, 2);
  EXPECT_EQ(c.text, "");

  ASSERT_TRUE(scan_chunk(R"({"choices":[{"delta":{"reasoning_content":"think","reasoning":"think","content":null}}]})", c).is_ok());
  EXPECT_EQ(c.text, "think");  // the two aliases are one text
  ASSERT_TRUE(scan_chunk(R"({"choices":[{"delta":{"reasoning":"r","content":"c"}}]})", c).is_ok());
  EXPECT_EQ(c.text, "rc");
  ASSERT_TRUE(scan_chunk(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a"}}]}}]})", c).is_ok());
  EXPECT_TRUE(c.tool_call_delta);
  ASSERT_TRUE(scan_chunk(R"({"choices":[{"message":{"role":"assistant","content":"whole"}}]})", c).is_ok());
  EXPECT_EQ(c.text, "whole");

  ASSERT_TRUE(scan_chunk(R"( {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}} )", c).is_ok());
  EXPECT_EQ(c.choices, 0);
  EXPECT_TRUE(c.has_usage);
  EXPECT_EQ(c.completion_tokens, 34);
  EXPECT_EQ(c.prompt_tokens, 12);

  ASSERT_TRUE(scan_chunk(R"({"error":{"message":"boom","type":"x","code":500}})", c).is_ok());
  EXPECT_TRUE(c.is_error);
  EXPECT_EQ(c.error_message, "boom");
  ASSERT_TRUE(scan_chunk(R"({"error":"plain"})", c).is_ok());
  EXPECT_EQ(c.error_message, "plain");
  ASSERT_TRUE(scan_chunk(R"({"error":null,"x":[1,-2.5e3,true,false,{"y":"\"\\"}]})", c).is_ok());
  EXPECT_FALSE(c.is_error);
}

TEST(StreamClientChunk, RejectsMalformedJson) {
  ChunkInfo c;
  for (const char* bad : {"", "{", "[]", "{\"choices\":[{\"text\":\"x\"}]", "{\"a\":1} x", "{\"a\":01x}",
                          "{\"a\":\"\\q\"}", "{\"a\":tru}", "{'a':1}", "{\"a\":\"\\ud800\"}", "data: {}",
                          "{\"a\":1,}"})
    EXPECT_FALSE(scan_chunk(bad, c).is_ok()) << bad;
}

TEST(StreamClientUrl, Parses) {
  auto u = parse_http_url("http://example.com:8000/prefix/");
  ASSERT_TRUE(u.is_ok());
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, "8000");
  EXPECT_EQ(u->prefix, "/prefix");
  u = parse_http_url("localhost");
  ASSERT_TRUE(u.is_ok());
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->prefix, "");
  u = parse_http_url("http://[::1]:9/");
  ASSERT_TRUE(u.is_ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "9");
  auto https = parse_http_url("https://api.openai.com");
  ASSERT_FALSE(https.is_ok());
  EXPECT_NE(https.status().message().find("https is not supported"), std::string::npos);
  EXPECT_FALSE(parse_http_url("http://h:99999").is_ok());
  EXPECT_FALSE(parse_http_url("ftp://h").is_ok());
  EXPECT_FALSE(parse_http_url("http://:80").is_ok());
}

// ---------------------------------------------------------------- against the mock

std::string body_for(int64_t max_tokens, bool usage = true, std::string_view fault = {}, bool stream = true) {
  nlohmann::json b = {{"model", "mock"}, {"prompt", "one two three"}, {"max_tokens", max_tokens}, {"stream", stream}};
  if (usage) b["stream_options"] = {{"include_usage", true}};
  if (!fault.empty()) b["mock_fault"] = fault;
  return b.dump();
}

ClientRequest completion(int64_t max_tokens, double at = 0, bool usage = true, std::string_view fault = {}) {
  ClientRequest r;
  r.path = "/v1/completions";
  r.body = body_for(max_tokens, usage, fault);
  r.send_at = at;
  r.prompt_len = 99;
  return r;
}

std::unique_ptr<MockServer> start_mock(MockServerOptions o) {
  auto m = MockServer::start(std::move(o));
  EXPECT_TRUE(m.is_ok()) << m.status().to_string();
  return std::move(m).value();
}

void raise_fd_limit() {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
}

TEST(StreamClient, RecordsTtftItlLatencyAndText) {
  MockServerOptions mo;
  mo.ttft = 0.2;
  mo.itl = 0.15;  // tokens at 0.2, 0.35, ..., 0.8 s after the request arrives
  auto mock = start_mock(mo);
  ClientOptions co;
  co.base_url = mock->base_url();
  auto res = run_requests(co, {completion(5)});
  ASSERT_TRUE(res.is_ok()) << res.status().to_string();
  const RequestResult& r = (*res)[0];
  ASSERT_TRUE(r.success) << r.error;
  EXPECT_GE(r.ttft, 0.2);
  EXPECT_LT(r.ttft, 0.2 + 0.45);  // tokens are timed as they arrive, not when the stream ends
  ASSERT_EQ(r.itl.size(), 4u);
  ASSERT_EQ(r.token_times.size(), 5u);
  EXPECT_GE(r.token_times.back() - r.token_times.front(), 0.6 - 0.45);
  EXPECT_GE(r.latency, 0.2 + 4 * 0.15);  // the mock cannot send the last token earlier
  EXPECT_LT(r.latency, 0.8 + 2.0);
  EXPECT_GE(r.latency, r.ttft);
  EXPECT_TRUE(std::is_sorted(r.token_times.begin(), r.token_times.end()));
  EXPECT_NEAR(std::accumulate(r.itl.begin(), r.itl.end(), 0.0), r.token_times.back() - r.token_times.front(), 1e-6);
  EXPECT_NEAR(r.token_times.front(), r.start + r.ttft, 1e-6);
  EXPECT_EQ(r.generated_text, "tok tok tok tok tok ");
  EXPECT_EQ(r.output_tokens, 5);
  EXPECT_TRUE(r.output_tokens_from_usage);
  EXPECT_EQ(r.prompt_len, 3);  // usage.prompt_tokens overrides the dataset's count, as in vLLM
}

TEST(StreamClient, ChatDeltasAndTheRoleOpener) {
  MockServerOptions mo;
  mo.tokens = 4;
  mo.token_text = "é";
  auto mock = start_mock(mo);
  ClientRequest req;
  req.path = "v1/chat/completions";  // the leading slash is optional
  req.chat = true;
  req.body = R"({"model":"mock","messages":[{"role":"user","content":"hi"}],"stream":true})";
  ClientOptions co;
  co.base_url = mock->base_url() + "/";
  auto res = run_requests(co, {req});
  ASSERT_TRUE(res.is_ok());
  const RequestResult& r = (*res)[0];
  ASSERT_TRUE(r.success) << r.error;
  EXPECT_EQ(r.generated_text, "éééé");
  EXPECT_EQ(r.itl.size(), 3u);  // the {"role":"assistant","content":""} chunk carries no text
  EXPECT_EQ(r.output_tokens, 0);  // no usage asked for
  EXPECT_FALSE(r.output_tokens_from_usage);
  EXPECT_EQ(r.prompt_len, 0);

  co.count_textless_chunks = true;  // vLLM's rule: any chunk with choices
  res = run_requests(co, {req});
  ASSERT_TRUE(res.is_ok());
  EXPECT_EQ((*res)[0].token_times.size(), 5u);
}

TEST(StreamClient, NonStreamedJsonIsOneChunk) {
  MockServerOptions mo;
  mo.ttft = 0.05;
  mo.itl = 0.01;
  auto mock = start_mock(mo);
  ClientRequest req = completion(3);
  req.body = body_for(3, false, {}, /*stream=*/false);
  ClientOptions co;
  co.base_url = mock->base_url();
  auto res = run_requests(co, {req});
  ASSERT_TRUE(res.is_ok());
  const RequestResult& r = (*res)[0];
  ASSERT_TRUE(r.success) << r.error;
  EXPECT_EQ(r.generated_text, "tok tok tok ");
  EXPECT_EQ(r.token_times.size(), 1u);
  EXPECT_TRUE(r.itl.empty());
  EXPECT_DOUBLE_EQ(r.ttft, r.latency);
  EXPECT_GE(r.latency, 0.05 + 2 * 0.01);
  EXPECT_EQ(r.output_tokens, 3);
}

TEST(StreamClient, FailuresAreAccountedAndTheRestSucceed) {
  MockServerOptions mo;
  mo.tokens = 3;
  mo.itl = 0.01;
  mo.fault = [](int64_t i) { return i == 0 ? MockFault::kHttp500 : MockFault::kNone; };
  auto mock = start_mock(mo);
  ClientOptions co;
  co.base_url = mock->base_url();
  co.max_concurrency = 1;  // one connection, reused across failures where it survives
  // In send order (max_concurrency 1 makes arrival order = send order): request 0 gets the
  // k-th-request 500, the others pick their fault in the body.
  std::vector<ClientRequest> reqs = {completion(3, 0.00), completion(3, 0.01, true, "drop"),
                                     completion(3, 0.02, true, "error_event"),
                                     completion(3, 0.03, true, "no_done"), completion(3, 0.04),
                                     completion(3, 0.05, true, "http_500")};
  auto res = run_requests(co, reqs);
  ASSERT_TRUE(res.is_ok());
  const auto& r = *res;
  EXPECT_FALSE(r[0].success);
  EXPECT_NE(r[0].error.find("HTTP 500"), std::string::npos) << r[0].error;
  EXPECT_NE(r[0].error.find("mock failure"), std::string::npos) << r[0].error;  // the body excerpt
  EXPECT_FALSE(r[1].success);
  EXPECT_NE(r[1].error.find("closed"), std::string::npos) << r[1].error;
  EXPECT_EQ(r[1].token_times.size(), 1u);  // fault_after_tokens
  EXPECT_FALSE(r[2].success);
  EXPECT_NE(r[2].error.find("mock error event"), std::string::npos) << r[2].error;
  EXPECT_FALSE(r[3].success);
  EXPECT_NE(r[3].error.find("[DONE]"), std::string::npos) << r[3].error;
  EXPECT_TRUE(r[4].success) << r[4].error;
  EXPECT_EQ(r[4].generated_text, "tok tok tok ");
  EXPECT_FALSE(r[5].success);
  EXPECT_EQ(mock->stats().requests, 6);
}

TEST(StreamClient, RefusedPortFailsEveryRequest) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);  // bound, never listened: nothing accepts there
  ClientOptions co;
  co.base_url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto res = run_requests(co, {completion(1), completion(1)});
  ASSERT_TRUE(res.is_ok());
  for (const auto& r : *res) {
    EXPECT_FALSE(r.success);
    EXPECT_NE(r.error.find("cannot connect"), std::string::npos) << r.error;
  }
  co.base_url = "https://127.0.0.1:1";
  EXPECT_FALSE(run_requests(co, {completion(1)}).is_ok());
}

TEST(StreamClient, MaxConcurrencyIsRespectedAndConnectionsReused) {
  MockServerOptions mo;
  mo.tokens = 3;
  mo.ttft = 0.01;
  mo.itl = 0.01;
  auto mock = start_mock(mo);
  ClientOptions co;
  co.base_url = mock->base_url();
  co.max_concurrency = 5;
  std::vector<ClientRequest> reqs(40, completion(3));
  std::vector<int64_t> progress;
  ClientStats stats;
  auto res = run_requests(co, reqs, [&](int64_t done, int64_t total) {
    EXPECT_EQ(total, 40);
    progress.push_back(done);
  }, &stats);
  ASSERT_TRUE(res.is_ok());
  for (const auto& r : *res) EXPECT_TRUE(r.success) << r.error;
  EXPECT_LE(mock->stats().peak_in_flight, 5);
  EXPECT_EQ(stats.peak_in_flight, 5);
  EXPECT_LE(stats.connections_opened, 5);  // kept alive and reused
  ASSERT_EQ(progress.size(), 40u);
  for (size_t i = 0; i < progress.size(); ++i) EXPECT_EQ(progress[i], int64_t(i) + 1);
  EXPECT_EQ(stats.token_events, 40 * 3);
  EXPECT_GT(stats.cpu_s, 0);
}

TEST(StreamClient, SeveralIoThreads) {
  MockServerOptions mo;
  mo.tokens = 3;
  mo.itl = 0.005;
  mo.fault = [](int64_t i) { return i % 10 == 3 ? MockFault::kErrorEvent : MockFault::kNone; };
  auto mock = start_mock(mo);
  ClientOptions co;
  co.base_url = mock->base_url();
  co.io_threads = 3;
  co.max_concurrency = 40;
  std::vector<ClientRequest> reqs;
  for (int i = 0; i < 300; ++i) reqs.push_back(completion(3, 0.001 * i, true, i % 50 == 7 ? "drop" : ""));
  int64_t last = 0;
  ClientStats stats;
  auto res = run_requests(co, reqs, [&](int64_t done, int64_t) { last = done; }, &stats);
  ASSERT_TRUE(res.is_ok());
  EXPECT_EQ(last, 300);
  int64_t ok = 0, dropped = 0, errors = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    const RequestResult& r = (*res)[i];
    if (r.success) {
      ++ok;
      EXPECT_EQ(r.generated_text, "tok tok tok ");
      EXPECT_EQ(r.itl.size(), 2u);
    } else if (i % 50 == 7) {
      ++dropped;
      EXPECT_NE(r.error.find("closed"), std::string::npos) << r.error;
    } else {
      ++errors;
      EXPECT_NE(r.error.find("mock error event"), std::string::npos) << r.error;
    }
  }
  EXPECT_EQ(dropped, 6);
  EXPECT_EQ(ok + errors, 294);
  EXPECT_GT(errors, 0);
  EXPECT_LE(mock->stats().peak_in_flight, 40);
  EXPECT_LE(stats.peak_in_flight, 40);
  EXPECT_EQ(stats.token_events, ok * 3 + errors * 1 + dropped * 1);
}

TEST(StreamClient, SendsAtScheduledTimesInOrder) {
  MockServerOptions mo;
  mo.tokens = 2;
  auto mock = start_mock(mo);
  ClientOptions co;
  co.base_url = mock->base_url();
  // Out of order on input; results come back in input order.
  auto res = run_requests(co, {completion(2, 0.3), completion(2, 0.0), completion(2, 0.15)});
  ASSERT_TRUE(res.is_ok());
  const auto& r = *res;
  EXPECT_GE(r[0].start, 0.3);
  EXPECT_GE(r[2].start, 0.15);
  EXPECT_LT(r[1].start, r[2].start);
  EXPECT_LT(r[2].start, r[0].start);

  co.max_concurrency = 1;  // queued in send order: each starts after the previous ended
  mo.itl = 0.05;
  auto slow = start_mock(mo);
  co.base_url = slow->base_url();
  res = run_requests(co, {completion(2, 0.0), completion(2, 0.0), completion(2, 0.0)});
  ASSERT_TRUE(res.is_ok());
  for (size_t i = 1; i < 3; ++i) EXPECT_GE((*res)[i].start, (*res)[i - 1].start + (*res)[i - 1].latency);
}

TEST(StreamClient, ApiKeyAndTimeout) {
  MockServerOptions mo;
  mo.api_key = "sk-test";
  mo.tokens = 50;
  mo.itl = 0.1;
  auto mock = start_mock(mo);
  ClientOptions co;
  co.base_url = mock->base_url();
  auto res = run_requests(co, {completion(1)});
  ASSERT_TRUE(res.is_ok());
  EXPECT_NE((*res)[0].error.find("HTTP 401"), std::string::npos) << (*res)[0].error;
  co.api_key = "sk-test";
  co.timeout = 1s;
  res = run_requests(co, {completion(1)});
  ASSERT_TRUE(res.is_ok());
  EXPECT_FALSE((*res)[0].success);
  EXPECT_NE((*res)[0].error.find("timed out"), std::string::npos) << (*res)[0].error;
  EXPECT_GT((*res)[0].token_times.size(), 0u);
}

TEST(StreamClient, OneShotGetAndPost) {
  auto mock = start_mock({});
  auto models = http_get(mock->base_url() + "/v1/models");
  ASSERT_TRUE(models.is_ok()) << models.status().to_string();
  EXPECT_EQ(nlohmann::json::parse(*models)["data"][0]["id"], "mock");
  auto tok = http_post(mock->base_url() + "/tokenize", R"({"model":"mock","prompt":"a b c d"})");
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  EXPECT_EQ(nlohmann::json::parse(*tok)["count"], 4);
  auto missing = http_get(mock->base_url() + "/nope?x=1");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("404"), std::string::npos) << missing.status().to_string();
  EXPECT_FALSE(http_get("https://localhost/v1/models").is_ok());
}

// Streams no mock would send, from a bare HttpServer.
TEST(StreamClient, MalformedStreamsFromABareServer) {
  HttpServer server(HttpServerConfig{});
  server.route("POST", "/bad-json", [](HttpRequest, HttpResponder r) {
    auto s = r.start_sse();
    s->send_raw("data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: {\"choices\": [\n\n");
    s->close();
  });
  server.route("POST", "/split", [](HttpRequest, HttpResponder r) {
    // One event split over chunks, CRLF line ends, a comment, and a trailing [DONE] with no
    // blank line before the end of the body.
    auto s = r.start_sse();
    s->send_raw(": hello\r\n\r\ndata: {\"choices\":[{\"te");
    s->send_raw("xt\":\"x\"}]}\r");
    s->send_raw("\n\r\ndata: {\"choices\":[{\"text\":\"y\"}]}\r\n\r\ndata: [DONE]");
    s->close();
  });
  server.route("POST", "/no-tokens", [](HttpRequest, HttpResponder r) {
    auto s = r.start_sse();
    s->send_raw("data: {\"choices\":[]}\n\ndata: [DONE]\n\n");
    s->close();
  });
  ASSERT_TRUE(server.start().is_ok());
  ClientOptions co;
  co.base_url = "http://127.0.0.1:" + std::to_string(server.port());
  std::vector<ClientRequest> reqs(3, completion(1));
  reqs[0].path = "/bad-json";
  reqs[1].path = "/split";
  reqs[2].path = "/no-tokens";
  auto res = run_requests(co, reqs);
  ASSERT_TRUE(res.is_ok());
  EXPECT_FALSE((*res)[0].success);
  EXPECT_NE((*res)[0].error.find("invalid JSON"), std::string::npos) << (*res)[0].error;
  EXPECT_TRUE((*res)[1].success) << (*res)[1].error;
  EXPECT_EQ((*res)[1].generated_text, "xy");
  EXPECT_FALSE((*res)[2].success);
  EXPECT_NE((*res)[2].error.find("no chunk carried tokens"), std::string::npos) << (*res)[2].error;
  server.stop(1s);
}

TEST(StreamClient, TwoThousandConcurrentStreams) {
  raise_fd_limit();
  MockServerOptions mo;
  mo.tokens = 4;
  mo.ttft = 0.05;
  mo.itl = 0.05;
  auto mock = start_mock(mo);
  ClientOptions co;
  co.base_url = mock->base_url();
  std::vector<ClientRequest> reqs(2000, completion(4));
  ClientStats stats;
  auto res = run_requests(co, reqs, nullptr, &stats);
  ASSERT_TRUE(res.is_ok());
  int64_t ok = 0;
  std::string first_error;
  for (const auto& r : *res) {
    if (r.success && r.itl.size() == 3 && r.output_tokens == 4) ++ok;
    else if (first_error.empty()) first_error = r.error;
  }
  EXPECT_EQ(ok, 2000) << first_error;
  EXPECT_EQ(stats.peak_in_flight, 2000);
  EXPECT_EQ(stats.connections_opened, 2000);
  EXPECT_GT(mock->stats().peak_in_flight, 1000);  // they really overlapped at the server
  EXPECT_EQ(mock->stats().tokens_sent, 8000);
}

TEST(StreamClientSelfBench, OnePointAndTheParseComparison) {
  const ChunkParseCost cost = measure_chunk_parse(2000);
  EXPECT_GT(cost.scan_ns, 0);
  EXPECT_GT(cost.nlohmann_ns, 0);
  SelfBenchOptions o;
  o.tokens_per_stream = 10;
  o.interval_s = 0.02;
  auto p = selfbench_point(50, o);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_EQ(p->failed, 0) << p->first_error;
  EXPECT_EQ(p->tokens_received, 500);
  EXPECT_GT(p->us_per_token, 0);
}

TEST(MockServer, DisconnectingClientsAreCounted) {
  MockServerOptions mo;
  mo.tokens = 1000;
  mo.itl = 0.01;
  auto mock = start_mock(mo);
  ClientOptions co;
  co.base_url = mock->base_url();
  co.timeout = 1s;  // the client gives up and closes mid-stream
  auto res = run_requests(co, {completion(1), completion(1)});
  ASSERT_TRUE(res.is_ok());
  for (int i = 0; i < 500 && mock->stats().in_flight > 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(mock->stats().in_flight, 0);
  EXPECT_EQ(mock->stats().disconnects, 2);
  EXPECT_EQ(mock->stats().peak_in_flight, 2);
}

}  // namespace
}  // namespace minke::bench
