// ScriptedRunner through the real Engine (no model): scripts chosen by trigger, EOS after
// the script, logprobs finite; and the engine's fault state when a runner fails.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/engine.h"
#include "engine/scripted_runner.h"

namespace minke {
namespace {

constexpr int64_t kVocab = 64;
constexpr int32_t kEos = 1;

// Decodes ids as "<id>" so triggers can name prompt tokens.
std::string decode_ids(std::span<const int32_t> ids) {
  std::string s;
  for (int32_t t : ids) s += "<" + std::to_string(t) + ">";
  return s;
}

struct Rig {
  explicit Rig(StepRunner& runner) : kv(64, 4, true) {
    EngineConfig config;
    config.scheduler.max_model_len = 200;
    config.block_size = 4;
    config.num_blocks = 64;
    engine = std::make_unique<Engine>(config, runner, kv, nullptr, std::vector<int32_t>{kEos});
  }
  std::vector<RequestOutput> run(std::shared_ptr<RequestStream> s) {
    std::vector<RequestOutput> out;
    while (!s->drained()) {
      while (auto ev = s->try_next()) out.push_back(std::move(*ev));
      if (!s->drained()) engine->step();
    }
    return out;
  }
  KvCacheManager kv;
  std::unique_ptr<Engine> engine;
};

std::vector<int32_t> tokens_of(const std::vector<RequestOutput>& evs) {
  std::vector<int32_t> t;
  for (const auto& e : evs) t.insert(t.end(), e.token_ids.begin(), e.token_ids.end());
  return t;
}

TEST(ScriptedRunner, EmitsTheTriggeredScriptThenStops) {
  ScriptedRunner runner(kVocab, {{"<7>", {10, 11, 12}}, {"", {20}}}, kEos, decode_ids);
  Rig rig(runner);
  EngineRequest a;
  a.prompt = {5, 7, 9};
  a.params.temperature = 1.0f;  // sampling still picks the scripted token
  a.params.logprobs = 2;
  auto evs = rig.run(*rig.engine->submit(a));
  EXPECT_EQ(tokens_of(evs), (std::vector<int32_t>{10, 11, 12, kEos}));
  EXPECT_EQ(*evs.back().finish, FinishReason::kStop);
  for (const auto& e : evs)
    for (const auto& lp : e.logprobs) EXPECT_TRUE(std::isfinite(lp.logprob) && lp.logprob > -1e-6f);

  EngineRequest b;
  b.prompt = {5, 6};  // no <7>: the catch-all
  EXPECT_EQ(tokens_of(rig.run(*rig.engine->submit(b))), (std::vector<int32_t>{20, kEos}));
  EngineRequest c;
  c.prompt = {7};
  c.params.max_tokens = 2;  // limits still apply
  auto short_evs = rig.run(*rig.engine->submit(c));
  EXPECT_EQ(tokens_of(short_evs), (std::vector<int32_t>{10, 11}));
  EXPECT_EQ(*short_evs.back().finish, FinishReason::kLength);
}

TEST(ScriptedRunner, NoMatchingTriggerEndsAtOnce) {
  ScriptedRunner runner(kVocab, {{"<9>", {10}}}, kEos, decode_ids);
  Rig rig(runner);
  EngineRequest r;
  r.prompt = {3};
  EXPECT_EQ(tokens_of(rig.run(*rig.engine->submit(r))), (std::vector<int32_t>{kEos}));
}

TEST(ScriptedRunner, LoadScriptsRejectsMalformedFiles) {
  const std::string path = ::testing::TempDir() + "/scripts.json";
  auto write = [&](const char* text) { std::FILE* f = std::fopen(path.c_str(), "w"); std::fputs(text, f); std::fclose(f); };
  auto encode = [](const std::string& s) { return std::vector<int32_t>(s.size(), 3); };
  write(R"([{"trigger": "a", "output": "xyz"}, {"output": "q"}])");
  auto ok = load_scripts(path, encode);
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  EXPECT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].tokens.size(), 3u);
  EXPECT_EQ((*ok)[1].trigger, "");
  for (const char* bad : {"{}", "[1]", R"([{"trigger": "a"}])", R"([{"output": 3}])", "not json"}) {
    write(bad);
    EXPECT_FALSE(load_scripts(path, encode).is_ok()) << bad;
  }
  EXPECT_FALSE(load_scripts(path + ".missing", encode).is_ok());
}

// A runner that fails from its second step on.
class FailingRunner final : public StepRunner {
 public:
  int64_t vocab_size() const override { return kVocab; }
  Result<Tensor> run(const SchedulerOutput& step) override {
    if (++calls_ >= 2) return internal_error("device lost");
    int64_t rows = 0;
    for (const auto& s : step.scheduled) rows += s.sample;
    Tensor t = Tensor::zeros(DType::kF32, {rows, kVocab});
    for (int64_t i = 0; i < rows; ++i) t.data<float>()[i * kVocab + 30] = 10.0f;
    return t;
  }
  int calls_ = 0;
};

TEST(Engine, AFailedStepFailsEveryRequestAndRefusesNewOnes) {
  FailingRunner runner;
  Rig rig(runner);
  EngineRequest r;
  r.prompt = {4, 5};
  r.params.max_tokens = 10;
  auto first = *rig.engine->submit(r);
  rig.engine->step();  // ok: one token
  auto second = *rig.engine->submit(r);  // waiting when the fault comes
  rig.engine->step();  // fails
  for (auto& s : {first, second}) {
    std::optional<RequestOutput> last;
    while (auto ev = s->try_next()) last = std::move(ev);
    ASSERT_TRUE(last && last->finish);
    EXPECT_EQ(*last->finish, FinishReason::kError);
    EXPECT_NE(last->error.message().find("device lost"), std::string::npos);
    EXPECT_TRUE(s->drained());
  }
  EXPECT_TRUE(rig.engine->stats().faulted);
  EXPECT_EQ(rig.engine->stats().num_running, 0);
  EXPECT_EQ(rig.engine->stats().kv_blocks_used, 0);
  EXPECT_FALSE(rig.engine->fault().is_ok());
  auto refused = rig.engine->submit(r);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
}

TEST(Engine, StatsCountWaitingRunningAndKvBlocks) {
  ScriptedRunner runner(kVocab, {{"", {10, 11, 12, 13, 14, 15}}}, kEos, decode_ids);
  Rig rig(runner);
  EngineRequest r;
  r.prompt = {4, 5, 6, 7, 8};  // two blocks of 4
  auto s = *rig.engine->submit(r);
  EXPECT_EQ(rig.engine->stats().num_waiting, 1);
  rig.engine->step();
  const EngineStats mid = rig.engine->stats();
  EXPECT_EQ(mid.num_waiting, 0);
  EXPECT_EQ(mid.num_running, 1);
  EXPECT_EQ(mid.kv_blocks_used, 2);
  EXPECT_EQ(mid.kv_blocks_total, 64);
  rig.run(s);
  const EngineStats end = rig.engine->stats();
  EXPECT_EQ(end.num_running, 0);
  EXPECT_EQ(end.kv_blocks_used, 0);
  EXPECT_EQ(end.prefix_query_tokens, 5);
}

}  // namespace
}  // namespace minke
