// Camera-like inputs for the image models: real photographs, preprocessed as
// ImageNet models expect them (shorter side resized to 256/224 of the input
// size, centre crop, RGB planes, each channel scaled to [0, 1] and normalised
// with ImageNet's mean and standard deviation). Random floats would make no
// compressor look useful and no camera produces them.
//
// The photographs are scikit-image's sample images (Debian's python3-skimage
// ships them; scripts/lib/setup.sh copies a few into the build folder).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rrto::perf {

struct RgbImage {
  uint32_t width = 0, height = 0;
  std::vector<uint8_t> rgb;  // row by row, 3 bytes a pixel
};

// Reads an 8-bit PNG (RGB, RGBA, grey or palette); false with `error` set otherwise.
bool load_png(const std::string& path, RgbImage& out, std::string& error);

// `image` preprocessed into `side` x `side` x 3 floats, planar (NCHW, batch 1).
std::vector<float> imagenet_tensor(const RgbImage& image, uint32_t side);

// The photographs a workload's inputs come from: the PNGs in `dir`
// (RRTO_PERF_PHOTOS, or the build's perf-photos folder), in name order.
class PhotoInputs {
 public:
  // False (and no photographs) when the folder has none; `note` says why.
  bool load(const std::string& dir, std::string& note);
  bool empty() const { return photos_.empty(); }
  size_t size() const { return photos_.size(); }
  const std::string& name(size_t i) const { return names_[i]; }

  // The input of an iteration: photograph `iteration` mod their number, as
  // a float tensor of `floats` values, when that is a square RGB image
  // (3 x side x side); false otherwise (not an image input).
  bool fill(uint64_t iteration, std::vector<float>& out, size_t floats);

 private:
  std::vector<RgbImage> photos_;
  std::vector<std::string> names_;
  std::vector<std::vector<float>> tensors_;  // of each photograph, at tensor_side_
  uint32_t tensor_side_ = 0;
};

// Where the build keeps its photographs (RRTO_PERF_PHOTOS overrides).
std::string default_photo_dir();

}  // namespace rrto::perf
