// Client side of the control socket, for vsgatectl and vsgate-snmp: a blocking connection with
// a deadline on every operation. One request at a time; not thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"
#include "ctrl/protocol.h"

namespace vsgate {

class ControlClient {
 public:
  // Connects to the daemon's socket. The error reads
  // "cannot connect to PATH: No such file or directory (is vsgated running?)".
  static Result<ControlClient> connect(const std::string& path, int timeout_ms = 5000);

  ControlClient(ControlClient&&) noexcept = default;
  ControlClient& operator=(ControlClient&&) noexcept = default;

  // Sends {"cmd": cmd, "args": args} and waits for the reply (at most the timeout). Returns the
  // reply's "result" when ok, an Error with the daemon's message when not, and an Error saying
  // what happened on timeout, EOF or a malformed reply; after those the connection is unusable
  // (the reply stream is out of step) and further calls fail at once.
  Result<Json> call(const std::string& cmd, const Json& args = Json::object());

  // Sends one raw request line (without '\n') and returns the raw reply line (without '\n').
  // For tests and debugging tools.
  Result<std::string> call_raw(std::string_view request_line);

  bool usable() const { return fd_.valid(); }
  const std::string& path() const { return path_; }
  int timeout_ms() const { return timeout_ms_; }
  void set_timeout_ms(int timeout_ms) { timeout_ms_ = timeout_ms; }

 private:
  ControlClient(UniqueFd fd, std::string path, int timeout_ms)
      : fd_(std::move(fd)), path_(std::move(path)), timeout_ms_(timeout_ms) {}

  Error fail(std::string message);  // closes the connection, returns the error

  UniqueFd fd_;
  std::string path_;
  int timeout_ms_;
  std::string in_;  // bytes received after the last reply line (none, in a well-behaved daemon)
};

}  // namespace vsgate
