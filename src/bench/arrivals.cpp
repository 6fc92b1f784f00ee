// arrival_times: cumulative gamma(shape = burstiness, scale = 1 / (rate * burstiness)) gaps.
#include "bench/arrivals.h"

#include <cmath>
#include <random>

namespace minke::bench {

Result<std::vector<double>> arrival_times(int64_t n, const ArrivalOptions& o) {
  if (n < 0) return invalid_argument("the number of requests must be >= 0, got {}", n);
  if (!(o.burstiness > 0) || !std::isfinite(o.burstiness))
    return invalid_argument("--burstiness must be a positive number, got {}", o.burstiness);
  std::vector<double> times(size_t(n), 0.0);
  if (!(o.request_rate > 0) || std::isinf(o.request_rate)) return times;
  std::mt19937_64 rng(o.seed);
  std::gamma_distribution<double> gap(o.burstiness, 1.0 / (o.request_rate * o.burstiness));
  double t = 0;
  for (int64_t i = 0; i < n; ++i) {
    times[size_t(i)] = t;  // the first request goes at once, as in vLLM
    t += gap(rng);
  }
  return times;
}

}  // namespace minke::bench
