// Tokenizer unit tests: DeepSeek-V3's tokenizer on cases whose ids were taken from Hugging Face's
// Rust tokenizers 0.23.2 (whitespace and Unicode-version corners, digits, CJK, added tokens, BOS),
// added-token flags on a tiny tokenizer, decode's U+FFFD, BPE paths, threads and load errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "tokenizer/bpe.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/onig_regex.h"
#include "test_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "core/utf8.h"

namespace minke {
namespace {

using Ids = std::vector<int32_t>;

const Tokenizer& deepseek() { return test::deepseek_tokenizer(); }

TEST(Tokenizer, Vocabulary) {
  const Tokenizer& t = deepseek();
  EXPECT_EQ(t.vocab_size(), 128815);
  EXPECT_EQ(t.bos_id(), 0);
  EXPECT_EQ(t.eos_id(), 1);
  EXPECT_EQ(t.token_to_id("<｜User｜>"), 128803);
  EXPECT_EQ(t.id_to_token(128814), "<｜tool▁sep｜>");
  EXPECT_TRUE(t.token_to_id("Ġt").has_value());
  EXPECT_FALSE(t.token_to_id("no such token").has_value());
  EXPECT_FALSE(t.id_to_token(-1).has_value());
  EXPECT_FALSE(t.id_to_token(128815).has_value());
  EXPECT_TRUE(t.is_special(0));
  EXPECT_TRUE(t.is_special(128000));          // <｜place▁holder▁no▁0｜>
  EXPECT_FALSE(t.is_special(128814));         // <｜tool▁sep｜> is added but not special
  EXPECT_FALSE(t.is_special(19923));
}

struct Case {
  const char* text;
  Ids ids;
};

// Ids from HF tokenizers (Tokenizer.fromFile(tokenizer.json).encode(text, addSpecialTokens=false)).
TEST(Tokenizer, MatchesHuggingFace) {
  const Case cases[] = {
      {"Hello, world! 12345 你好世界 <｜User｜>hi",
       {19923, 14, 2058, 3, 223, 6895, 1883, 223, 30594, 3427, 223, 128803, 6366}},
      {"a\u180e b", {67, 115522, 239, 291}},  // U+180E is no whitespace for Oniguruma (PCRE2 says it is)
      {"x  \u180e\u180ey", {90, 223, 223, 115522, 239, 115522, 239, 91}},
      {"a\u0085 b\u0085", {67, 129, 230, 291, 129, 230}},  // U+0085 is (JavaScript says it is not)
      {"a \ufeffb\ufeff ", {67, 223, 15251, 68, 15251, 223}},  // U+FEFF is not (JavaScript says it is)
      {"foo\u3000\u3000bar\u00a0baz", {40897, 18524, 18524, 6515, 2162, 68, 1521}},
      {"\u1c89\u1c8a abc", {160, 113, 234, 160, 113, 235, 71490}},       // letters since Unicode 16
      {"\U00031350\U00031351x", {175, 112, 238, 241, 175, 112, 238, 242, 90}},  // CJK Ext. H (Unicode 15)
      {"a\u088fb", {67, 159, 98, 240, 68}},                                // a letter only since Unicode 17
      {"1234567", {6895, 18009, 25}},                                      // digits in threes
      {"12345678901", {6895, 18009, 25744, 2616}},
      {"\u0661\u0662\u0663\u0664", {63468, 76647, 127056, 152, 100}},
      {"abc你好def", {32372, 30594, 3465}},                               // CJK isolated
      {"  hello  world  ", {223, 44388, 223, 2058, 262}},
      {"Hello\r\n\r\nWorld\n", {19923, 204, 201, 204, 201, 21133, 201}},
      {"<｜User｜>hi<｜Assistant｜>", {128803, 6366, 128804}},
      {"<｜tool▁sep｜>", {128814}},
      {"", {}},
  };
  for (const Case& c : cases) EXPECT_EQ(deepseek().encode(c.text, false), c.ids) << c.text;
}

TEST(Tokenizer, PiecesAreIsolated) {
  const Tokenizer& t = deepseek();
  const auto cat = [](Ids a, const Ids& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  EXPECT_EQ(t.encode("1234567", false), cat(cat(t.encode("123", false), t.encode("456", false)), t.encode("7", false)));
  EXPECT_EQ(t.encode("abc你好def", false), cat(cat(t.encode("abc", false), t.encode("你好", false)), t.encode("def", false)));
}

TEST(Tokenizer, BosRule) {
  const Tokenizer& t = deepseek();
  for (const char* s : {"", "Hello", "<｜begin▁of▁sentence｜>x", " 123 "}) {
    Ids expected = {0};
    const Ids plain = t.encode(s, false);
    expected.insert(expected.end(), plain.begin(), plain.end());
    EXPECT_EQ(t.encode(s, true), expected) << s;
  }
}

TEST(Tokenizer, InvalidUtf8InputIsReplaced) {
  const Tokenizer& t = deepseek();
  EXPECT_EQ(t.encode("a\xff" "b\xe4\xbd", false), t.encode("a\ufffdb\ufffd", false));
}

int32_t byte_token(const Tokenizer& t, uint8_t b) {
  return *t.token_to_id(byte_level::encode(std::string(1, char(b))));
}

TEST(Tokenizer, DecodeReplacesIllFormedUtf8) {
  const Tokenizer& t = deepseek();
  const auto ids = [&](std::initializer_list<uint8_t> bytes) {
    Ids v;
    for (uint8_t b : bytes) v.push_back(byte_token(t, b));
    return v;
  };
  EXPECT_EQ(t.decode(ids({0xe4, 0xbd, 0xa0}), false), "你");
  EXPECT_EQ(t.decode(ids({0xe4, 0xbd}), false), "\ufffd");           // one maximal subpart
  EXPECT_EQ(t.decode(ids({0xe4, 0x41}), false), "\ufffdA");
  EXPECT_EQ(t.decode(ids({0xc0, 0x80, 0x41}), false), "\ufffd\ufffdA");  // overlong: two
  EXPECT_EQ(t.decode(ids({0xed, 0xa0, 0x80}), false), "\ufffd\ufffd\ufffd");  // a surrogate
  EXPECT_EQ(t.decode(ids({0xf0, 0x9f, 0x98}), false), "\ufffd");
}

TEST(Tokenizer, DecodeSpecialAndUnknownIds) {
  const Tokenizer& t = deepseek();
  const Ids ids = {0, 19923, -5, 128815, 1 << 30, 128803, 14, 128814, 1};
  EXPECT_EQ(t.decode(ids, false), "<｜begin▁of▁sentence｜>Hello<｜User｜>,<｜tool▁sep｜><｜end▁of▁sentence｜>");
  // <｜User｜> and <｜tool▁sep｜> are added tokens but not special: kept.
  EXPECT_EQ(t.decode(ids, true), "Hello<｜User｜>,<｜tool▁sep｜>");
}

TEST(Tokenizer, RoundTrip) {
  const Tokenizer& t = deepseek();
  for (const char* s : {"Hello, world!", "  多语言 テキスト 🏳️‍🌈\r\n\t", "x\u180e\u0085\ufeff", "<｜User｜> 1️⃣"})
    EXPECT_EQ(t.decode(t.encode(s, true), false), std::string("<｜begin▁of▁sentence｜>") + s);
}

TEST(Tokenizer, ConcurrentEncode) {
  const Tokenizer& t = deepseek();
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) texts.push_back(fmt::format("word{} 数字{} {}", i * 7919, i, std::string(i % 13, ' ')));
  std::vector<Ids> expected;
  for (const auto& s : texts) expected.push_back(t.encode(s, false));
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&, k] {
      for (int rep = 0; rep < 5; ++rep)
        for (size_t i = 0; i < texts.size(); ++i) failures[k] += t.encode(texts[(i + k * 31) % texts.size()], false) != expected[(i + k * 31) % texts.size()];
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

// The O(n^2) rank-array path and the heap path merge in the same order.
TEST(Bpe, QuadraticAndHeapPathsAgree) {
  std::ifstream in(std::string(MINKE_TOKENIZER_DIR) + "/tokenizer.json");
  std::stringstream ss;
  ss << in.rdbuf();
  const auto j = nlohmann::json::parse(ss.str());
  Vocab vocab;
  for (const auto& [k, v] : j["model"]["vocab"].items()) vocab.emplace(k, v.get<int32_t>());
  std::vector<std::pair<std::string, std::string>> merges;
  for (const auto& m : j["model"]["merges"]) {
    const std::string s = m.get<std::string>();
    merges.emplace_back(s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1));
  }
  auto bpe = BpeModel::build(std::move(vocab), merges, {});
  ASSERT_TRUE(bpe.is_ok());
  std::mt19937 rng(7);
  const std::string alphabet[] = {"a", "b", "e", "th", "in", " ", "你", "好", "é", "\xf0\x9f\x98\x80", "1", "'"};
  for (int i = 0; i < 300; ++i) {
    std::string word;
    for (int n = 1 + int(rng() % 300); n > 0; --n) word += alphabet[rng() % std::size(alphabet)];
    Ids quadratic, heap;
    bpe->merge_word(word, quadratic, 1 << 20);
    bpe->merge_word(word, heap, 0);
    ASSERT_EQ(quadratic, heap) << word;
  }
}

TEST(OnigRegex, Translation) {
  const auto ws = onig_to_pcre2(R"(\s+(?!\S))");
  ASSERT_TRUE(ws.is_ok());
  EXPECT_EQ(ws->find("180E"), std::string::npos);
  EXPECT_NE(ws->find("\\x{85}"), std::string::npos);
  EXPECT_TRUE(onig_to_pcre2(R"([^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+)").is_ok());
  EXPECT_FALSE(onig_to_pcre2(R"(\d+)").is_ok());
  EXPECT_FALSE(onig_to_pcre2(R"([\S])").is_ok());
  EXPECT_FALSE(onig_to_pcre2(R"(\p{Han})").is_ok());
  EXPECT_TRUE(is_white_space(0x85));
  EXPECT_FALSE(is_white_space(0x180E));
  EXPECT_FALSE(is_white_space(0xFEFF));
}

// A tokenizer whose vocabulary is the 256 byte tokens (id = byte) with flagged added tokens. HF
// gives added tokens the ids after the vocabulary in file order, whatever ids the file says.
std::string tiny_tokenizer_json() {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_level::encode(std::string(1, char(b)))] = b;
  const auto added = [](int id, const char* content, bool lstrip, bool rstrip, bool single, bool normalized, bool special) {
    return nlohmann::json{{"id", id}, {"content", content}, {"single_word", single}, {"lstrip", lstrip},
                          {"rstrip", rstrip}, {"normalized", normalized}, {"special", special}};
  };
  nlohmann::json j = {
      {"added_tokens", {added(300, "<L>", true, false, false, false, true), added(301, "<R>", false, true, false, false, false),
                        added(302, "tok", false, false, true, true, false), added(303, "<N>", false, false, false, true, false),
                        added(304, "<LR>", true, true, false, false, true)}},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "Sequence"}, {"pretokenizers", {
          {{"type", "Split"}, {"pattern", {{"Regex", "\\p{N}{1,3}"}}}, {"behavior", "Isolated"}, {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}}},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}}};
  return j.dump();
}

