// The image models' inputs: PNG decoding and ImageNet preprocessing, on
// photographs written here.
#include <doctest/doctest.h>
#include <png.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "perf/workloads/photo_input.h"

namespace rrto::perf {
namespace {

struct TempDir {
  TempDir() {
    char name[] = "/tmp/rrto-photo-XXXXXX";
    REQUIRE(mkdtemp(name) != nullptr);
    path = name;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

// A `width` x `height` RGB picture: left half one colour, right half another.
void write_png(const std::string& path, uint32_t width, uint32_t height, const uint8_t left[3], const uint8_t right[3]) {
  std::vector<uint8_t> rgb(size_t{width} * height * 3);
  for (uint32_t y = 0; y < height; ++y)
    for (uint32_t x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) rgb[(size_t{y} * width + x) * 3 + c] = x < width / 2 ? left[c] : right[c];
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = width;
  image.height = height;
  image.format = PNG_FORMAT_RGB;
  REQUIRE(png_image_write_to_file(&image, path.c_str(), 0, rgb.data(), 0, nullptr));
}

float normalised(uint8_t v, int channel) {
  constexpr float mean[3] = {0.485f, 0.456f, 0.406f}, sd[3] = {0.229f, 0.224f, 0.225f};
  return (v / 255.0f - mean[channel]) / sd[channel];
}

}  // namespace

TEST_CASE("a photograph becomes a normalised, centre-cropped, planar tensor") {
  TempDir dir;
  const uint8_t red[3] = {200, 10, 30}, blue[3] = {5, 60, 250};
  write_png(dir.path + "/wide.png", 640, 320, red, blue);
  RgbImage image;
  std::string error;
  REQUIRE_MESSAGE(load_png(dir.path + "/wide.png", image, error), error);
  CHECK(image.width == 640);
  CHECK(image.height == 320);

  const std::vector<float> t = imagenet_tensor(image, 224);
  REQUIRE(t.size() == 3u * 224 * 224);
  // Resized to 512 x 256 and cropped in the middle: the left half of the
  // crop is red, the right half blue (the seam blends), channel by channel.
  for (int c = 0; c < 3; ++c) {
    const float* plane = t.data() + size_t{static_cast<size_t>(c)} * 224 * 224;
    CHECK(plane[100 * 224 + 10] == doctest::Approx(normalised(red[c], c)));
    CHECK(plane[100 * 224 + 213] == doctest::Approx(normalised(blue[c], c)));
  }
}

TEST_CASE("inputs cycle through the photographs, only for square RGB inputs") {
  TempDir dir;
  const uint8_t grey[3] = {128, 128, 128}, white[3] = {255, 255, 255};
  write_png(dir.path + "/a.png", 64, 64, grey, grey);
  write_png(dir.path + "/b.png", 64, 64, white, white);
  PhotoInputs photos;
  std::string note;
  REQUIRE_MESSAGE(photos.load(dir.path, note), note);
  REQUIRE(photos.size() == 2);
  CHECK(photos.name(0) == "a.png");

  std::vector<float> first, second, third;
  REQUIRE(photos.fill(0, first, 3 * 32 * 32));
  REQUIRE(photos.fill(1, second, 3 * 32 * 32));
  REQUIRE(photos.fill(2, third, 3 * 32 * 32));
  CHECK(first.size() == 3u * 32 * 32);
  CHECK(first[0] == doctest::Approx(normalised(128, 0)));
  CHECK(second[0] == doctest::Approx(normalised(255, 0)));
  CHECK(third == first);
  std::vector<float> tokens;
  CHECK_FALSE(photos.fill(0, tokens, 512));  // not 3 x side x side
}

TEST_CASE("a folder without photographs, or with a broken one, gives none and says why") {
  TempDir dir;
  PhotoInputs photos;
  std::string note;
  CHECK_FALSE(photos.load(dir.path, note));
  CHECK(note.find("no photographs") != std::string::npos);
  std::ofstream(dir.path + "/broken.png") << "not a png";
  CHECK_FALSE(photos.load(dir.path, note));
  CHECK(note.find("broken.png") != std::string::npos);
  CHECK(photos.empty());
}

}  // namespace rrto::perf
