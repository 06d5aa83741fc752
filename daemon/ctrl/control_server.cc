#include "ctrl/control_server.h"

#include <errno.h>
#include <grp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "common/log.h"

namespace vsgate {
namespace {

constexpr uint64_t kListenId = 0;
constexpr uint64_t kTimerId = 1;
constexpr size_t kReadChunk = 64 * 1024;
constexpr int kMaxEvents = 64;
constexpr int kMaxAcceptsPerPoll = 64;
constexpr std::chrono::milliseconds kAcceptPause{100};
// Reply buffers of large replies are released instead of kept around per idle client.
constexpr size_t kKeepBufferCapacity = 256 * 1024;

std::string errno_text(int err) { return std::strerror(err); }

bool make_address(const std::string& path, sockaddr_un& addr, socklen_t& len) {
  std::memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, path.data(), path.size());
  len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return true;
}

// mkdir -p of the socket's directory; existing components are left as they are.
Status make_parent_dirs(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return Ok{};
  std::string dir = path.substr(0, slash);
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return make_error("cannot create directory " + prefix + ": " + errno_text(errno));
    }
  }
  return Ok{};
}

// Decides what to do with an existing file at the socket path: a socket nobody answers on is a
// leftover of a crashed daemon and is removed; a live one or a non-socket is an error.
Status clear_stale_socket(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Ok{};
    return make_error("cannot stat " + path + ": " + errno_text(errno));
  }
  if (!S_ISSOCK(st.st_mode)) return make_error(path + " exists and is not a socket");

  sockaddr_un addr;
  socklen_t len;
  if (!make_address(path, addr, len)) return make_error("socket path too long: " + path);
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!probe) return make_error("cannot create socket: " + errno_text(errno));
  // Non-blocking: a live server with a full backlog answers EAGAIN instead of blocking us.
  int rc = ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), len);
  if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS) {
    return make_error("another vsgated is listening on " + path);
  }
  if (errno != ECONNREFUSED && errno != ENOENT) {
    return make_error("cannot check existing socket " + path + ": " + errno_text(errno));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return make_error("cannot remove stale socket " + path + ": " + errno_text(errno));
  }
  VSG_LOG(info, "control: removed stale socket %s", path.c_str());
  return Ok{};
}

// The group's id, or nullopt when the group does not exist (then the socket keeps our group).
Result<std::optional<gid_t>> lookup_group(const std::string& name) {
  std::vector<char> buf(16384);
  for (;;) {
    struct group grp;
    struct group* found = nullptr;
    int rc = ::getgrnam_r(name.c_str(), &grp, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0) return make_error("cannot look up group " + name + ": " + errno_text(rc));
    if (found == nullptr) return std::optional<gid_t>();
    return std::optional<gid_t>(grp.gr_gid);
  }
}

}  // namespace

struct ControlServer::Client {
  enum class Phase { idle, request, reply, waiting };

  uint64_t id = 0;
  UniqueFd fd;
  std::string in;  // received bytes; [in_pos, end) not yet handled
  size_t in_pos = 0;
  size_t scanned = 0;  // [in_pos, scanned) is known to contain no '\n'
  std::string out;     // reply bytes; [out_pos, end) not yet sent
  size_t out_pos = 0;
  Phase phase = Phase::idle;
  Clock::time_point since;      // start of the current phase; deadlines count from here
  bool eof = false;             // the peer shut down its side: finish the buffered requests, close
  bool closing = false;         // close once `out` is sent (after a too-long request)
  bool backlog = false;         // complete requests left over when the per-poll budget ran out
  uint64_t served_in_poll = 0;  // poll generation that last handled this client
  uint32_t interest = 0;        // epoll events currently registered
  uint64_t waiting = 0;         // token of the deferred reply this client waits for; 0 = none

  bool output_pending() const { return out_pos < out.size(); }
  bool input_pending() const { return in_pos < in.size(); }
};

ControlServer::ControlServer(const ControlServerOptions& options) : options_(options) {}

