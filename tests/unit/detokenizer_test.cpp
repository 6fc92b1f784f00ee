// IncrementalDetokenizer: for any id sequence (random ids make broken UTF-8 on purpose), the
// pieces concatenate to Tokenizer::decode and each piece is valid UTF-8.
#include <gtest/gtest.h>

#include <random>

#include "tokenizer/detokenizer.h"
#include "tokenizer/tokenizer.h"
#include "core/utf8.h"

namespace minke {
namespace {

class DetokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto t = Tokenizer::from_dir(MINKE_TOKENIZER_DIR);
    ASSERT_TRUE(t.is_ok()) << t.status().to_string();
    tok_ = new Tokenizer(std::move(t).value());
  }
  static void TearDownTestSuite() { delete tok_; }

  void check_stream(const std::vector<int32_t>& ids, bool skip) {
    IncrementalDetokenizer d(*tok_, skip);
    std::string all;
    for (const int32_t id : ids) {
      const std::string piece = d.add(id);
      ASSERT_TRUE(utf8::is_valid(piece));
      all += piece;
    }
    const std::string tail = d.finish();
    ASSERT_TRUE(utf8::is_valid(tail));
    all += tail;
    ASSERT_EQ(all, tok_->decode(ids, skip));
  }
  static Tokenizer* tok_;
};
Tokenizer* DetokenizerTest::tok_ = nullptr;

TEST_F(DetokenizerTest, RandomIdsMatchDecode) {
  std::mt19937 rng(123);
  for (int seq = 0; seq < 300; ++seq) {
    std::vector<int32_t> ids;
    for (int n = int(rng() % 64); n > 0; --n) {
      switch (rng() % 4) {
        case 0: ids.push_back(int32_t(rng() % 128815)); break;  // any token, specials included
        case 1: ids.push_back(int32_t(3 + rng() % 256)); break;  // single bytes: broken UTF-8
        case 2: ids.push_back(int32_t(rng() % 130000) - 100); break;  // unknown ids too
        default: ids.push_back(int32_t(rng() % 1000));
      }
    }
    check_stream(ids, false);
    check_stream(ids, true);
  }
}

TEST_F(DetokenizerTest, EncodedTextStreamsBack) {
  for (const char* s : {"Hello 世界 🏳️‍🌈 👨‍👩‍👧‍👦", "<｜User｜>你好<｜Assistant｜>ok", "naïve café 1️⃣"}) {
    const auto ids = tok_->encode(s, true);
    check_stream(ids, false);
    IncrementalDetokenizer d(*tok_, true);
    std::string text;
    for (const int32_t id : ids) text += d.add(id);
    text += d.finish();
    EXPECT_EQ(text, tok_->decode(ids, true));
  }
}

TEST_F(DetokenizerTest, HoldsPartialCharacters) {
  const auto byte_id = [&](uint8_t b) {
    for (int32_t id = 0; id < 300; ++id)
      if (tok_->token_bytes(id) == std::string(1, char(b))) return id;
    return -1;
  };
  IncrementalDetokenizer d(*tok_, false);
  EXPECT_EQ(d.add(byte_id(0xe4)), "");
  EXPECT_EQ(d.add(byte_id(0xbd)), "");
  EXPECT_EQ(d.add(byte_id(0xa0)), "你");
  EXPECT_EQ(d.add(byte_id(0xf0)), "");
  EXPECT_EQ(d.add(byte_id(0x41)), "\ufffdA");  // can never complete: replaced at once
  EXPECT_EQ(d.add(byte_id(0xe4)), "");
  EXPECT_EQ(d.finish(), "\ufffd");
  EXPECT_EQ(d.finish(), "");
}

}  // namespace
}  // namespace minke
