// The engine's text path on the demo model (real tokenizer): a stop string spanning
// a token boundary cuts the text exactly before it (or after, with
// include_stop_str_in_output), and logprobs come with each token when asked.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "apps/engine_stack.h"
#include "model/demo_model.h"

namespace minke {
namespace {

class EngineTextTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cache_ = std::filesystem::temp_directory_path() / ("minke_engine_text_" + std::to_string(::getpid()));
    DemoModelPaths paths = default_demo_paths();
    paths.cache_root = cache_.string();
    auto dir = ensure_demo_model(paths);
    ASSERT_TRUE(dir.is_ok()) << dir.status().to_string();
    EngineArgs args;
    args.model_dir = *dir;
    args.device.device = "cpu";
    args.device.threads = 2;
    args.kv_cache_memory = "64MiB";
    auto s = build_engine_stack(args);
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    stack_ = std::move(*s).release();
  }
  static void TearDownTestSuite() {
    delete stack_;
    std::filesystem::remove_all(cache_);
  }
  struct Result {
    std::string text, stop_reason;
    std::vector<int32_t> ids;
    std::vector<TokenLogprobs> logprobs;
    FinishReason finish = FinishReason::kError;
  };
  Result run(SamplingParams p) {
    EngineRequest r;
    r.prompt = stack_->tokenizer->encode("The history of whales", true);
    r.params = std::move(p);
    auto stream = stack_->engine->submit(r);
    EXPECT_TRUE(stream.is_ok()) << stream.status().to_string();
    while (stack_->engine->has_work()) stack_->engine->step();
    Result out;
    while (auto ev = (*stream)->next()) {
      out.text += ev->text;
      out.ids.insert(out.ids.end(), ev->token_ids.begin(), ev->token_ids.end());
      out.logprobs.insert(out.logprobs.end(), ev->logprobs.begin(), ev->logprobs.end());
      if (ev->finish) {
        out.finish = *ev->finish;
        out.stop_reason = ev->stop_reason;
      }
    }
    return out;
  }
  static inline std::filesystem::path cache_;
  static inline EngineStack* stack_ = nullptr;
};

SamplingParams greedy(int max_tokens) {
  SamplingParams p{0.0f};
  p.max_tokens = max_tokens;
  p.ignore_eos = true;
  return p;
}

TEST_F(EngineTextTest, StopStringAcrossTokensCutsTheText) {
  const Result full = run(greedy(24));
  ASSERT_EQ(full.finish, FinishReason::kLength);
  ASSERT_EQ(full.text, stack_->tokenizer->decode(full.ids, true));
  // A stop string made of the end of token 5's text and the start of token 6's.
  const std::string upto5 = stack_->tokenizer->decode({full.ids.begin(), full.ids.begin() + 6}, true);
  const std::string upto4 = stack_->tokenizer->decode({full.ids.begin(), full.ids.begin() + 5}, true);
  const std::string upto6 = stack_->tokenizer->decode({full.ids.begin(), full.ids.begin() + 7}, true);
  ASSERT_LT(upto4.size() + 1, upto6.size());
  const size_t at = upto5.size() - 1;  // last byte of token 5 .. first byte of token 6
  std::string stop = full.text.substr(at, 2);
  if (full.text.find(stop) < at) GTEST_SKIP() << "the chosen stop string occurs earlier";
  SamplingParams p = greedy(24);
  p.stop = {stop};
  const Result cut = run(p);
  EXPECT_EQ(cut.finish, FinishReason::kStop);
  EXPECT_EQ(cut.stop_reason, stop);
  EXPECT_EQ(cut.text, full.text.substr(0, at));
  p.include_stop_str_in_output = true;
  EXPECT_EQ(run(p).text, full.text.substr(0, at + stop.size()));
}

TEST_F(EngineTextTest, LogprobsComeWithEveryToken) {
  SamplingParams p = greedy(5);
  p.logprobs = 3;
  const Result r = run(p);
  ASSERT_EQ(r.logprobs.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(r.logprobs[i].token, r.ids[i]);
    EXPECT_EQ(r.logprobs[i].rank, 1);  // greedy picks the best raw logit (no penalties here)
    ASSERT_EQ(r.logprobs[i].top.size(), 3u);
    EXPECT_EQ(r.logprobs[i].top[0].first, r.ids[i]);
    EXPECT_LE(r.logprobs[i].logprob, 0.0f);
  }
}

TEST_F(EngineTextTest, MaxTokensAndStopTokenIds) {
  const Result full = run(greedy(8));
  SamplingParams p = greedy(8);
  p.stop_token_ids = {full.ids[3]};
  const Result r = run(p);
  EXPECT_EQ(r.finish, FinishReason::kStop);
  const auto first = std::find(full.ids.begin(), full.ids.end(), full.ids[3]);
  EXPECT_EQ(r.ids, std::vector<int32_t>(full.ids.begin(), first + 1));
}

}  // namespace
}  // namespace minke
