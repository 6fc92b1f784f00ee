// Philox4x32-10 (Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3", SC'11;
// the Random123 / curand generator): a counter-based RNG, so a draw depends only on
// (key, counter), never on what else ran. Host and device, for known-answer tests.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace minke::cuda {

struct Philox4 {
  uint32_t v[4];
};

__host__ __device__ inline Philox4 philox4x32_10(Philox4 ctr, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // multipliers
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // Weyl key increments
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    const uint64_t p0 = uint64_t(kM0) * ctr.v[0];
    const uint64_t p1 = uint64_t(kM1) * ctr.v[2];
    ctr = Philox4{{uint32_t(p1 >> 32) ^ ctr.v[1] ^ k0, uint32_t(p1), uint32_t(p0 >> 32) ^ ctr.v[3] ^ k1,
                   uint32_t(p0)}};
  }
  return ctr;
}

// 64 random bits for draw number `counter` of the stream `seed`.
__host__ __device__ inline uint64_t philox_u64(uint64_t seed, uint64_t counter) {
  const Philox4 out =
      philox4x32_10(Philox4{{uint32_t(counter), uint32_t(counter >> 32), 0u, 0u}}, uint32_t(seed),
                    uint32_t(seed >> 32));
  return (uint64_t(out.v[0]) << 32) | out.v[1];
}

}  // namespace minke::cuda
