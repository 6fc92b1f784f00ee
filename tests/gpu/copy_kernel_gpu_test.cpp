// cuda::copy_bytes (the bandwidth probe of `minke bench kernels`): every byte copied for sizes
// that do and do not fill the 4-loads-per-thread loop, whatever the grid; bytes past the end
// untouched; bad arguments rejected on the host.
#include <cstdint>
#include <vector>

#include "backend/cuda/copy_kernel.h"
#include "gpu_test_util.h"

namespace minke::test {
namespace {

class CopyKernelTest : public GpuTest {};

TEST_F(CopyKernelTest, CopiesEveryByteAndNothingMore) {
  std::uniform_int_distribution<int> byte(0, 255);
  for (const size_t bytes : {size_t(16), size_t(16 * 7), size_t(16 * 4096 + 48), size_t(3) << 20}) {
    for (const int blocks : {0, 1, 3}) {
      std::vector<uint8_t> host(bytes);
      for (uint8_t& b : host) b = uint8_t(byte(rng));
      DeviceBuffer<uint8_t> src(host);
      DeviceBuffer<uint8_t> dst(bytes + 32);  // poisoned 0xff, including the 32 bytes past the copy
      ASSERT_TRUE(cuda::copy_bytes({src.get(), dst.get(), bytes, blocks}, nullptr).is_ok());
      const std::vector<uint8_t> got = dst.download();
      for (size_t i = 0; i < bytes; ++i) ASSERT_EQ(got[i], host[i]) << bytes << " bytes, blocks " << blocks << ", byte " << i;
      for (size_t i = bytes; i < bytes + 32; ++i) ASSERT_EQ(got[i], 0xff) << "wrote past the end at " << i;
    }
  }
}

TEST_F(CopyKernelTest, RejectsBadArguments) {
  DeviceBuffer<uint8_t> a(256), b(256);
  EXPECT_TRUE(cuda::copy_bytes({a.get(), b.get(), 0, 0}, nullptr).is_ok());  // nothing to do
  EXPECT_EQ(cuda::copy_bytes({a.get(), b.get(), 24, 0}, nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cuda::copy_bytes({a.get() + 8, b.get(), 16, 0}, nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cuda::copy_bytes({nullptr, b.get(), 16, 0}, nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cuda::copy_bytes({a.get(), a.get() + 16, 64, 0}, nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

}  // namespace
}  // namespace minke::test
