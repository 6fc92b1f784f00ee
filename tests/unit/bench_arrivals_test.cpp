// arrival_times: everything at 0 for rate inf; gamma gaps with mean 1/rate whose spread
// shrinks as burstiness grows; deterministic per seed; bad burstiness is an error.
#include "bench/arrivals.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace minke::bench {
namespace {

struct GapStats {
  double mean = 0, cv = 0;  // coefficient of variation: 1/sqrt(shape) for gamma
};

GapStats gaps(const std::vector<double>& t) {
  std::vector<double> g;
  for (size_t i = 1; i < t.size(); ++i) g.push_back(t[i] - t[i - 1]);
  double mean = 0, var = 0;
  for (double x : g) mean += x;
  mean /= double(g.size());
  for (double x : g) var += (x - mean) * (x - mean);
  var /= double(g.size());
  return {mean, std::sqrt(var) / mean};
}

TEST(BenchArrivals, InfiniteRateSendsEverythingAtOnce) {
  for (double rate : {0.0, std::numeric_limits<double>::infinity()}) {
    auto t = arrival_times(5, {rate, 1.0, 1});
    ASSERT_TRUE(t.is_ok());
    EXPECT_EQ(*t, std::vector<double>(5, 0.0));
  }
}

TEST(BenchArrivals, GammaGapsHaveTheRateAndTheBurstiness) {
  for (double burstiness : {0.5, 1.0, 4.0}) {
    auto t = arrival_times(20000, {10.0, burstiness, 42});
    ASSERT_TRUE(t.is_ok());
    EXPECT_EQ((*t)[0], 0.0);
    for (size_t i = 1; i < t->size(); ++i) ASSERT_LE((*t)[i - 1], (*t)[i]);
    const GapStats s = gaps(*t);
    EXPECT_NEAR(s.mean, 0.1, 0.005) << burstiness;                    // 1 / rate
    EXPECT_NEAR(s.cv, 1.0 / std::sqrt(burstiness), 0.05) << burstiness;  // gamma shape
  }
}

TEST(BenchArrivals, SeededAndValidated) {
  EXPECT_EQ(*arrival_times(50, {5.0, 1.0, 7}), *arrival_times(50, {5.0, 1.0, 7}));
  EXPECT_NE(*arrival_times(50, {5.0, 1.0, 7}), *arrival_times(50, {5.0, 1.0, 8}));
  EXPECT_FALSE(arrival_times(5, {5.0, 0.0, 1}).is_ok());
  EXPECT_FALSE(arrival_times(5, {5.0, -1.0, 1}).is_ok());
  EXPECT_FALSE(arrival_times(-1, {5.0, 1.0, 1}).is_ok());
}

}  // namespace
}  // namespace minke::bench
