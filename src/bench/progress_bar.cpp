// ProgressBar: tqdm's default layout with Unicode eighth blocks.
#include "bench/progress_bar.h"

#include <cstdio>

#include <fmt/format.h>

namespace minke::bench {
namespace {

std::string clock_text(double s) {
  const int64_t t = int64_t(s);
  return t >= 3600 ? fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60) : fmt::format("{:02}:{:02}", t / 60, t % 60);
}

}  // namespace

ProgressBar::ProgressBar(int64_t total, bool enabled)
    : total_(total), enabled_(enabled), start_(std::chrono::steady_clock::now()), last_draw_(start_) {
  if (enabled_) std::fprintf(stderr, "%s", render(0, total_, 0).c_str());
}

std::string ProgressBar::render(int64_t done, int64_t total, double elapsed_s) {
  static const char* kEighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  constexpr int kWidth = 10;
  const double frac = total > 0 ? double(done) / double(total) : 1.0;
  const int eighths = int(frac * kWidth * 8);
  std::string bar;
  for (int i = 0; i < eighths / 8; ++i) bar += "█";
  int cells = eighths / 8;
  if (cells < kWidth && eighths % 8) {
    bar += kEighths[eighths % 8];
    ++cells;
  }
  bar += std::string(size_t(kWidth - cells), ' ');
  const double rate = elapsed_s > 0 ? double(done) / elapsed_s : 0.0;
  const std::string remaining = rate > 0 ? clock_text(double(total - done) / rate) : "?";
  return fmt::format("\r{:3}%|{}| {}/{} [{}<{}, {:5.2f}it/s]", int(frac * 100), bar, done, total,
                     clock_text(elapsed_s), remaining, rate);
}

void ProgressBar::update(int64_t done) {
  done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100) && done != total_) return;
  last_draw_ = now;
  std::fprintf(stderr, "%s", render(done, total_, std::chrono::duration<double>(now - start_).count()).c_str());
}

void ProgressBar::finish() {
  if (!enabled_) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(stderr, "%s\n", render(done_, total_, elapsed).c_str());
}

}  // namespace minke::bench
