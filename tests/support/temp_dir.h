// A fresh directory under $TMPDIR (or /tmp) that is removed, with everything
// in it, when the object goes away. For files a test hands to a child
// process: a public folder, a payload for `sigctl send --file`.
#ifndef SIGD_TESTS_SUPPORT_TEMP_DIR_H_
#define SIGD_TESTS_SUPPORT_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace sigd::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
        "/sigd-test-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }

  // Empty if the directory could not be created.
  const std::filesystem::path& path() const { return path_; }

  // Writes `content` to `name` inside the directory and returns its path.
  std::filesystem::path WriteFile(const std::string& name,
                                  std::string_view content) const {
    std::filesystem::path file = path_ / name;
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    return file;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace sigd::testing

#endif  // SIGD_TESTS_SUPPORT_TEMP_DIR_H_