Result<std::unique_ptr<ControlServer>> ControlServer::listen(const ControlServerOptions& options) {
  try {
    const std::string& path = options.path;
    sockaddr_un addr;
    socklen_t len;
    if (!make_address(path, addr, len)) {
      return make_error(path.empty() ? "control socket path is empty"
                                     : "control socket path too long: " + path);
    }
    if (options.max_request_bytes == 0 || options.max_clients == 0 ||
        options.client_timeout_ms <= 0 || options.idle_timeout_ms < 0 ||
        options.max_requests_per_poll == 0) {
      return make_error("invalid control server options");
    }
    if (auto st = make_parent_dirs(path); !st) return st.error();
    if (auto st = clear_stale_socket(path); !st) return st.error();

    std::unique_ptr<ControlServer> server(new ControlServer(options));
    server->listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!server->listen_) return make_error("cannot create socket: " + errno_text(errno));
    if (::bind(server->listen_.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
      int err = errno;
      if (err == EADDRINUSE) return make_error("another vsgated is listening on " + path);
      return make_error("cannot bind " + path + ": " + errno_text(err));
    }
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
      // From here on the destructor unlinks the file, also when a later step fails.
      server->socket_dev_ = st.st_dev;
      server->socket_ino_ = st.st_ino;
    }
    // Permissions are set before listen(): until then every connect is refused, so there is no
    // window in which the socket is reachable with the umask's mode.
    if (::chmod(path.c_str(), options.mode) != 0) {
      return make_error("cannot chmod " + path + ": " + errno_text(errno));
    }
    if (!options.group.empty()) {
      auto gid = lookup_group(options.group);
      if (!gid) {
        VSG_LOG(warning, "control: %s", gid.message().c_str());
      } else if (gid->has_value() && ::chown(path.c_str(), static_cast<uid_t>(-1), **gid) != 0) {
        // Not fatal: the socket stays usable by root, just not by the group.
        VSG_LOG(warning, "control: cannot chown %s to group %s: %s", path.c_str(),
                options.group.c_str(), std::strerror(errno));
      }
    }
    if (::listen(server->listen_.get(), SOMAXCONN) != 0) {
      return make_error("cannot listen on " + path + ": " + errno_text(errno));
    }

    server->epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!server->epoll_) return make_error("epoll_create1: " + errno_text(errno));
    server->timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!server->timer_) return make_error("timerfd_create: " + errno_text(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenId;
    if (::epoll_ctl(server->epoll_.get(), EPOLL_CTL_ADD, server->listen_.get(), &ev) != 0) {
      return make_error("epoll_ctl: " + errno_text(errno));
    }
    ev.data.u64 = kTimerId;
    if (::epoll_ctl(server->epoll_.get(), EPOLL_CTL_ADD, server->timer_.get(), &ev) != 0) {
      return make_error("epoll_ctl: " + errno_text(errno));
    }
    return server;
  } catch (const std::exception& e) {
    return make_error(std::string("control server: ") + e.what());
  }
}

ControlServer::~ControlServer() {
  clients_.clear();
  if (socket_ino_ != 0) {
    // Only our own file: after a restart race the path may belong to another server by now.
    struct stat st;
    if (::lstat(options_.path.c_str(), &st) == 0 && st.st_dev == socket_dev_ &&
        st.st_ino == socket_ino_) {
      ::unlink(options_.path.c_str());
    }
  }
}

void ControlServer::poll(int timeout_ms) {
  try {
    const uint64_t generation = ++generation_;
    bool backlog = std::any_of(clients_.begin(), clients_.end(),
                               [](const auto& c) { return c.second->backlog; });
    epoll_event events[kMaxEvents];
    int n = ::epoll_wait(epoll_.get(), events, kMaxEvents, backlog ? 0 : timeout_ms);
    if (n < 0) {
      if (errno != EINTR) VSG_LOG(error, "control: epoll_wait: %s", std::strerror(errno));
      n = 0;
    }
    for (int i = 0; i < n; ++i) {
      uint64_t id = events[i].data.u64;
      if (id == kListenId) {
        accept_clients();
      } else if (id == kTimerId) {
        uint64_t ticks;
        [[maybe_unused]] ssize_t r = ::read(timer_.get(), &ticks, sizeof(ticks));
      } else if (auto it = clients_.find(id); it != clients_.end()) {
        it->second->served_in_poll = generation;
        on_client_event(*it->second, events[i].events);
      }
    }
    if (backlog) {
      std::vector<Client*> pending;
      for (auto& [id, c] : clients_) {
        if (c->backlog && c->served_in_poll != generation) pending.push_back(c.get());
      }
      for (Client* c : pending) settle(*c);
    }
    Clock::time_point now = Clock::now();
    if (accept_resume_ && now >= *accept_resume_) {
      accept_resume_.reset();
      set_listen_interest(EPOLLIN);
    }
    expire_clients(now);
    arm_timer();
  } catch (const std::exception& e) {
    // Only allocation failures get here; the next poll() starts over.
    VSG_LOG(error, "control: %s", e.what());
  }
}

