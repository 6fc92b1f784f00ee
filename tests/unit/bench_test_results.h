// Hand-built RequestResults for the benchmark's metric and report tests: five requests over a
// 4 s run (one failed, one with a single output token), whose metrics are worked out by hand.
#pragma once

#include <string>
#include <vector>

#include "bench/request_result.h"

namespace minke::bench::test {

inline RequestResult ok(int64_t prompt, int64_t output, double start, double ttft, double latency,
                        std::vector<double> itl, std::string text = {}) {
  RequestResult r;
  r.success = true;
  r.prompt_len = prompt;
  r.output_tokens = output;
  r.start = start;
  r.ttft = ttft;
  r.latency = latency;
  r.itl = std::move(itl);
  r.generated_text = std::move(text);
  return r;
}

inline RequestResult failed(int64_t prompt, double start, std::string error) {
  RequestResult r;
  r.prompt_len = prompt;
  r.start = start;
  r.error = std::move(error);
  return r;
}

inline std::vector<RequestResult> scenario() {
  return {ok(10, 4, 0.0, 0.5, 2.0, {0.5, 0.5, 0.5}, "a b c d"), ok(20, 1, 0.25, 0.25, 0.25, {}, "x"),
          failed(30, 0.5, "HTTP 500: boom"), ok(30, 3, 1.0, 1.0, 3.0, {1.0, 1.0}, "p q r"),
          ok(40, 5, 1.5, 0.75, 1.75, {0.25, 0.25, 0.25, 0.25}, "v w x y z")};
}

}  // namespace minke::bench::test
