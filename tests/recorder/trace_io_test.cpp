#include <doctest/doctest.h>
#include <fmt/format.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "recorder/hash.h"
#include "recorder/trace_format.h"
#include "recorder/trace_reader.h"
#include "recorder/trace_writer.h"

using namespace rrto;

namespace {

std::string temp_path(const char* name) {
  return std::string(P_tmpdir) + "/rrto_" + name + "_" + std::to_string(getpid()) + ".trace";
}

std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// One op of every kind.
void fill(Trace& t) {
  const KernelParam layout[] = {{0, 8}, {8, 4}, {16, 8}};
  const KernelDef* gemm = t.kernels().intern(0xabc, "sgemm_128x64", layout);
  const KernelDef* relu = t.kernels().intern(0xabc, "relu", {});
  uint8_t args[24];
  for (int i = 0; i < 24; ++i) args[i] = static_cast<uint8_t>(i * 7);
  t.append(Op::memcpy_htod(0x7f0000, 0x550000, 602112, 1, true));
  t.append(Op::launch(*gemm, {10, 2, 1}, {256, 1, 1}, 16384, 1, args));
  t.append(Op::launch(*relu, {1, 1, 1}, {32, 1, 1}, 0, 1, {}));
  t.append(Op::memcpy_dtod(0x7f1000, 0x7f2000, 64, 1, false));
  t.append(Op::memset_d(0x7f3000, 0xff, 2, 100, 2, true));
  t.append(Op::event_record(5, 1));
  t.append(Op::stream_wait_event(2, 5, 1));
  t.append(Op::memcpy_dtoh(0x560000, 0x7f4000, 4000, 1, false));
  t.append(Op::stream_synchronize(1));
  t.append(Op::context_synchronize());
  t.append(Op::memcpy_2d(OpKind::MemcpyHtoD, 0x7f5000, 512, 0x570000, 452, 400, 37, 1, true));
  t.append(Op::memcpy_2d(OpKind::MemcpyDtoD, 0x7f6000, 1024, 0x7f5000, 512, 400, 37, 1, true));
  t.append(Op::memset_2d(0x7f6000, 1024, 0x7f, 1, 80, 10, 1, false));
  t.append(Op::memcpy_2d(OpKind::MemcpyDtoH, 0x580000, 420, 0x7f6000, 1024, 400, 37, 0, false));
}

std::string write_trace(const char* name, const Trace& t) {
  const std::string path = temp_path(name);
  TraceWriter w;
  REQUIRE(w.open(path) == Status::Ok);
  for (const Op& op : t.ops()) REQUIRE(w.write(op) == Status::Ok);
  REQUIRE(w.close() == Status::Ok);
  return path;
}

}  // namespace

TEST_CASE("trace write/read round trip") {
  Trace original;
  fill(original);
  const std::string path = write_trace("roundtrip", original);
  Trace back;
  TraceReader reader;
  REQUIRE_MESSAGE(reader.read_file(path, back) == Status::Ok, reader.error());
  REQUIRE(back.size() == original.size());
  for (size_t i = 0; i < original.size(); ++i) {
    CAPTURE(i);
    const Op& a = original[i];
    const Op& b = back[i];
    CHECK(a.kind == b.kind);
    CHECK(a.flags == b.flags);
    CHECK(a.structural_sig == b.structural_sig);
    CHECK(a.full_sig == b.full_sig);
    CHECK(a.grid == b.grid);
    CHECK(a.block == b.block);
    CHECK(a.shared_mem == b.shared_mem);
    CHECK(a.stream == b.stream);
    CHECK(a.dst == b.dst);
    CHECK(a.src == b.src);
    CHECK(a.bytes == b.bytes);
    CHECK(a.value == b.value);
    CHECK(a.elem_size == b.elem_size);
    CHECK(a.event == b.event);
    CHECK(a.rows == b.rows);
    CHECK(a.dst_pitch == b.dst_pitch);
    CHECK(a.src_pitch == b.src_pitch);
    REQUIRE(a.args_size == b.args_size);
    CHECK(std::equal(a.args, a.args + a.args_size, b.args));
    if (a.kernel) {
      REQUIRE(b.kernel);
      CHECK(a.kernel->name == b.kernel->name);
      CHECK(a.kernel->module_hash == b.kernel->module_hash);
      CHECK(a.kernel->params == b.kernel->params);
    }
  }
  std::remove(path.c_str());
}

