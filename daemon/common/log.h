// Logging to stderr with sd-daemon priority prefixes ("<3>", "<6>", ...) so that journald keeps
// the severity when vsgated runs under systemd, and a human still reads plain lines on a terminal.
#pragma once

#include <optional>
#include <string_view>

namespace vsgate {

enum class LogLevel { error = 3, warning = 4, info = 6, debug = 7 };

std::optional<LogLevel> parse_log_level(std::string_view text);
std::string_view log_level_name(LogLevel level);
void set_log_level(LogLevel level);
LogLevel log_level();
bool log_enabled(LogLevel level);
void log_message(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace vsgate

#define VSG_LOG(level, ...)                                          \
  do {                                                               \
    if (::vsgate::log_enabled(::vsgate::LogLevel::level))            \
      ::vsgate::log_message(::vsgate::LogLevel::level, __VA_ARGS__); \
  } while (0)
