#include "server/logging.h"

#include <chrono>
#include <memory>

#include "nlohmann/json.hpp"
#include "spdlog/formatter.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace sigd {
namespace {

// One JSON object per line: {"time":...,"level":...,"msg":...}. The message
// is escaped properly, which a pattern string cannot do.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto since_epoch = msg.time.time_since_epoch();
    const double seconds = std::chrono::duration<double>(since_epoch).count();
    nlohmann::ordered_json line = {
        {"ts", seconds},
        {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                              spdlog::level::to_string_view(msg.level).size())},
        {"msg", std::string(msg.payload.data(), msg.payload.size())},
    };
    const std::string text =
        line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

void ConfigureLogging(const config::Config& config) {
  auto logger = spdlog::stderr_color_mt("sigd");
  if (config.log_format == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  }
  logger->set_level(spdlog::level::from_str(config.log_level));
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace sigd