TEST_CASE("an empty trace round-trips") {
  Trace empty;
  const std::string path = write_trace("empty", empty);
  Trace back;
  TraceReader reader;
  CHECK(reader.read_file(path, back) == Status::Ok);
  CHECK(back.size() == 0);
  std::remove(path.c_str());
}

TEST_CASE("every truncation of a trace is rejected with an offset") {
  Trace original;
  fill(original);
  const std::string path = write_trace("truncated", original);
  const std::vector<uint8_t> bytes = slurp(path);
  std::remove(path.c_str());
  for (size_t n = 0; n < bytes.size(); ++n) {
    CAPTURE(n);
    Trace back;
    TraceReader reader;
    REQUIRE(reader.read_bytes(std::span(bytes).first(n), back) == Status::ProtocolError);
    CHECK(reader.error().find("offset ") == 0);
  }
}

TEST_CASE("every single-byte corruption of a trace is rejected") {
  Trace original;
  fill(original);
  const std::string path = write_trace("corrupt", original);
  const std::vector<uint8_t> bytes = slurp(path);
  std::remove(path.c_str());
  for (size_t i = 0; i < bytes.size(); ++i) {
    CAPTURE(i);
    std::vector<uint8_t> bad = bytes;
    bad[i] ^= 0x41;
    Trace back;
    TraceReader reader;
    CHECK(reader.read_bytes(bad, back) == Status::ProtocolError);
    CHECK_FALSE(reader.error().empty());
  }
}

TEST_CASE("trace errors say what was wrong") {
  Trace original;
  fill(original);
  const std::string path = write_trace("messages", original);
  const std::vector<uint8_t> bytes = slurp(path);
  std::remove(path.c_str());
  TraceReader reader;
  Trace back;

  SUBCASE("bad magic") {
    std::vector<uint8_t> bad = bytes;
    bad[0] = 'X';
    CHECK(reader.read_bytes(bad, back) == Status::ProtocolError);
    CHECK(reader.error() == "offset 0: not an RRTO trace (bad magic)");
  }
  SUBCASE("newer version") {
    std::vector<uint8_t> bad = bytes;
    bad[8] = static_cast<uint8_t>(trace_format::kVersion + 1);
    CHECK(reader.read_bytes(bad, back) == Status::ProtocolError);
    CHECK(reader.error().find(fmt::format("unsupported trace version {}", trace_format::kVersion + 1)) !=
          std::string::npos);
  }
  SUBCASE("payload corrupted") {
    std::vector<uint8_t> bad = bytes;
    bad[40] ^= 1;
    CHECK(reader.read_bytes(bad, back) == Status::ProtocolError);
    CHECK(reader.error().find("checksum mismatch") != std::string::npos);
  }
  SUBCASE("cut in the middle") {
    CHECK(reader.read_bytes(std::span(bytes).first(bytes.size() - 30), back) == Status::ProtocolError);
    CHECK(reader.error().find("truncated") != std::string::npos);
  }
  SUBCASE("end record missing") {
    CHECK(reader.read_bytes(std::span(bytes).first(bytes.size() - 21), back) == Status::ProtocolError);
    CHECK(reader.error().find("without an end record") != std::string::npos);
  }
  SUBCASE("data after the end") {
    std::vector<uint8_t> bad = bytes;
    bad.push_back(0);
    CHECK(reader.read_bytes(bad, back) == Status::ProtocolError);
    CHECK(reader.error().find("after the end record") != std::string::npos);
  }
  SUBCASE("missing file") {
    CHECK(reader.read_file("/nonexistent/rrto.trace", back) == Status::IoError);
    CHECK(reader.error().find("/nonexistent/rrto.trace") == 0);
  }
}