void ControlServer::accept_clients() {
  for (int i = 0; i < kMaxAcceptsPerPoll; ++i) {
    UniqueFd fd(::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      int err = errno;
      if (err == EINTR || err == ECONNABORTED) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      // EMFILE, ENFILE, ENOBUFS...: logged once per episode, not on every retry.
      if (!accept_failing_) VSG_LOG(warning, "control: accept: %s", std::strerror(err));
      accept_failing_ = true;
      // The pending connection stays queued and the listen socket stays readable: without a
      // pause, the caller's loop would spin on fd() until, say, a descriptor frees up.
      set_listen_interest(0);
      accept_resume_ = Clock::now() + kAcceptPause;
      return;
    }
    accept_failing_ = false;
    if (clients_.size() >= options_.max_clients) {
      reject(std::move(fd));
      continue;
    }
    auto client = std::make_unique<Client>();
    client->id = next_client_id_++;
    client->fd = std::move(fd);
    client->since = Clock::now();
    client->interest = EPOLLIN | EPOLLRDHUP;
    epoll_event ev{};
    ev.events = client->interest;
    ev.data.u64 = client->id;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, client->fd.get(), &ev) != 0) {
      VSG_LOG(warning, "control: epoll_ctl: %s", std::strerror(errno));
      continue;
    }
    ++counters_.clients_accepted;
    clients_.emplace(client->id, std::move(client));
    counters_.clients_active = clients_.size();
  }
}

void ControlServer::set_listen_interest(uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = kListenId;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, listen_.get(), &ev) != 0) {
    VSG_LOG(error, "control: epoll_ctl: %s", std::strerror(errno));
  }
}

void ControlServer::reject(UniqueFd fd) {
  // Best effort: a fresh socket's buffer takes this short line without blocking.
  std::string line =
      error_reply("too many clients (limit " + std::to_string(options_.max_clients) + ")") + "\n";
  [[maybe_unused]] ssize_t n =
      ::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ++counters_.clients_rejected;
  ++counters_.errors;
}

bool ControlServer::on_client_event(Client& client, uint32_t events) {
  if (client.waiting && (events & (EPOLLERR | EPOLLHUP))) {
    // Gone while its reply is being prepared: nobody can read it (complete() drops it).
    close_client(client, /*dropped=*/false);
    return false;
  }
  if (client.output_pending() && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
    if (!flush_output(client)) return false;
  }
  if (!client.output_pending() && !client.closing && !client.eof && !client.backlog &&
      (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))) {
    if (!read_input(client)) return false;
  }
  return settle(client);
}

