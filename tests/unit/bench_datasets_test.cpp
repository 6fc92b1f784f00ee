// Benchmark datasets (src/bench/datasets.h) with DeepSeek-V3's tokenizer: random prompts that
// re-tokenize to exactly their prompt_len, their length distribution, shared prefix, seeds and the
// server-count hook; ShareGPT and custom files in tests/data/bench/datasets (selection orders
// taken from Python's random.seed + random.shuffle), their filters and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

#include "bench/datasets.h"
#include "test_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace minke::bench {
namespace {

using Ids = std::vector<int32_t>;

const Tokenizer& deepseek() { return test::deepseek_tokenizer(); }

std::string data(const std::string& name) { return std::string(MINKE_TEST_DATA_DIR) + "/bench/datasets/" + name; }

constexpr int32_t kFirstAddedId = 128000;  // DeepSeek-V3: ids >= 128000 are added tokens (<｜...｜>)

// The invariants random_dataset promises for every request.
void expect_exact(const std::vector<BenchRequest>& requests, const RandomDatasetOptions& o, const RandomDatasetStats& s) {
  const Tokenizer& tok = deepseek();
  const int64_t specials = o.add_special_tokens ? 1 : 0;  // DeepSeek adds BOS
  for (size_t i = 0; i < requests.size(); ++i) {
    const BenchRequest& r = requests[i];
    const Ids ids = tok.encode(r.prompt, o.add_special_tokens);
    ASSERT_EQ(int64_t(ids.size()), r.prompt_len) << "prompt " << i << " of input_len " << o.input_len;
    const int64_t sampled = r.prompt_len - specials - o.prefix_len;
    EXPECT_GE(sampled, s.input_low);
    EXPECT_LE(sampled, s.input_high);
    EXPECT_GE(r.expected_output_len, s.output_low);
    EXPECT_LE(r.expected_output_len, s.output_high);
    if (o.add_special_tokens) {
      EXPECT_EQ(ids.front(), 0);  // BOS
    }
    for (size_t k = size_t(specials); k < ids.size(); ++k) {
      ASSERT_FALSE(tok.is_special(ids[k])) << "prompt " << i << " token " << k;
      ASSERT_LT(ids[k], kFirstAddedId) << "prompt " << i << " token " << k;
    }
    EXPECT_EQ(r.prompt.find("<｜"), std::string::npos);
  }
}

TEST(BenchDatasetRandom, EveryPromptReTokenizesToItsLength) {
  struct Case { int64_t input_len; double ratio; bool specials; int64_t n; };
  const Case cases[] = {
      {1, 0.0, false, 200},  {2, 0.0, true, 200},   {7, 0.0, true, 200},    {7, 0.5, false, 200},
      {128, 0.0, true, 100}, {128, 0.25, true, 100}, {128, 0.9, false, 100}, {1000, 0.0, true, 40},
      {1000, 0.5, false, 40},
  };
  for (const Case& c : cases) {
    RandomDatasetOptions o;
    o.num_prompts = c.n, o.input_len = c.input_len, o.output_len = 32, o.range_ratio = c.ratio;
    o.add_special_tokens = c.specials, o.seed = 11;
    RandomDatasetStats stats;
    auto requests = random_dataset(deepseek(), o, &stats);
    ASSERT_TRUE(requests.is_ok()) << requests.status().to_string();
    ASSERT_EQ(requests->size(), size_t(c.n));
    expect_exact(*requests, o, stats);
    if (c.ratio == 0.0) {
      for (const BenchRequest& r : *requests) EXPECT_EQ(r.prompt_len, c.input_len);  // as the server counts
    }
    EXPECT_LE(stats.fallbacks, c.n / 10) << "input_len " << c.input_len;
  }
}

TEST(BenchDatasetRandom, BoundsAsVllmComputesThem) {
  RandomDatasetOptions o;
  o.num_prompts = 1, o.input_len = 101, o.output_len = 7, o.range_ratio = 0.3;
  RandomDatasetStats s;
  ASSERT_TRUE(random_dataset(deepseek(), o, &s).is_ok());
  // real input 101 - 1 (BOS) = 100: [floor(70), ceil(130)]; output [floor(4.9), ceil(9.1)].
  EXPECT_EQ(s.input_low, 70);
  EXPECT_EQ(s.input_high, 130);
  EXPECT_EQ(s.output_low, 4);
  EXPECT_EQ(s.output_high, 10);
  o.output_len = 0;  // output bounds never go below 1
  ASSERT_TRUE(random_dataset(deepseek(), o, &s).is_ok());
  EXPECT_EQ(s.output_low, 1);
  EXPECT_EQ(s.output_high, 1);
}

TEST(BenchDatasetRandom, LengthsCoverTheRange) {
  RandomDatasetOptions o;
  o.num_prompts = 2000, o.input_len = 100, o.output_len = 64, o.range_ratio = 0.5;
  o.add_special_tokens = false, o.seed = 5;
  RandomDatasetStats s;
  auto requests = random_dataset(deepseek(), o, &s);
  ASSERT_TRUE(requests.is_ok()) << requests.status().to_string();
  expect_exact(*requests, o, s);
  ASSERT_EQ(s.input_low, 50);
  ASSERT_EQ(s.input_high, 150);
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = 0, out_lo = lo, out_hi = 0;
  double sum = 0, out_sum = 0;
  for (const BenchRequest& r : *requests) {
    lo = std::min(lo, r.prompt_len), hi = std::max(hi, r.prompt_len), sum += double(r.prompt_len);
    out_lo = std::min(out_lo, r.expected_output_len), out_hi = std::max(out_hi, r.expected_output_len);
    out_sum += double(r.expected_output_len);
  }
  // 101 values, 2000 draws: a bound missed by 3 has probability (98/101)^2000 ~ 1e-26; the
  // mean's standard error is ~0.65 tokens.
  EXPECT_LE(lo, 52);
  EXPECT_GE(hi, 148);
  EXPECT_NEAR(sum / 2000, 100.0, 5.0);
  EXPECT_LE(out_lo, 34);
  EXPECT_GE(out_hi, 94);
  EXPECT_NEAR(out_sum / 2000, 64.0, 4.0);
  EXPECT_LE(s.fallbacks, 20);
}

TEST(BenchDatasetRandom, PrefixIsSharedTokenForToken) {
  const Tokenizer& tok = deepseek();
  RandomDatasetOptions o;
  o.num_prompts = 50, o.input_len = 64, o.range_ratio = 0.5, o.prefix_len = 32, o.seed = 3;
  RandomDatasetStats s;
  auto requests = random_dataset(tok, o, &s);
  ASSERT_TRUE(requests.is_ok()) << requests.status().to_string();
  expect_exact(*requests, o, s);
  const Ids first = tok.encode((*requests)[0].prompt, true);
  const Ids prefix(first.begin(), first.begin() + 1 + 32);  // BOS + the prefix
  std::string prefix_text;
  for (size_t k = 1; k < prefix.size(); ++k) prefix_text += tok.token_bytes(prefix[k]);
  std::set<std::string> suffixes;
  for (const BenchRequest& r : *requests) {
    const Ids ids = tok.encode(r.prompt, true);
    ASSERT_TRUE(std::equal(prefix.begin(), prefix.end(), ids.begin()));
    ASSERT_TRUE(r.prompt.starts_with(prefix_text));
    suffixes.insert(r.prompt.substr(prefix_text.size()));
  }
  EXPECT_GT(suffixes.size(), 45u);  // the rest differs from prompt to prompt

  o.seed = 4;  // another seed, another prefix
  auto other = random_dataset(tok, o);
  ASSERT_TRUE(other.is_ok());
  EXPECT_FALSE((*other)[0].prompt.starts_with(prefix_text));

  o.input_len = 1, o.range_ratio = 0;  // only BOS + prefix: every prompt is the prefix itself
  auto only_prefix = random_dataset(tok, o, &s);
  ASSERT_TRUE(only_prefix.is_ok()) << only_prefix.status().to_string();
  expect_exact(*only_prefix, o, s);
  for (const BenchRequest& r : *only_prefix) EXPECT_EQ(r.prompt, (*only_prefix)[0].prompt);
}

// Without retries about half the prompts need the plain-word completion; it keeps every promise.
TEST(BenchDatasetRandom, WordFallbackKeepsTheGuarantees) {
  const Tokenizer& tok = deepseek();
  RandomDatasetOptions o;
  o.num_prompts = 100, o.input_len = 100, o.range_ratio = 0.5, o.prefix_len = 16, o.max_retries = 0, o.seed = 8;
  RandomDatasetStats s;
  auto requests = random_dataset(tok, o, &s);
  ASSERT_TRUE(requests.is_ok()) << requests.status().to_string();
  EXPECT_GT(s.fallbacks, 10);
  EXPECT_EQ(s.exact_first_try + s.fallbacks, 100 + 1);  // the prompts and the prefix
  expect_exact(*requests, o, s);
  const Ids first = tok.encode((*requests)[0].prompt, true);
  for (const BenchRequest& r : *requests) {
    const Ids ids = tok.encode(r.prompt, true);
    EXPECT_TRUE(std::equal(first.begin(), first.begin() + 17, ids.begin()));
  }
}

TEST(BenchDatasetRandom, SameSeedSameDatasetAnyThreads) {
  RandomDatasetOptions o;
  o.num_prompts = 64, o.input_len = 200, o.range_ratio = 0.5, o.prefix_len = 8, o.seed = 42;
  o.num_threads = 1;
  auto a = random_dataset(deepseek(), o);
  o.num_threads = 2;
  auto b = random_dataset(deepseek(), o);
  o.seed = 43;
  auto c = random_dataset(deepseek(), o);
  ASSERT_TRUE(a.is_ok() && b.is_ok() && c.is_ok());
  size_t same_as_c = 0;
  for (size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].prompt, (*b)[i].prompt);
    EXPECT_EQ((*a)[i].prompt_len, (*b)[i].prompt_len);
    EXPECT_EQ((*a)[i].expected_output_len, (*b)[i].expected_output_len);
    same_as_c += (*a)[i].prompt == (*c)[i].prompt;
  }
  EXPECT_EQ(same_as_c, 0u);
}