// Ids from HF tokenizers on the same tokenizer.json.
TEST(Tokenizer, AddedTokenFlagsMatchHuggingFace) {
  auto t = Tokenizer::from_json(tiny_tokenizer_json(), R"({"tokenizer_class": "PreTrainedTokenizerFast"})");
  ASSERT_TRUE(t.is_ok()) << t.status().to_string();
  const Case cases[] = {
      {"a  <L>b", {97, 256, 98}},                          // lstrip absorbs the spaces
      {"x<R>  \t y", {120, 257, 121}},                      // rstrip absorbs all whitespace
      {"tok a tok btok tokc _tok", {258, 32, 97, 32, 258, 32, 98, 116, 111, 107, 32, 116, 111, 107, 99, 32, 95, 116, 111, 107}},
      {"a\u3000<LR>\u2028 b", {97, 260, 98}},
      {"<L><L>  <R>  <L>", {256, 256, 32, 32, 257, 256}},   // lstrip stops at the previous match
      {"1tok2", {49, 116, 111, 107, 50}},                   // single_word: digits are word chars
      {"\u00e9tok", {195, 169, 116, 111, 107}},
      {"tok\u0301", {116, 111, 107, 204, 129}},             // a combining mark is a word char
      {" <N> tok<N>tok", {32, 259, 32, 258, 259, 258}},
      {"<R> <L>", {257, 256}},
      {"\u00e9<LR>\u0085x", {195, 169, 260, 120}},
  };
  for (const Case& c : cases) EXPECT_EQ(t->encode(c.text, true), c.ids) << c.text;  // no BOS: not Llama
  EXPECT_EQ(t->decode(Ids{256, 104, 257, 105}, true), "h<R>i");
  EXPECT_EQ(t->vocab_size(), 261);
}