bool ControlServer::read_input(Client& client) {
  // Through a shared buffer, so that an idle client's buffer is as small as its data.
  read_buffer_.resize(kReadChunk);
  ssize_t n = ::recv(client.fd.get(), read_buffer_.data(), read_buffer_.size(), 0);
  if (n > 0) {
    client.in.append(read_buffer_.data(), static_cast<size_t>(n));
    return true;
  }
  if (n == 0) {
    client.eof = true;
    return true;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
  VSG_LOG(debug, "control: client %llu: recv: %s", static_cast<unsigned long long>(client.id),
          std::strerror(errno));
  close_client(client, /*dropped=*/true);
  return false;
}

bool ControlServer::flush_output(Client& client) {
  while (client.output_pending()) {
    ssize_t n = ::send(client.fd.get(), client.out.data() + client.out_pos,
                       client.out.size() - client.out_pos, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      client.out_pos += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    VSG_LOG(debug, "control: client %llu: send: %s", static_cast<unsigned long long>(client.id),
            std::strerror(errno));
    close_client(client, /*dropped=*/true);
    return false;
  }
  if (client.out.capacity() > kKeepBufferCapacity) {
    std::string().swap(client.out);
  } else {
    client.out.clear();
  }
  client.out_pos = 0;
  return true;
}

void ControlServer::queue_reply(Client& client, const std::string& line, bool ok) {
  client.out.append(line);
  client.out.push_back('\n');
  if (!ok) ++counters_.errors;
}

// Handles the buffered requests, one at a time: the next request is not dispatched before the
// previous reply has been sent, so a client that does not read bounds our buffers to one reply
// (its further requests wait in its own socket buffer) and is dropped by the reply timeout.
bool ControlServer::process_input(Client& client) {
  unsigned budget = options_.max_requests_per_poll;
  client.backlog = false;
  while (!client.output_pending() && !client.closing && !client.waiting && client.input_pending()) {
    size_t nl = client.in.find('\n', std::max(client.in_pos, client.scanned));
    if (nl == std::string::npos) {
      client.scanned = client.in.size();
      if (client.in.size() - client.in_pos > options_.max_request_bytes) {
        queue_reply(client,
                    error_reply("request too long (limit " +
                                std::to_string(options_.max_request_bytes) + " bytes)"),
                    false);
        ++counters_.requests;
        client.closing = true;
      }
      break;
    }
    if (budget == 0) {
      client.backlog = true;
      break;
    }
    std::string_view line(client.in.data() + client.in_pos, nl - client.in_pos);
    client.in_pos = nl + 1;
    client.scanned = client.in_pos;
    if (line.size() > options_.max_request_bytes) {
      queue_reply(client,
                  error_reply("request too long (limit " +
                              std::to_string(options_.max_request_bytes) + " bytes)"),
                  false);
      ++counters_.requests;
      client.closing = true;
      break;
    }
    // Blank lines (an interactive user pressing enter) are not requests and get no reply.
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    --budget;
    ++counters_.requests;
    const uint64_t token = next_token_++;
    CommandTable::Reply reply = commands_.handle(line, token);
    if (reply.deferred) {
      ++counters_.deferred;
      client.waiting = token;
      client.since = Clock::now();
      client.phase = Client::Phase::waiting;
      break;
    }
    queue_reply(client, reply.line, reply.ok);
    client.since = Clock::now();  // each reply gets its own time to be read
    client.phase = Client::Phase::reply;
    if (!flush_output(client)) return false;
  }
  if (client.closing) {
    // The rest of the input is not going to be handled.
    std::string().swap(client.in);
    client.in_pos = client.scanned = 0;
  } else if (client.in_pos > 0) {
    client.in.erase(0, client.in_pos);
    client.scanned -= client.in_pos;
    client.in_pos = 0;
    if (client.in.empty() && client.in.capacity() > kKeepBufferCapacity) {
      std::string().swap(client.in);
    }
  }
  return true;
}

// Brings a client to a consistent state after I/O: handles buffered requests, closes it when
// it is done, updates its phase (for deadlines) and its epoll interest.
bool ControlServer::settle(Client& client) {
  if (!client.output_pending() && !process_input(client)) return false;
  if (client.output_pending() && !flush_output(client)) return false;
  if (!client.output_pending()) {
    if (client.closing) {
      close_client(client, /*dropped=*/true);
      return false;
    }
    if (client.eof && !client.backlog && !client.waiting) {
      // Done: every complete request got its reply; a partial one is abandoned.
      close_client(client, /*dropped=*/false);
      return false;
    }
  }
  Client::Phase phase = client.waiting            ? Client::Phase::waiting
                        : client.output_pending() ? Client::Phase::reply
                        : client.input_pending()  ? Client::Phase::request
                                                  : Client::Phase::idle;
  if (phase != client.phase) {
    client.phase = phase;
    client.since = Clock::now();
  }
  update_interest(client);
  return true;
}

void ControlServer::update_interest(Client& client) {
  uint32_t want = 0;
  if (client.waiting) {
    // Only to notice a client that goes away (EPOLLHUP/EPOLLERR come unasked); a half close
    // is read to its EOF, further requests stay in the socket until the reply is out.
    want = client.eof ? 0u : uint32_t{EPOLLRDHUP};
  } else if (client.output_pending()) {
    want = EPOLLOUT;
  } else if (!client.eof && !client.closing && !client.backlog) {
    want = EPOLLIN | EPOLLRDHUP;
  }
  if (want == client.interest) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = client.id;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, client.fd.get(), &ev) == 0) client.interest = want;
}

