// What the serving benchmark records for one request, and the request it sent. Times are
// seconds on one steady clock, relative to the benchmark's start.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace minke::bench {

// One request of a dataset.
struct BenchRequest {
  std::string prompt;          // text (completions) or the user message (chat)
  int64_t prompt_len = 0;      // tokens, as the dataset counted them
  int64_t expected_output_len = 0;  // max_tokens to ask for
};

struct RequestResult {
  bool success = false;
  std::string error;           // why it failed (HTTP status and body, connection error, ...)
  int64_t prompt_len = 0;      // tokens
  int64_t output_tokens = 0;   // usage.completion_tokens, or the re-tokenized text as a fallback
  bool output_tokens_from_usage = false;
  double start = 0;            // when the request was sent
  double ttft = 0;             // first chunk that has choices, minus start
  double latency = 0;          // end-to-end: the last byte, minus start
  std::vector<double> itl;     // gaps between consecutive chunks that carry tokens
  std::vector<double> token_times;  // absolute time of each token-carrying chunk (peak throughput)
  std::string generated_text;
};

}  // namespace minke::bench
