// Sets up spdlog from the settings: level, and text or JSON lines on stderr.
#ifndef SIGD_SERVER_LOGGING_H_
#define SIGD_SERVER_LOGGING_H_

#include "server/config/config.h"

namespace sigd {

void ConfigureLogging(const config::Config& config);

}  // namespace sigd

#endif  // SIGD_SERVER_LOGGING_H_