TEST(BenchDatasetRandom, RejectsBadOptions) {
  RandomDatasetOptions o;
  o.num_prompts = 2;
  for (double r : {1.0, -0.1, 1.5, std::nan("")}) {
    o.range_ratio = r;
    auto result = random_dataset(deepseek(), o);
    ASSERT_FALSE(result.is_ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(result.status().message().find("--random-range-ratio must be in [0, 1)"), std::string::npos);
  }
  o.range_ratio = 0;
  o.input_len = 1;  // 1 - BOS leaves nothing to sample, and there is no prefix (vLLM refuses too)
  auto too_small = random_dataset(deepseek(), o);
  ASSERT_FALSE(too_small.is_ok());
  EXPECT_NE(too_small.status().message().find("--random-input-len is too small"), std::string::npos);
  o.input_len = 10, o.range_ratio = 0.95, o.add_special_tokens = false;  // floor(10 * 0.05) = 0
  EXPECT_FALSE(random_dataset(deepseek(), o).is_ok());
  o.range_ratio = 0, o.num_prompts = -1;
  EXPECT_FALSE(random_dataset(deepseek(), o).is_ok());
  o.num_prompts = 0;
  auto none = random_dataset(deepseek(), o);
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->empty());
}

TEST(BenchDatasetRandom, ServerCountHook) {
  const Tokenizer& tok = deepseek();
  RandomDatasetOptions o;
  o.num_prompts = 20, o.input_len = 50, o.range_ratio = 0.2, o.prefix_len = 4, o.seed = 9;
  auto plain = random_dataset(tok, o);
  ASSERT_TRUE(plain.is_ok());

  // A server that counts as the local tokenizer does: one call per prompt, the same dataset.
  o.count_tokens = [&](const std::string& p) -> Result<int64_t> { return int64_t(tok.encode(p, true).size()); };
  RandomDatasetStats s;
  auto same = random_dataset(tok, o, &s);
  ASSERT_TRUE(same.is_ok()) << same.status().to_string();
  EXPECT_EQ(s.counter_calls, 20);
  for (size_t i = 0; i < same->size(); ++i) EXPECT_EQ((*same)[i].prompt, (*plain)[i].prompt);

  // A server that adds no BOS: prompts get one more token of text, so that it counts prompt_len.
  o.count_tokens = [&](const std::string& p) -> Result<int64_t> { return int64_t(tok.encode(p, false).size()); };
  auto shifted = random_dataset(tok, o, &s);
  ASSERT_TRUE(shifted.is_ok()) << shifted.status().to_string();
  for (size_t i = 0; i < shifted->size(); ++i) {
    EXPECT_EQ(int64_t(tok.encode((*shifted)[i].prompt, false).size()), (*shifted)[i].prompt_len);
    EXPECT_EQ((*shifted)[i].prompt_len, (*plain)[i].prompt_len);
  }
  EXPECT_EQ(s.counter_calls, 40);

  o.count_tokens = [](const std::string&) -> Result<int64_t> { return unavailable("connection refused"); };
  auto failed = random_dataset(tok, o);
  ASSERT_FALSE(failed.is_ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(failed.status().message().find("connection refused"), std::string::npos);

  o.count_tokens = [](const std::string&) -> Result<int64_t> { return int64_t(3); };  // never agrees
  auto stuck = random_dataset(tok, o);
  ASSERT_FALSE(stuck.is_ok());
  EXPECT_NE(stuck.status().message().find("the server counts"), std::string::npos);
}

// The size: 1000 prompts of 1000 tokens, in well under a few seconds on 2 cores.
TEST(BenchDatasetRandom, ThousandPromptsOfThousandTokens) {
  RandomDatasetOptions o;
  o.num_prompts = 1000, o.input_len = 1000, o.output_len = 100, o.seed = 0;
  RandomDatasetStats s;
  const Tokenizer& tok = deepseek();  // loaded outside the clock
  const auto start = std::chrono::steady_clock::now();
  auto requests = random_dataset(tok, o, &s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(requests.is_ok()) << requests.status().to_string();
  std::printf("[ timing   ] 1000 x 1000-token prompts in %.3f s (%lld exact at once, %lld retries, %lld fallbacks)\n",
              seconds, (long long)s.exact_first_try, (long long)s.retries, (long long)s.fallbacks);
  expect_exact(*requests, o, s);
  EXPECT_LT(seconds, 20.0);  // only catches pathologies: the box is shared with builds
}

TEST(BenchDatasetPython, ShuffleMatchesCPython) {
  // random.seed(s); x = list(range(n)); random.shuffle(x), Python 3.11.
  EXPECT_EQ(python_shuffled_indices(10, 0), (std::vector<size_t>{7, 8, 1, 5, 3, 4, 2, 0, 9, 6}));
  EXPECT_EQ(python_shuffled_indices(25, 7),
            (std::vector<size_t>{13, 19, 5, 22, 23, 16, 7, 24, 9, 6, 15, 0, 18, 8, 14, 21, 11, 3, 17, 2, 1, 20, 12, 4, 10}));
  EXPECT_EQ(python_shuffled_indices(6, (uint64_t(1) << 40) + 5), (std::vector<size_t>{1, 0, 3, 2, 5, 4}));
  EXPECT_TRUE(python_shuffled_indices(0, 1).empty());
  EXPECT_EQ(python_shuffled_indices(1, 1), std::vector<size_t>{0});
}

std::vector<std::string> prompts_of(const std::vector<BenchRequest>& requests) {
  std::vector<std::string> out;
  for (const BenchRequest& r : requests) out.push_back(r.prompt.substr(0, 24));
  return out;
}

TEST(BenchDatasetShareGpt, SelectsAsVllmDoes) {
  const Tokenizer& tok = deepseek();
  ShareGptOptions o;
  o.num_prompts = 6;
  auto requests = sharegpt_dataset(tok, data("sharegpt_small.json"), o);
  ASSERT_TRUE(requests.is_ok()) << requests.status().to_string();
  // Python's seed-0 shuffle of the 10 two-turn entries: long-total, valid-4, valid-1, valid-3,
  // valid-2, short-reply, short-prompt, valid-0, three-turns, long-prompt; the valid ones in order.
  EXPECT_EQ(prompts_of(*requests), (std::vector<std::string>{
                                       "Name three prime numbers", "Write a haiku about the ",
                                       "Translate 'good morning'", "What is the capital of F",
                                       "Explain how a hash map h", "Give me a synonym for ha"}));
  for (const BenchRequest& r : *requests) EXPECT_EQ(r.prompt_len, int64_t(tok.encode(r.prompt, true).size()));
  // The reply's length, counted as vLLM counts it (tokenizer(completion).input_ids, with BOS).
  const int64_t reply = int64_t(tok.encode("Joyful: feeling or expressing great happiness.", true).size());
  EXPECT_EQ(requests->back().expected_output_len, reply);

  o.num_prompts = 2;  // the first ones of the same order
  auto two = sharegpt_dataset(tok, data("sharegpt_small.json"), o);
  ASSERT_TRUE(two.is_ok());
  EXPECT_EQ(prompts_of(*two), (std::vector<std::string>{"Name three prime numbers", "Write a haiku about the "}));

  o.shuffle = false;  // --disable-shuffle: file order
  auto in_order = sharegpt_dataset(tok, data("sharegpt_small.json"), o);
  ASSERT_TRUE(in_order.is_ok());
  EXPECT_EQ(prompts_of(*in_order), (std::vector<std::string>{"Explain how a hash map h", "Write a haiku about the "}));

  o.shuffle = true, o.seed = 3, o.num_prompts = 6;  // seed 3: valid-1, valid-3, valid-0, three-turns, valid-4, valid-2
  auto seed3 = sharegpt_dataset(tok, data("sharegpt_small.json"), o);
  ASSERT_TRUE(seed3.is_ok());
  EXPECT_EQ(prompts_of(*seed3)[0], "Write a haiku about the ");
  EXPECT_EQ(prompts_of(*seed3)[5], "What is the capital of F");
}

TEST(BenchDatasetShareGpt, OutputLenOverride) {
  ShareGptOptions o;
  o.num_prompts = 8, o.output_len = 16;
  auto requests = sharegpt_dataset(deepseek(), data("sharegpt_small.json"), o);
  ASSERT_TRUE(requests.is_ok()) << requests.status().to_string();
  // Now the short reply and the long total pass too (only the prompt's bounds still apply).
  ASSERT_EQ(requests->size(), 8u);
  EXPECT_TRUE(requests->front().prompt.starts_with(" hello hello"));
  EXPECT_EQ(requests->front().prompt_len, 901);
  EXPECT_EQ((*requests)[5].prompt.substr(0, 20), "Please answer with a");
  for (const BenchRequest& r : *requests) EXPECT_EQ(r.expected_output_len, 16);
  o.num_prompts = 9;
  auto too_many = sharegpt_dataset(deepseek(), data("sharegpt_small.json"), o);
  ASSERT_FALSE(too_many.is_ok());
  EXPECT_NE(too_many.status().message().find("8 valid"), std::string::npos) << too_many.status().to_string();
}

TEST(BenchDatasetShareGpt, Errors) {
  ShareGptOptions o;
  o.num_prompts = 7;
  auto few = sharegpt_dataset(deepseek(), data("sharegpt_small.json"), o);
  ASSERT_FALSE(few.is_ok());
  EXPECT_EQ(few.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(few.status().message().find("than the 6 valid conversations (of 12 entries, 10 with two turns"),
            std::string::npos)
      << few.status().to_string();

  o.num_prompts = 1;
  auto missing = sharegpt_dataset(deepseek(), data("no_such_file.json"), o);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("no_such_file.json does not exist"), std::string::npos);
  EXPECT_EQ(sharegpt_dataset(deepseek(), data(""), o).status().code(), StatusCode::kInvalidArgument);  // a directory
  auto truncated = sharegpt_dataset(deepseek(), data("sharegpt_truncated.json"), o);
  EXPECT_EQ(truncated.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(truncated.status().message().find("not valid JSON"), std::string::npos);
  auto not_list = sharegpt_dataset(deepseek(), data("sharegpt_not_list.json"), o);
  EXPECT_EQ(not_list.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(not_list.status().message().find("expected a JSON list"), std::string::npos);
  o.shuffle = false, o.num_prompts = 2;
  auto bad_turn = sharegpt_dataset(deepseek(), data("sharegpt_bad_turn.json"), o);
  EXPECT_EQ(bad_turn.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(bad_turn.status().message().find("entry 1 (id bad-turn): conversations[1] has no string \"value\""),
            std::string::npos)
      << bad_turn.status().to_string();
  auto not_object = sharegpt_dataset(deepseek(), data("sharegpt_entry_not_object.json"), o);
  EXPECT_EQ(not_object.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(not_object.status().message().find("entry 1 is a number, not an object"), std::string::npos)
      << not_object.status().to_string();
  auto conv_not_list = sharegpt_dataset(deepseek(), data("sharegpt_conv_not_list.json"), o);
  EXPECT_EQ(conv_not_list.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(conv_not_list.status().message().find("entry 0: \"conversations\" is an object, not a list"),
            std::string::npos)
      << conv_not_list.status().to_string();
  o.output_len = 0;
  EXPECT_EQ(sharegpt_dataset(deepseek(), data("sharegpt_small.json"), o).status().code(), StatusCode::kInvalidArgument);
}

// The streaming reader looks only at an entry's own "id" and "conversations", and at a turn's own
// "value"; look-alike keys nested elsewhere are skipped.
TEST(BenchDatasetShareGpt, ReaderIgnoresNestedLookAlikes) {
  ShareGptOptions o;
  o.num_prompts = 1, o.shuffle = false;
  auto one = sharegpt_dataset(deepseek(), data("sharegpt_shapes.json"), o);
  ASSERT_TRUE(one.is_ok()) << one.status().to_string();
  EXPECT_EQ((*one)[0].prompt, "A prompt that is long enough to pass.");
  EXPECT_EQ((*one)[0].expected_output_len,
            int64_t(deepseek().encode("A reply that is long enough to pass too.", true).size()));
  o.num_prompts = 2;  // the second entry's turns are strings: two turns, but no "value"
  auto two = sharegpt_dataset(deepseek(), data("sharegpt_shapes.json"), o);
  EXPECT_EQ(two.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(two.status().message().find("entry 1 (id string-turns): conversations[0] has no string \"value\""),
            std::string::npos)
      << two.status().to_string();
}

TEST(BenchDatasetCustom, ReadsJsonl) {
  const Tokenizer& tok = deepseek();
  CustomOptions o;
  o.num_prompts = 0;  // all of them, in Python's seed-0 order [2, 1, 0, 4, 3]
  auto all = custom_dataset(tok, data("custom_small.jsonl"), o);
  ASSERT_TRUE(all.is_ok()) << all.status().to_string();
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[0].prompt, "What is the capital of China?");
  EXPECT_EQ((*all)[1].prompt, "What is the capital of Iran?");
  EXPECT_EQ((*all)[2].prompt, "What is the capital of India?");
  EXPECT_EQ((*all)[3].prompt, "List the planets of the solar system in order.");
  EXPECT_EQ((*all)[4].prompt, "Write a limerick about a cat who codes in C++.");
  for (const BenchRequest& r : *all) {
    EXPECT_EQ(r.prompt_len, int64_t(tok.encode(r.prompt, true).size()));
    EXPECT_EQ(r.expected_output_len, 256);  // vLLM's --custom-output-len default
  }
  o.num_prompts = 2, o.shuffle = false, o.output_len = 64, o.add_special_tokens = false;
  auto two = custom_dataset(tok, data("custom_small.jsonl"), o);
  ASSERT_TRUE(two.is_ok());
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1].prompt, "What is the capital of Iran?");
  EXPECT_EQ((*two)[1].prompt_len, int64_t(tok.encode("What is the capital of Iran?", false).size()));
  EXPECT_EQ((*two)[1].expected_output_len, 64);
}

TEST(BenchDatasetCustom, Errors) {
  CustomOptions o;
  o.num_prompts = 6;
  auto many = custom_dataset(deepseek(), data("custom_small.jsonl"), o);
  ASSERT_FALSE(many.is_ok());
  EXPECT_NE(many.status().message().find("more than the file's 5 prompts"), std::string::npos);
  o.num_prompts = 1;
  EXPECT_EQ(custom_dataset(deepseek(), data("missing.jsonl"), o).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(custom_dataset(deepseek(), data("sharegpt_small.json"), o).status().code(), StatusCode::kUnsupported);
  auto bad_line = custom_dataset(deepseek(), data("custom_bad_line.jsonl"), o);
  EXPECT_EQ(bad_line.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(bad_line.status().message().find("custom_bad_line.jsonl:2: not valid JSON"), std::string::npos)
      << bad_line.status().to_string();
  auto no_prompt = custom_dataset(deepseek(), data("custom_no_prompt.jsonl"), o);
  EXPECT_EQ(no_prompt.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(no_prompt.status().message().find(":2: expected an object with a string \"prompt\""), std::string::npos);
  o.output_len = 0;
  EXPECT_EQ(custom_dataset(deepseek(), data("custom_small.jsonl"), o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace minke::bench
