#include "ctrl/control_client.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <cstring>
#include <exception>
#include <thread>
#include <utility>

namespace vsgate {
namespace {

using Clock = std::chrono::steady_clock;

// Replies are bounded so that a confused peer cannot make us allocate without limit; real
// replies (even large xstats dumps) are far below this.
constexpr size_t kMaxReplyBytes = 64u << 20;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(left.count());
}

Clock::time_point deadline_after(int timeout_ms) {
  return Clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
}

std::string connect_error(const std::string& path, int err) {
  std::string hint = (err == EACCES || err == EPERM) ? " (are you root or in group vsgate?)"
                                                     : " (is vsgated running?)";
  return "cannot connect to " + path + ": " + std::strerror(err) + hint;
}

}  // namespace

Result<ControlClient> ControlClient::connect(const std::string& path, int timeout_ms) {
  try {
    sockaddr_un addr;
    std::memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
      return make_error("cannot connect to " + path + ": socket path is empty or too long");
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);

    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return make_error("cannot create socket: " + std::string(std::strerror(errno)));
    Clock::time_point deadline = deadline_after(timeout_ms);
    // A Unix connect either completes or fails at once, except EAGAIN when the server's backlog
    // is full (the daemon is busy): retry that until the deadline.
    for (;;) {
      if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) == 0) break;
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      if (err == EAGAIN) {
        return make_error("cannot connect to " + path + ": timed out (vsgated is busy)");
      }
      return make_error(connect_error(path, err));
    }
    return ControlClient(std::move(fd), path, timeout_ms);
  } catch (const std::exception& e) {
    return make_error("cannot connect to " + path + ": " + e.what());
  }
}

Error ControlClient::fail(std::string message) {
  fd_.reset();
  in_.clear();
  return make_error(std::move(message));
}

Result<std::string> ControlClient::call_raw(std::string_view request_line) {
  try {
    if (!fd_) return make_error("connection to vsgated is closed after an earlier error");
    Clock::time_point deadline = deadline_after(timeout_ms_);
    auto timed_out = [&] {
      return fail("timed out after " + std::to_string(timeout_ms_) + " ms waiting for vsgated");
    };

    std::string request(request_line);
    request.push_back('\n');
    size_t sent = 0;
    while (sent < request.size()) {
      ssize_t n = ::send(fd_.get(), request.data() + sent, request.size() - sent,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        sent += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd pfd{fd_.get(), POLLOUT, 0};
        int rc = ::poll(&pfd, 1, remaining_ms(deadline));
        if (rc == 0) return timed_out();
        if (rc < 0 && errno != EINTR) return fail(std::string("poll: ") + std::strerror(errno));
        continue;
      }
      // The daemon closed the connection (restart, idle timeout) before we sent.
      if (errno == EPIPE || errno == ECONNRESET) return fail("vsgated closed the connection");
      return fail(std::string("cannot send to vsgated: ") + std::strerror(errno));
    }

    for (;;) {
      size_t nl = in_.find('\n');
      if (nl != std::string::npos) {
        std::string line = in_.substr(0, nl);
        in_.erase(0, nl + 1);
        return line;
      }
      if (in_.size() > kMaxReplyBytes) return fail("reply from vsgated is too long");
      char buf[65536];
      ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) {
        in_.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) {
        return fail(in_.empty() ? "vsgated closed the connection"
                                : "vsgated closed the connection in the middle of a reply");
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd pfd{fd_.get(), POLLIN, 0};
        int rc = ::poll(&pfd, 1, remaining_ms(deadline));
        if (rc == 0) return timed_out();
        if (rc < 0 && errno != EINTR) return fail(std::string("poll: ") + std::strerror(errno));
        continue;
      }
      if (errno == ECONNRESET) return fail("vsgated closed the connection");
      return fail(std::string("cannot receive from vsgated: ") + std::strerror(errno));
    }
  } catch (const std::exception& e) {
    return fail(std::string("control client: ") + e.what());
  }
}

Result<Json> ControlClient::call(const std::string& cmd, const Json& args) {
  try {
    Json request = Json::object();
    request["cmd"] = cmd;
    request["args"] = args.is_null() ? Json::object() : args;
    Result<std::string> line = call_raw(dump_line(request));
    if (!line) return line.error();

    Json reply = Json::parse(*line, nullptr, /*allow_exceptions=*/false);
    if (reply.is_discarded() || !reply.is_object()) {
      return fail("malformed reply from vsgated (not a JSON object)");
    }
    auto ok = reply.find("ok");
    if (ok == reply.end() || !ok->is_boolean()) {
      return fail("malformed reply from vsgated (no boolean 'ok')");
    }
    if (!ok->get<bool>()) {
      // The connection stays usable: the daemon answered, it just said no.
      auto error = reply.find("error");
      if (error != reply.end() && error->is_string() &&
          !error->get_ref<const std::string&>().empty()) {
        return make_error(error->get<std::string>());
      }
      return make_error(cmd + " failed (vsgated gave no reason)");
    }
    auto result = reply.find("result");
    if (result == reply.end()) return fail("malformed reply from vsgated (no 'result')");
    return std::move(*result);
  } catch (const std::exception& e) {
    return fail(std::string("control client: ") + e.what());
  }
}

}  // namespace vsgate
