// A stream with no structure: every op's kind, kernel, geometry and sizes are
// drawn at random, so no sequence of it repeats (the negative case for the
// matcher). Transfers in both directions are included so that the matcher
// sees plenty of candidate boundaries.
#include <cstring>
#include <string>

#include "tracegen/rng.h"
#include "tracegen/tracegen.h"

namespace rrto::tracegen {

void generate_random(uint64_t ops, uint64_t seed, Trace& out) {
  Rng rng(seed);
  constexpr KernelParam kLayout[] = {{0, 8}, {8, 8}, {16, 4}};
  std::vector<const KernelDef*> kernels;
  for (int i = 0; i < 64; ++i) {
    kernels.push_back(out.kernels().intern(0x7a4d0e000000ull, "random_kernel_" + std::to_string(i), kLayout));
  }
  const auto device = [&] { return 0x7f0000000000ull + (rng.below(1u << 30) << 8); };
  const auto host = [&] { return 0x560000000000ull + (rng.below(1u << 30) << 4); };
  out.reserve(out.size() + ops);
  for (uint64_t i = 0; i < ops; ++i) {
    const uint64_t pick = rng.below(100);
    const uint64_t stream = rng.below(3);
    const uint64_t bytes = 1 + rng.below(1u << 24);
    if (pick < 55) {
      uint8_t args[20];
      const uint64_t a = device(), b = device();
      const auto n = static_cast<uint32_t>(rng.next());
      std::memcpy(args, &a, 8);
      std::memcpy(args + 8, &b, 8);
      std::memcpy(args + 16, &n, 4);
      const Dim3 grid{static_cast<uint32_t>(1 + rng.below(65536)), static_cast<uint32_t>(1 + rng.below(4)), 1};
      const Dim3 block{static_cast<uint32_t>(32 * (1 + rng.below(32))), 1, 1};
      out.append(Op::launch(*kernels[rng.below(kernels.size())], grid, block,
                            static_cast<uint32_t>(rng.below(49152)), stream, args));
    } else if (pick < 70) {
      out.append(Op::memcpy_htod(device(), host(), bytes, stream, rng.below(2)));
    } else if (pick < 82) {
      out.append(Op::memcpy_dtoh(host(), device(), bytes, stream, rng.below(2)));
    } else if (pick < 88) {
      out.append(Op::memcpy_dtod(device(), device(), bytes, stream, rng.below(2)));
    } else if (pick < 94) {
      out.append(Op::memset_d(device(), rng.below(256), 1, bytes, stream, rng.below(2)));
    } else if (pick < 97) {
      out.append(Op::event_record(rng.below(64), stream));
    } else {
      out.append(Op::stream_synchronize(stream));
    }
  }
}

}  // namespace rrto::tracegen
