#include "perf/workloads/photo_input.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

namespace rrto::perf {
namespace {

constexpr float kMean[3] = {0.485f, 0.456f, 0.406f};
constexpr float kStd[3] = {0.229f, 0.224f, 0.225f};

// Bilinear resampling of 8-bit RGB, rounded back to 8 bits (as image
// libraries resize before a tensor is made).
RgbImage resize(const RgbImage& in, uint32_t width, uint32_t height) {
  RgbImage out{width, height, std::vector<uint8_t>(size_t{width} * height * 3)};
  const float sx = static_cast<float>(in.width) / width, sy = static_cast<float>(in.height) / height;
  for (uint32_t y = 0; y < height; ++y) {
    const float fy = std::clamp((y + 0.5f) * sy - 0.5f, 0.0f, static_cast<float>(in.height - 1));
    const uint32_t y0 = static_cast<uint32_t>(fy), y1 = std::min(y0 + 1, in.height - 1);
    const float wy = fy - y0;
    for (uint32_t x = 0; x < width; ++x) {
      const float fx = std::clamp((x + 0.5f) * sx - 0.5f, 0.0f, static_cast<float>(in.width - 1));
      const uint32_t x0 = static_cast<uint32_t>(fx), x1 = std::min(x0 + 1, in.width - 1);
      const float wx = fx - x0;
      for (int c = 0; c < 3; ++c) {
        auto at = [&](uint32_t xx, uint32_t yy) { return static_cast<float>(in.rgb[(size_t{yy} * in.width + xx) * 3 + c]); };
        const float top = at(x0, y0) * (1 - wx) + at(x1, y0) * wx;
        const float bottom = at(x0, y1) * (1 - wx) + at(x1, y1) * wx;
        out.rgb[(size_t{y} * width + x) * 3 + c] = static_cast<uint8_t>(std::lround(top * (1 - wy) + bottom * wy));
      }
    }
  }
  return out;
}

}  // namespace

bool load_png(const std::string& path, RgbImage& out, std::string& error) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str())) {
    error = image.message;
    return false;
  }
  image.format = PNG_FORMAT_RGB;
  out.width = image.width;
  out.height = image.height;
  out.rgb.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.rgb.data(), 0, nullptr)) {
    error = image.message;
    png_image_free(&image);
    return false;
  }
  return true;
}

std::vector<float> imagenet_tensor(const RgbImage& image, uint32_t side) {
  // The shorter side becomes 256 for a 224 crop (and in proportion for other sizes).
  const double scale = std::round(side * 256.0 / 224.0) / std::min(image.width, image.height);
  const auto width = std::max<uint32_t>(side, static_cast<uint32_t>(std::lround(image.width * scale)));
  const auto height = std::max<uint32_t>(side, static_cast<uint32_t>(std::lround(image.height * scale)));
  const RgbImage resized = resize(image, width, height);
  const uint32_t left = (width - side) / 2, top = (height - side) / 2;
  std::vector<float> out(size_t{3} * side * side);
  for (int c = 0; c < 3; ++c)
    for (uint32_t y = 0; y < side; ++y)
      for (uint32_t x = 0; x < side; ++x) {
        const uint8_t v = resized.rgb[(size_t{top + y} * width + left + x) * 3 + c];
        out[(size_t{static_cast<uint32_t>(c)} * side + y) * side + x] = (v / 255.0f - kMean[c]) / kStd[c];
      }
  return out;
}

bool PhotoInputs::load(const std::string& dir, std::string& note) {
  std::vector<std::string> paths;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.path().extension() == ".png") paths.push_back(entry.path().string());
  std::sort(paths.begin(), paths.end());
  for (const std::string& path : paths) {
    RgbImage image;
    std::string error;
    if (!load_png(path, image, error)) {
      note = path + ": " + error;
      photos_.clear();
      names_.clear();
      return false;
    }
    photos_.push_back(std::move(image));
    names_.push_back(std::filesystem::path(path).filename().string());
  }
  if (photos_.empty()) note = "no photographs in " + dir + " (scripts/lib/setup.sh puts them there)";
  return !photos_.empty();
}

bool PhotoInputs::fill(uint64_t iteration, std::vector<float>& out, size_t floats) {
  const auto side = static_cast<uint32_t>(std::lround(std::sqrt(floats / 3.0)));
  if (photos_.empty() || floats < 3 || size_t{3} * side * side != floats) return false;
  if (side != tensor_side_) {  // preprocessed once per photograph
    tensors_.clear();
    for (const RgbImage& photo : photos_) tensors_.push_back(imagenet_tensor(photo, side));
    tensor_side_ = side;
  }
  const std::vector<float>& tensor = tensors_[iteration % tensors_.size()];
  out.assign(tensor.begin(), tensor.end());
  return true;
}

std::string default_photo_dir() {
  if (const char* dir = std::getenv("RRTO_PERF_PHOTOS"); dir && *dir) return dir;
  return RRTO_PERF_PHOTOS_DIR;
}

}  // namespace rrto::perf
