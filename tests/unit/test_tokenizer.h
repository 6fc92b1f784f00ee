// The real DeepSeek-V3 tokenizer (MINKE_TOKENIZER_DIR), loaded once per test binary.
#pragma once

#include <gtest/gtest.h>

#include "tokenizer/tokenizer.h"

namespace minke::test {

inline const Tokenizer& deepseek_tokenizer() {
  static const Tokenizer* tok = [] {
    auto t = Tokenizer::from_dir(MINKE_TOKENIZER_DIR);
    EXPECT_TRUE(t.is_ok()) << t.status().to_string();
    return new Tokenizer(std::move(t).value());
  }();
  return *tok;
}

}  // namespace minke::test
