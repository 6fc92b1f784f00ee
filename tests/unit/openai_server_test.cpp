// OpenAiServer's states over a real HttpServer and Engine (scripted runner, real tokenizer):
// 503 + Retry-After while loading, 200 when ready, 503 when draining; abort_all ends streams
// with finish_reason "abort"; an engine fault turns /health to 503; the waiting-queue limit.
#include "openai/openai_server.h"

#include <gtest/gtest.h>

#include "test_tokenizer.h"

#include "engine/scripted_runner.h"
#include "http_test_client.h"

namespace minke {
namespace {

using namespace test_http;
using Json = nlohmann::json;

const Tokenizer& tokenizer() { return test::deepseek_tokenizer(); }

constexpr int64_t kVocab = 129280;
constexpr int32_t kEos = 1;

// A runner that serves a few steps, then fails (the fault path).
class FailAfter final : public StepRunner {
 public:
  explicit FailAfter(StepRunner& inner, int ok_steps) : inner_(inner), left_(ok_steps) {}
  int64_t vocab_size() const override { return inner_.vocab_size(); }
  Result<Tensor> run(const SchedulerOutput& step) override {
    if (left_-- <= 0) return internal_error("the device fell off the bus");
    return inner_.run(step);
  }

 private:
  StepRunner& inner_;
  int left_;
};

class OpenAiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<Script> scripts = {{"", tokenizer().encode("Hello there, friend.", false)}};
    runner_ = std::make_unique<ScriptedRunner>(kVocab, std::move(scripts), kEos, [](std::span<const int32_t> ids) {
      return tokenizer().decode(ids, false);
    });
  }
  void start(OpenAiServerConfig config, StepRunner* runner = nullptr, int64_t max_num_seqs = 8) {
    server_ = std::make_unique<OpenAiServer>(config);
    http_ = std::make_unique<HttpServer>(HttpServerConfig{});
    server_->install(*http_);
    ASSERT_TRUE(http_->start().is_ok());
    EngineConfig ec;
    ec.scheduler.max_model_len = 100000;
    ec.scheduler.max_num_seqs = max_num_seqs;
    ec.block_size = 64;
    ec.num_blocks = 2048;
    kv_ = std::make_unique<KvCacheManager>(ec.num_blocks, ec.block_size, true);
    engine_ = std::make_unique<Engine>(ec, runner ? *runner : *runner_, *kv_, &tokenizer(), std::vector<int32_t>{kEos});
  }
  void ready() {
    engine_->start();
    ServedModel m;
    m.engine = engine_.get();
    m.tokenizer = &tokenizer();
    m.max_model_len = 100000;
    m.vocab_size = kVocab;
    server_->set_ready(std::move(m));
  }
  void TearDown() override {
    if (http_) http_->stop(std::chrono::seconds(2));
    if (engine_) engine_->stop();
  }
  Response request(const std::string& raw) {
    Conn c(http_->port());
    EXPECT_TRUE(send_all(c.fd, raw));
    return read_response(c);
  }
  std::unique_ptr<ScriptedRunner> runner_;
  std::unique_ptr<OpenAiServer> server_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<KvCacheManager> kv_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(OpenAiServerTest, LoadingIs503ThenReadyThenDrainingIs503) {
  start({});
  Response health = request(get("/health"));
  EXPECT_EQ(health.status, 503);
  EXPECT_EQ(health.headers["retry-after"], "1");
  EXPECT_NE(health.body.find("loading"), std::string::npos);
  EXPECT_EQ(request(post("/v1/completions", R"({"prompt": "hi"})")).status, 503);
  Response metrics = request(get("/metrics"));  // public and available while loading
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("minke:num_requests_running{model_name=\"default\"} 0"), std::string::npos);