TEST_CASE("the writer refuses what the reader could not read back") {
  TraceWriter w;
  const std::string path = temp_path("refuse");
  REQUIRE(w.open(path) == Status::Ok);
  Op bad;
  bad.kind = OpKind::KernelLaunch;  // no kernel
  CHECK(w.write(bad) == Status::InvalidArgument);
  CHECK_FALSE(w.error().empty());
  // The failure sticks: nothing half-written is passed off as a trace.
  CHECK(w.write(Op::context_synchronize()) == Status::InvalidArgument);
  w.close();
  Trace back;
  TraceReader reader;
  CHECK(reader.read_file(path, back) != Status::Ok);
  std::remove(path.c_str());
  CHECK(w.open("/nonexistent/dir/x.trace") != Status::Ok);
}

TEST_CASE("ops from two kernel tables cannot share a trace") {
  KernelTable t1, t2;
  const KernelDef* a = t1.intern(1, "a", {});
  const KernelDef* b = t2.intern(2, "b", {});
  REQUIRE(a->id == b->id);
  TraceWriter w;
  const std::string path = temp_path("tables");
  REQUIRE(w.open(path) == Status::Ok);
  CHECK(w.write(Op::launch(*a, {}, {}, 0, 0, {})) == Status::Ok);
  CHECK(w.write(Op::launch(*b, {}, {}, 0, 0, {})) == Status::InvalidArgument);
  w.close();
  std::remove(path.c_str());
}

TEST_CASE("records with valid checksums but nonsense payloads are rejected, never crashed on") {
  // The checksum stops random damage; this reaches the payload decoders.
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  size_t accepted = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> bytes(trace_format::kMagic, trace_format::kMagic + 8);
    const uint32_t version = trace_format::kVersion, reserved = 0;
    bytes.insert(bytes.end(), reinterpret_cast<const uint8_t*>(&version), reinterpret_cast<const uint8_t*>(&version) + 4);
    bytes.insert(bytes.end(), reinterpret_cast<const uint8_t*>(&reserved), reinterpret_cast<const uint8_t*>(&reserved) + 4);
    const int records = 1 + static_cast<int>(next() % 4);
    for (int r = 0; r < records; ++r) {
      const uint8_t tag = static_cast<uint8_t>(1 + next() % 3);
      std::vector<uint8_t> payload(next() % 64);
      for (uint8_t& b : payload) b = static_cast<uint8_t>(next() % 4 == 0 ? next() : 0);
      if (!payload.empty() && tag == trace_format::kTagOp) payload[0] = static_cast<uint8_t>(next() % 10);
      const uint32_t length = static_cast<uint32_t>(payload.size());
      const uint32_t check = static_cast<uint32_t>(hash_bytes(payload.data(), payload.size(), kHashSeed ^ tag));
      bytes.push_back(tag);
      bytes.insert(bytes.end(), reinterpret_cast<const uint8_t*>(&length), reinterpret_cast<const uint8_t*>(&length) + 4);
      bytes.insert(bytes.end(), payload.begin(), payload.end());
      bytes.insert(bytes.end(), reinterpret_cast<const uint8_t*>(&check), reinterpret_cast<const uint8_t*>(&check) + 4);
    }
    Trace back;
    TraceReader reader;
    const Status s = reader.read_bytes(bytes, back);
    if (s == Status::Ok) {
      ++accepted;
    } else {
      CHECK(s == Status::ProtocolError);
      CHECK(reader.error().find("offset ") == 0);
    }
  }
  CHECK(accepted < 3000);
}
