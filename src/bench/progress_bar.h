// A tqdm-style progress bar on stderr ("  37%|###7      | 6/16 [00:01<00:02,  4.80it/s]"),
// redrawn at most 10 times a second; silent when disabled.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace minke::bench {

class ProgressBar {
 public:
  ProgressBar(int64_t total, bool enabled);
  void update(int64_t done);  // from one thread
  void finish();              // the last redraw and a newline

  // The line for `done` of `total` after `elapsed_s` seconds (exposed for tests).
  static std::string render(int64_t done, int64_t total, double elapsed_s);

 private:
  int64_t total_;
  bool enabled_;
  int64_t done_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace minke::bench