ControlServer::Clock::time_point ControlServer::deadline(const Client& client) const {
  using std::chrono::milliseconds;
  if (client.waiting) return client.since + milliseconds(options_.deferred_timeout_ms);
  if (client.phase != Client::Phase::idle || client.eof || client.closing) {
    return client.since + milliseconds(options_.client_timeout_ms);
  }
  if (options_.idle_timeout_ms == 0) return Clock::time_point::max();
  return client.since + milliseconds(options_.idle_timeout_ms);
}

void ControlServer::close_client(Client& client, bool dropped) {
  if (dropped) ++counters_.clients_dropped;
  // Closing the fd removes it from the epoll set.
  clients_.erase(client.id);
  counters_.clients_active = clients_.size();
}

void ControlServer::expire_clients(Clock::time_point now) {
  std::vector<Client*> expired;
  for (auto& [id, c] : clients_) {
    if (!c->backlog && deadline(*c) <= now) expired.push_back(c.get());
  }
  for (Client* c : expired) {
    if (c->waiting) {
      c->waiting = 0;  // its late completion is dropped
      queue_reply(
          *c,
          error_reply("no reply within " + std::to_string(options_.deferred_timeout_ms) + " ms"),
          false);
      c->since = now;
      settle(*c);
      continue;
    }
    VSG_LOG(debug, "control: client %llu timed out", static_cast<unsigned long long>(c->id));
    close_client(*c, c->phase != Client::Phase::idle);
  }
}

bool ControlServer::complete(uint64_t token, const Result<Json>& result) {
  if (token == 0) return false;
  Client* client = nullptr;
  for (auto& [id, c] : clients_)
    if (c->waiting == token) client = c.get();
  if (!client) {
    ++counters_.deferred_orphaned;
    return false;
  }
  try {
    if (result)
      queue_reply(*client, ok_reply(result.value()), true);
    else
      queue_reply(*client, error_reply(result.message().empty() ? "failed" : result.message()),
                  false);
  } catch (const std::exception& e) {
    // Only allocation failures: the client's connection cannot carry the reply.
    VSG_LOG(error, "control: %s", e.what());
    close_client(*client, /*dropped=*/true);
    return false;
  }
  client->waiting = 0;
  client->since = Clock::now();
  client->phase = Client::Phase::reply;
  // Sent, then the requests it buffered meanwhile are handled: no new input may come to wake
  // us for them. settle() may close the client if it had shut down its side.
  if (flush_output(*client)) settle(*client);
  arm_timer();
  return true;
}

void ControlServer::arm_timer() {
  itimerspec spec{};
  int flags = 0;
  bool backlog = false;
  Clock::time_point next = accept_resume_.value_or(Clock::time_point::max());
  for (const auto& [id, c] : clients_) {
    backlog = backlog || c->backlog;
    next = std::min(next, deadline(*c));
  }
  if (backlog) {
    spec.it_value.tv_nsec = 1;  // relative: fire now, so fd() reads as ready
  } else if (next != Clock::time_point::max()) {
    // steady_clock is CLOCK_MONOTONIC on Linux.
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(next.time_since_epoch()).count();
    if (ns <= 0) ns = 1;
    spec.it_value.tv_sec = ns / 1000000000;
    spec.it_value.tv_nsec = ns % 1000000000;
    flags = TFD_TIMER_ABSTIME;
  }
  // An all-zero spec disarms the timer (nothing has a deadline).
  if (::timerfd_settime(timer_.get(), flags, &spec, nullptr) != 0) {
    VSG_LOG(error, "control: timerfd_settime: %s", std::strerror(errno));
  }
}

}  // namespace vsgate
