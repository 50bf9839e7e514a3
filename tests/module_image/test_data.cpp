#include "test_data.h"

#include <fstream>
#include <iterator>

namespace rrto::test {

std::vector<uint8_t> load_image(const std::string& name) {
#ifdef RRTO_MODULE_IMAGE_DIR
  std::ifstream f(std::string(RRTO_MODULE_IMAGE_DIR) + "/" + name, std::ios::binary);
  if (!f) return {};
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
#else
  (void)name;
  return {};
#endif
}

}  // namespace rrto::test
