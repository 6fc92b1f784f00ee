// Request arrival times of the serving benchmark, as vLLM draws them: with a finite
// request rate, gaps are gamma-distributed with shape = burstiness and mean 1/rate (burstiness
// 1 is a Poisson process; lower is burstier, higher is steadier); with rate inf, all at 0.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"

namespace minke::bench {

struct ArrivalOptions {
  double request_rate = 0;  // requests/s; <= 0 or inf: send everything at once
  double burstiness = 1.0;  // gamma shape; must be > 0
  uint64_t seed = 0;
};

// The send time (seconds from the start) of each of `n` requests, non-decreasing.
Result<std::vector<double>> arrival_times(int64_t n, const ArrivalOptions& options);

}  // namespace minke::bench
