#include "client-cli/stderr_log.h"

#include <unistd.h>

#include <cerrno>
#include <string>

#include "client-cli/text_util.h"

namespace sigd::cli {

void LogLine(std::string_view text) {
  const std::string line = "sigctl: " + OneLine(text) + "\n";
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report to
    done += static_cast<size_t>(n);
  }
}

}  // namespace sigd::cli
