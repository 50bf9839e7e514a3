// Writes the seed corpora of the fuzz targets: make_seeds <corpus dir>
// [<folder of nvcc-built module images>]. The images are the ones the
// module_image tests build (build/tests/module_image/images); without that
// folder only a PTX seed is written for module_image.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "protocol/batch.h"
#include "recorder/trace.h"
#include "recorder/trace_writer.h"
#include "transport/wire.h"

using namespace rrto;
namespace fs = std::filesystem;

namespace {

using Blob = std::vector<uint8_t>;

void put(Blob& out, const void* p, size_t n) {
  out.insert(out.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n);
}
template <typename T>
void put(Blob& out, T value) {
  put(out, &value, sizeof value);
}

void write(const fs::path& path, const Blob& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

struct Batch {
  proto::BatchWriter calls;
  Blob bulk;
};

// batch_decoder: u32 bulk length, metadata. session: {u32 meta length, u32
// bulk length, meta, bulk} per batch.
Blob decoder_input(const Batch& b) {
  Blob out;
  put(out, static_cast<uint32_t>(b.bulk.size()));
  put(out, b.calls.bytes().data(), b.calls.size());
  return out;
}
Blob session_input(std::initializer_list<const Batch*> batches) {
  Blob out;
  for (const Batch* b : batches) {
    put(out, static_cast<uint32_t>(b->calls.size()));
    put(out, static_cast<uint32_t>(b->bulk.size()));
    put(out, b->calls.bytes().data(), b->calls.size());
    put(out, b->bulk.data(), b->bulk.size());
  }
  return out;
}

const char kPtx[] =
    ".version 8.0\n.target sm_90\n.address_size 64\n"
    ".visible .entry _Z5scalePfi(.param .u64 _Z5scalePfi_param_0, .param .u32 _Z5scalePfi_param_1)\n{\n  ret;\n}\n";

void write_protocol_seeds(const fs::path& dir) {
  // Pointer fields below 2^32 name the session's allocations (session_fuzz.cpp).
  Batch hello, authenticate, alloc, copies, streams, module, templates;
  const Blob nonce(32, 0x11);
  hello.calls.add(proto::Hello{.client_nonce = nonce, .client_name = "seed"});
  authenticate.calls.add(proto::Authenticate{});
  alloc.calls.add(proto::MemAlloc{.size = 4096});
  const Blob payload(256, 0x5a);
  copies.bulk = payload;
  copies.calls.add(proto::MemcpyHtoD{.dst = 0, .size = payload.size(), .bulk_offset = 0});
  copies.calls.add(proto::Memset{.dst = 512, .value = 7, .element_size = 4, .count = 64});
  copies.calls.add(proto::MemcpyDtoD{.dst = 1024, .src = 0, .size = 256});
  copies.calls.add(proto::MemcpyDtoH{.src = 1024, .size = 256});
  streams.calls.add(proto::StreamCreate{.stream = 1});
  streams.calls.add(proto::EventCreate{.event = 2});
  streams.calls.add(proto::EventRecord{.event = 2, .stream = 1});
  streams.calls.add(proto::StreamWaitEvent{.stream = 1, .event = 2});
  streams.calls.add(proto::EventElapsedTime{.start = 2, .end = 2});
  streams.calls.add(proto::StreamDestroy{.stream = 1});
  streams.calls.add(proto::MemFree{.dptr = 0});
  put(module.bulk, kPtx, sizeof kPtx);
  module.calls.add(proto::ModuleLoad{.module = 3, .bulk_offset = 0, .size = sizeof kPtx});
  const Blob layout = {0, 0, 0, 0, 8, 0, 0, 0, 8, 0, 0, 0, 4, 0, 0, 0};
  module.calls.add(proto::ModuleGetFunction{.module = 3, .function = 4, .name = "_Z5scalePfi", .param_layout = layout});
  module.calls.add(proto::Launch{.function = 4, .params = proto::Bytes(payload).first(12)});
  module.calls.add(proto::ModuleUnload{.module = 3});
  proto::BatchWriter inference;
  inference.add(proto::MemcpyHtoD{.dst = 0, .size = 64});
  inference.add(proto::Memset{.dst = 64, .value = 1, .count = 64});
  inference.add(proto::MemcpyDtoH{.src = 0, .size = 128});
  templates.calls.add(proto::TemplateRegister{.tmpl = 7, .calls = inference.bytes()});
  templates.bulk.assign(64, 3);
  templates.calls.add(proto::ReplaySegment{.tmpl = 7, .first = 0, .last = 2, .input_offset = 0});

  for (auto [name, batch] : {std::pair{"hello", &hello}, {"authenticate", &authenticate}, {"alloc", &alloc}, {"copies", &copies},
                             {"streams", &streams}, {"module", &module}, {"templates", &templates}})
    write(dir / "batch_decoder" / name, decoder_input(*batch));
  write(dir / "session" / "hello", session_input({&hello, &authenticate}));
  write(dir / "session" / "copies", session_input({&hello, &authenticate, &alloc, &copies, &streams}));
  write(dir / "session" / "module", session_input({&hello, &authenticate, &alloc, &module}));
  write(dir / "session" / "templates", session_input({&hello, &authenticate, &alloc, &templates, &templates}));

  for (auto [name, meta_in_data] : {std::pair{"inline_meta", false}, {"meta_in_data", true}}) {
    const Blob meta = decoder_input(copies);
    const uint32_t flags = meta_in_data ? transport::wire::kFlagMetaInData : 0;
    const transport::WireHeader h = transport::wire::make_header(proto::kBatchRequest, meta.size(), 256, flags);
    Blob out;
    put<uint64_t>(out, 256 + (meta_in_data ? meta.size() : 0));
    put(out, &h, sizeof h);
    if (!meta_in_data) put(out, meta.data(), meta.size());
    write(dir / "wire" / name, out);
  }
}

void write_trace_seed(const fs::path& dir) {
  Trace t;
  const KernelParam layout[] = {{0, 8}, {8, 4}};
  const KernelDef* scale = t.kernels().intern(0xabc, "_Z5scalePfi", layout);
  const uint8_t args[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  t.append(Op::memcpy_htod(0x7f0000, 0x550000, 4096, 1, true));
  t.append(Op::launch(*scale, {4, 1, 1}, {256, 1, 1}, 0, 1, args));
  t.append(Op::memset_d(0x7f3000, 0xff, 2, 100, 2, true));
  t.append(Op::event_record(5, 1));
  t.append(Op::stream_wait_event(2, 5, 1));
  t.append(Op::memcpy_dtoh(0x560000, 0x7f0000, 4096, 1, false));
  t.append(Op::context_synchronize());
  fs::create_directories(dir / "trace_reader");
  TraceWriter w;
  if (!ok(w.open((dir / "trace_reader" / "ops").string()))) std::fprintf(stderr, "%s\n", w.error().c_str());
  for (const Op& op : t.ops()) (void)w.write(op);
  (void)w.close();
}

void write_module_image_seeds(const fs::path& dir, const fs::path& images) {
  Blob ptx;
  put(ptx, kPtx, sizeof kPtx);
  write(dir / "module_image" / "scale.ptx", ptx);
  if (images.empty()) return;
  for (const char* name : {"kernels.cubin", "kernels_uncompressed.fatbin", "kernels.fatbin",
                           "kernels_ptx_only.fatbin", "big_params.cubin"}) {
    std::ifstream in(images / name, std::ios::binary);
    if (!in) std::fprintf(stderr, "no %s in %s\n", name, images.c_str());
    write(dir / "module_image" / name, Blob(std::istreambuf_iterator<char>(in), {}));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_seeds <corpus dir> [<nvcc-built module images>]\n");
    return 2;
  }
  const fs::path dir = argv[1];
  write_protocol_seeds(dir);
  write_trace_seed(dir);
  write_module_image_seeds(dir, argc > 2 ? argv[2] : "");
  return 0;
}