  ready();
  EXPECT_EQ(request(get("/health")).status, 200);
  Response done = request(post("/v1/completions", R"({"prompt": "hi", "max_tokens": 50})"));
  ASSERT_EQ(done.status, 200) << done.body;
  const Json body = Json::parse(done.body);
  EXPECT_EQ(body["choices"][0]["text"], "Hello there, friend.");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
  EXPECT_NE(request(get("/metrics")).body.find("minke:request_success_total{model_name=\"default\",finished_reason=\"stop\"} 1"),
            std::string::npos);

  server_->begin_drain();
  EXPECT_EQ(request(get("/health")).status, 503);
  EXPECT_EQ(request(post("/v1/completions", R"({"prompt": "hi"})")).status, 503);
}

TEST_F(OpenAiServerTest, AbortAllEndsStreamsWithFinishReasonAbort) {
  start({});
  ready();
  Conn c(http_->port());
  ASSERT_TRUE(send_all(c.fd, post("/v1/completions", R"({"prompt": "hi", "max_tokens": 90000, "ignore_eos": true, "stream": true})")));
  Response head = read_response(c, /*head_only=*/true);
  ASSERT_EQ(head.status, 200);
  ASSERT_TRUE(read_chunk(c).has_value());  // streaming has begun
  EXPECT_EQ(server_->calls_in_flight(), 1u);
  server_->abort_all();
  std::string all;
  while (auto chunk = read_chunk(c)) {
    if (chunk->empty()) break;
    all += *chunk;
  }
  EXPECT_NE(all.find("\"finish_reason\":\"abort\""), std::string::npos);
  EXPECT_NE(all.find("data: [DONE]"), std::string::npos);
  EXPECT_TRUE(eventually([&] { return server_->calls_in_flight() == 0; }));
  EXPECT_TRUE(eventually([&] { return engine_->stats().kv_blocks_used == 0; }));
}

TEST_F(OpenAiServerTest, EngineFaultTurnsHealthTo503AndFailsTheRequest) {
  FailAfter failing(*runner_, 2);
  start({}, &failing);
  ready();
  Response r = request(post("/v1/completions", R"({"prompt": "hi", "max_tokens": 20, "ignore_eos": true})"));
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("fell off the bus"), std::string::npos);
  Response health = request(get("/health"));
  EXPECT_EQ(health.status, 503);
  EXPECT_NE(health.body.find("engine failed"), std::string::npos);
  EXPECT_NE(request(get("/metrics")).body.find("minke:engine_faulted{model_name=\"default\"} 1"), std::string::npos);
}

TEST_F(OpenAiServerTest, FullWaitingQueueIs503WithRetryAfter) {
  OpenAiServerConfig config;
  config.max_num_waiting = 1;
  start(config, nullptr, /*max_num_seqs=*/1);
  ready();
  // One long request runs; the next waits; the third finds the queue full.
  std::vector<std::unique_ptr<Conn>> conns;
  for (int i = 0; i < 2; ++i) {
    conns.push_back(std::make_unique<Conn>(http_->port()));
    ASSERT_TRUE(send_all(conns.back()->fd, post("/v1/completions",
                                                R"({"prompt": "hi", "max_tokens": 90000, "ignore_eos": true, "stream": true})")));
    ASSERT_EQ(read_response(*conns.back(), true).status, 200);
    if (i == 0) ASSERT_TRUE(eventually([&] { return engine_->stats().num_running == 1; }));  // no longer waiting
  }
  ASSERT_TRUE(eventually([&] { return engine_->stats().num_waiting == 1; }));
  Response full = request(post("/v1/completions", R"({"prompt": "hi"})"));
  EXPECT_EQ(full.status, 503);
  EXPECT_EQ(full.headers["retry-after"], "1");
  EXPECT_NE(full.body.find("--max-num-waiting"), std::string::npos);
  conns.clear();  // the clients go away: both requests are aborted
  EXPECT_TRUE(eventually([&] { return engine_->stats().num_running == 0 && engine_->stats().num_waiting == 0; }));
}

}  // namespace
}  // namespace minke