TEST(Tokenizer, LoadErrorsAreStatuses) {
  EXPECT_EQ(Tokenizer::from_dir("/nonexistent/minke").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Tokenizer::from_json("{not json", "{}").status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(Tokenizer::from_json("[1, 2]", "{}").status().code(), StatusCode::kCorrupt);
  EXPECT_FALSE(Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": 3}})", "{}").is_ok());
  auto j = nlohmann::json::parse(tiny_tokenizer_json());
  j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Removed";
  EXPECT_EQ(Tokenizer::from_json(j.dump(), "{}").status().code(), StatusCode::kUnsupported);
  j = nlohmann::json::parse(tiny_tokenizer_json());
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\d+";
  EXPECT_EQ(Tokenizer::from_json(j.dump(), "{}").status().code(), StatusCode::kUnsupported);
  j = nlohmann::json::parse(tiny_tokenizer_json());
  j["model"]["merges"] = {"a zz"};
  EXPECT_EQ(Tokenizer::from_json(j.dump(), "{}").status().code(), StatusCode::kCorrupt);
  j = nlohmann::json::parse(tiny_tokenizer_json());
  j["added_tokens"][0]["content"] = 5;
  EXPECT_EQ(Tokenizer::from_json(j.dump(), "{}").status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(Tokenizer::from_json(tiny_tokenizer_json(), R"({"add_bos_token": true})").status().code(), StatusCode::kCorrupt);
}

}  // namespace
}  // namespace minke
