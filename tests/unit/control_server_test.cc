// ControlServer and ControlClient over real Unix sockets in a private temp directory.
#include "ctrl/control_server.h"

#include <errno.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ctrl/control_client.h"

namespace vsgate {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/vsgate-ctrl-test-XXXXXX";
    const char* dir = ::mkdtemp(tmpl);
    if (dir == nullptr) std::abort();
    path_ = dir;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  return addr;
}

// A blocking raw connection, for byte-level control over what the server sees.
UniqueFd connect_raw(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr = unix_address(path);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return {};
  return fd;
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    ASSERT_GT(n, 0) << std::strerror(errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// What a raw connection received: lines, then how it ended.
struct ReadResult {
  std::vector<std::string> lines;
  bool closed = false;  // EOF or ECONNRESET
  bool timed_out = false;
};

// Reads until `want_lines` lines arrived (then stops), the peer closed, or the timeout.
ReadResult read_lines(int fd, size_t want_lines, std::chrono::milliseconds timeout = 3000ms) {
  ReadResult r;
  std::string buf;
  auto deadline = Clock::now() + timeout;
  while (r.lines.size() < want_lines) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd pfd{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) == 0) {
      r.timed_out = true;
      break;
    }
    char chunk[65536];
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      r.closed = true;
      break;
    }
    buf.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      r.lines.push_back(buf.substr(0, nl));
      buf.erase(0, nl + 1);
    }
  }
  return r;
}

// True when the peer closed within the timeout (discarding any data still queued).
bool wait_closed(int fd, std::chrono::milliseconds timeout) {
  ReadResult r = read_lines(fd, SIZE_MAX, timeout);
  return r.closed;
}

bool readable(int fd, int timeout_ms) {
  pollfd pfd{fd, POLLIN, 0};
  return ::poll(&pfd, 1, timeout_ms) == 1;
}

// Polls the server from a thread until destroyed. Register commands before starting it.
class ServerThread {
 public:
  explicit ServerThread(ControlServer& server) : server_(server) {
    thread_ = std::thread([this] {
      while (!stop_.load()) server_.poll(5);
    });
  }
  ~ServerThread() { stop(); }
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  ControlServer& server_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override { options_.path = dir_.path() + "/control.sock"; }

  std::unique_ptr<ControlServer> start() {
    auto server = ControlServer::listen(options_);
    EXPECT_TRUE(server.ok()) << (server.ok() ? "" : server.message());
    if (!server.ok()) return nullptr;
    CommandTable& t = (*server)->commands();
    t.add("version", [](const Json&) -> Result<Json> {
      return Json{{"version", "0.1.0"}, {"dpdk", "DPDK 22.11.11"}};
    });
    t.add("echo", [](const Json& args) -> Result<Json> { return args; });
    t.add("fail", [](const Json&) -> Result<Json> { return make_error("no such port: dpdk9"); });
    t.add("big", [](const Json& args) -> Result<Json> {
      return Json(std::string(args.value("size", 1000u), 'x'));
    });
    return std::move(server.value());
  }

  TempDir dir_;
  ControlServerOptions options_;
};

TEST_F(ControlServerTest, RoundTripWithControlClient) {
  auto server = start();
  ASSERT_TRUE(server);
  ServerThread thread(*server);
  auto client = ControlClient::connect(options_.path, 2000);
  ASSERT_TRUE(client.ok()) << client.message();
  auto version = client->call("version");
  ASSERT_TRUE(version.ok()) << version.message();
  EXPECT_EQ((*version)["version"], "0.1.0");
  EXPECT_EQ((*version)["dpdk"], "DPDK 22.11.11");

  // A daemon error is the daemon's message, and the connection stays usable.
  auto failed = client->call("fail");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.message(), "no such port: dpdk9");
  EXPECT_TRUE(client->usable());
  auto unknown = client->call("nope");
  EXPECT_EQ(unknown.message(), "unknown command 'nope'");

  auto echoed = client->call("echo", Json{{"name", "dpdk0"}});
  ASSERT_TRUE(echoed.ok());
  EXPECT_EQ(*echoed, (Json{{"name", "dpdk0"}}));

  auto raw = client->call_raw("[1]");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(Json::parse(*raw)["ok"], false);

  thread.stop();
  EXPECT_EQ(server->counters().requests, 5u);
  EXPECT_EQ(server->counters().errors, 3u);
  EXPECT_EQ(server->counters().clients_accepted, 1u);
  EXPECT_EQ(server->counters().clients_active, 1u);
}

TEST_F(ControlServerTest, SeveralRequestsOnOneConnectionInOneWrite) {
  auto server = start();
  ASSERT_TRUE(server);
  ServerThread thread(*server);
  UniqueFd fd = connect_raw(options_.path);
  ASSERT_TRUE(fd);
  send_all(fd.get(),
           "{\"cmd\":\"echo\",\"args\":{\"i\":1}}\n"
           "\n"  // blank lines get no reply
           "{\"cmd\":\"echo\",\"args\":{\"i\":2}}\r\n"
           "garbage\n"
           "{\"cmd\":\"echo\",\"args\":{\"i\":3}}\n");
  ReadResult r = read_lines(fd.get(), 4);
  ASSERT_EQ(r.lines.size(), 4u);
  EXPECT_EQ(Json::parse(r.lines[0])["result"]["i"], 1);
  EXPECT_EQ(Json::parse(r.lines[1])["result"]["i"], 2);
  EXPECT_EQ(Json::parse(r.lines[2])["ok"], false);
  EXPECT_EQ(Json::parse(r.lines[3])["result"]["i"], 3);
}

TEST_F(ControlServerTest, ManyPipelinedRequestsBeyondThePerPollBudget) {
  options_.max_requests_per_poll = 3;
  auto server = start();
  ASSERT_TRUE(server);
  ServerThread thread(*server);
  UniqueFd fd = connect_raw(options_.path);
  std::string batch;
  for (int i = 0; i < 200; ++i)
    batch += "{\"cmd\":\"echo\",\"args\":{\"i\":" + std::to_string(i) + "}}\n";
  send_all(fd.get(), batch);
  ReadResult r = read_lines(fd.get(), 200);
  ASSERT_EQ(r.lines.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(Json::parse(r.lines[i])["result"]["i"], i);
}

TEST_F(ControlServerTest, RequestSplitAcrossWrites) {
  auto server = start();
  ASSERT_TRUE(server);
  ServerThread thread(*server);
  UniqueFd fd = connect_raw(options_.path);
  std::string req = "{\"cmd\":\"version\"}\n{\"cmd\":\"ec";
  for (char c : req) {
    send_all(fd.get(), std::string_view(&c, 1));
    std::this_thread::sleep_for(1ms);
  }
  ReadResult r = read_lines(fd.get(), 1);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(Json::parse(r.lines[0])["result"]["version"], "0.1.0");
  send_all(fd.get(), "ho\",\"args\":{\"x\":true}}\n");
  r = read_lines(fd.get(), 1);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(Json::parse(r.lines[0])["result"]["x"], true);
}

TEST_F(ControlServerTest, OversizedRequestWithoutNewlineGetsErrorThenClose) {
  auto server = start();  // default limit: 65536
  ASSERT_TRUE(server);
  ServerThread thread(*server);
  UniqueFd fd = connect_raw(options_.path);
  send_all(fd.get(), "{\"cmd\":\"echo\",\"args\":{\"x\":\"" + std::string(70000, 'a'));
  ReadResult r = read_lines(fd.get(), 2);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(Json::parse(r.lines[0]),
            (Json{{"ok", false}, {"error", "request too long (limit 65536 bytes)"}}));
  EXPECT_TRUE(r.closed);
  thread.stop();
  EXPECT_EQ(server->counters().clients_dropped, 1u);
  EXPECT_EQ(server->counters().errors, 1u);
}

TEST_F(ControlServerTest, OversizedCompleteLineGetsErrorThenClose) {
  options_.max_request_bytes = 1000;
  auto server = start();
  ASSERT_TRUE(server);
  ServerThread thread(*server);
  // Exactly at the limit is fine.
  std::string at_limit = "{\"cmd\":\"version\"}";
  at_limit.append(1000 - at_limit.size(), ' ');
  UniqueFd fd = connect_raw(options_.path);
  send_all(fd.get(), at_limit + "\n" + at_limit + " \n{\"cmd\":\"version\"}\n");
  ReadResult r = read_lines(fd.get(), 3);
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(Json::parse(r.lines[0])["ok"], true);
  EXPECT_EQ(Json::parse(r.lines[1])["error"], "request too long (limit 1000 bytes)");
  EXPECT_TRUE(r.closed);  // the request after the long one is not handled
}

TEST_F(ControlServerTest, HangingClientDoesNotBlockOthersAndIsDropped) {
  options_.client_timeout_ms = 300;
  auto server = start();
  ASSERT_TRUE(server);
  ServerThread thread(*server);
  UniqueFd hanging = connect_raw(options_.path);
  send_all(hanging.get(), "{\"cmd\":\"vers");
  std::this_thread::sleep_for(20ms);

  auto t0 = Clock::now();
  auto client = ControlClient::connect(options_.path, 2000);
  ASSERT_TRUE(client.ok());
  auto version = client->call("version");
  auto elapsed = Clock::now() - t0;
  ASSERT_TRUE(version.ok()) << version.message();
  EXPECT_LT(elapsed, 150ms);

  auto t1 = Clock::now();
  EXPECT_TRUE(wait_closed(hanging.get(), 3000ms));
  auto waited = Clock::now() - t1;
  EXPECT_GT(waited, 150ms);  // it had 300 ms from its first byte, 20 ms of which had passed
  EXPECT_LT(waited, 1500ms);
  thread.stop();
  EXPECT_EQ(server->counters().clients_dropped, 1u);
  EXPECT_EQ(server->counters().clients_active, 1u);  // the well-behaved client is still there
}

TEST_F(ControlServerTest, SlowTricklingClientIsDroppedToo) {
  options_.client_timeout_ms = 300;
  auto server = start();
  ASSERT_TRUE(server);
  ServerThread thread(*server);
  UniqueFd fd = connect_raw(options_.path);
  // One byte every 50 ms never completes a request within 300 ms: the deadline counts from the
  // request's first byte, not from the latest one.
  auto t0 = Clock::now();
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {
    if (::send(fd.get(), " ", 1, MSG_NOSIGNAL) != 1) closed = true;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(closed || wait_closed(fd.get(), 100ms));
  EXPECT_LT(Clock::now() - t0, 1500ms);
}

TEST_F(ControlServerTest, IdleConnectionClosedAfterIdleTimeoutWithoutCountingADrop) {
  options_.idle_timeout_ms = 200;
  auto server = start();
  ASSERT_TRUE(server);
  ServerThread thread(*server);
  auto client = ControlClient::connect(options_.path, 2000);
  ASSERT_TRUE(client->call("version").ok());
  std::this_thread::sleep_for(400ms);
  auto again = client->call("version");
  EXPECT_FALSE(again.ok());
  EXPECT_EQ(again.message(), "vsgated closed the connection");
  thread.stop();
  EXPECT_EQ(server->counters().clients_dropped, 0u);
  EXPECT_EQ(server->counters().clients_active, 0u);
}

TEST_F(ControlServerTest, ClientThatDoesNotReadItsRepliesIsDropped) {
  // The other client must be served long before the greedy one times out; the margins leave
  // room for sanitizer builds on a loaded 2-CPU machine (building a 1 MB reply takes a while).
  options_.client_timeout_ms = 1500;
  auto server = start();
  ASSERT_TRUE(server);
  ServerThread thread(*server);
  UniqueFd greedy = connect_raw(options_.path);
  // Far more than the socket buffers hold, and never read.
  std::string req = "{\"cmd\":\"big\",\"args\":{\"size\":1000000}}\n";
  std::string many;
  for (int i = 0; i < 20; ++i) many += req;
  ASSERT_EQ(::send(greedy.get(), many.data(), many.size(), MSG_NOSIGNAL | MSG_DONTWAIT),
            static_cast<ssize_t>(many.size()));
  std::this_thread::sleep_for(50ms);

  auto t0 = Clock::now();
  auto client = ControlClient::connect(options_.path, 2000);
  auto version = client->call("version");
  EXPECT_TRUE(version.ok());
  EXPECT_LT(Clock::now() - t0, 500ms);

  std::this_thread::sleep_for(1800ms);
  thread.stop();
  EXPECT_EQ(server->counters().clients_dropped, 1u);
  EXPECT_EQ(server->counters().clients_active, 1u);
  // The requests queued behind the unread reply were never dispatched.
  EXPECT_EQ(server->counters().requests, 2u);
}

TEST_F(ControlServerTest, ClientDisconnectsMidRequest) {
  auto server = start();
  ASSERT_TRUE(server);
  ServerThread thread(*server);
  {
    UniqueFd fd = connect_raw(options_.path);
    send_all(fd.get(), "{\"cmd\":\"version\"}\n{\"cmd\":\"ver");
  }
  {
    // Reset with unread data in the server's direction.
    UniqueFd fd = connect_raw(options_.path);
    send_all(fd.get(), std::string(60000, ' '));
  }
  auto client = ControlClient::connect(options_.path, 2000);
  ASSERT_TRUE(client.ok());
  EXPECT_TRUE(client->call("version").ok());
  std::this_thread::sleep_for(50ms);
  thread.stop();
  EXPECT_EQ(server->counters().clients_accepted, 3u);
  EXPECT_EQ(server->counters().clients_active, 1u);
}

TEST_F(ControlServerTest, HalfCloseAfterRequestStillGetsTheReply) {
  auto server = start();
  ASSERT_TRUE(server);
  ServerThread thread(*server);
  UniqueFd fd = connect_raw(options_.path);
  send_all(fd.get(), "{\"cmd\":\"version\"}\n{\"cmd\":\"echo\"}\n");
  ::shutdown(fd.get(), SHUT_WR);  // like `socat - UNIX-CONNECT:...` at end of input
  ReadResult r = read_lines(fd.get(), 3);
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(Json::parse(r.lines[1])["ok"], true);
  EXPECT_TRUE(r.closed);
}

// Polls the server from a thread, as ServerThread, with a command "later" whose reply is
// deferred: the test releases it with release(), and the completion runs on the server's
// thread between polls, as vsgated's main loop does it.
class DeferringServerThread {
 public:
  explicit DeferringServerThread(ControlServer& server) : server_(server) {
    server_.commands().add_deferrable(
        "later", [this](const Json&, uint64_t token) -> Result<std::optional<Json>> {
          std::lock_guard lock(mutex_);
          tokens_.push_back(token);
          return std::optional<Json>();
        });
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        server_.poll(5);
        std::lock_guard lock(mutex_);
        for (auto& [token, result] : releases_)
          completed_.push_back(server_.complete(token, result));
        releases_.clear();
      }
    });
  }
  ~DeferringServerThread() { stop(); }
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  // Waits until `n` requests were deferred.
  bool deferred(size_t n) {
    for (auto until = Clock::now() + 2s; Clock::now() < until; std::this_thread::sleep_for(1ms)) {
      std::lock_guard lock(mutex_);
      if (tokens_.size() >= n) return true;
    }
    return false;
  }
  // Completes the i-th deferred request; returns what complete() said.
  bool release(size_t i, Result<Json> result) {
    size_t done;
    {
      std::lock_guard lock(mutex_);
      done = completed_.size();
      releases_.emplace_back(tokens_.at(i), std::move(result));
    }
    for (;; std::this_thread::sleep_for(1ms)) {
      std::lock_guard lock(mutex_);
      if (completed_.size() > done) return completed_[done];
    }
  }

 private:
  ControlServer& server_;
  std::mutex mutex_;
  std::vector<uint64_t> tokens_;
  std::vector<std::pair<uint64_t, Result<Json>>> releases_;
  std::vector<bool> completed_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(ControlServerTest, DeferredReplyOthersServedMeanwhile) {
  auto server = start();
  ASSERT_TRUE(server);
  DeferringServerThread thread(*server);
  UniqueFd a = connect_raw(options_.path);
  // A pipelined request behind the deferred one waits for it: replies keep request order.
  send_all(a.get(), "{\"cmd\":\"later\"}\n{\"cmd\":\"echo\",\"args\":{\"i\":2}}\n");
  ASSERT_TRUE(thread.deferred(1));

  auto b = ControlClient::connect(options_.path, 2000);
  ASSERT_TRUE(b.ok()) << b.message();
  auto version = b->call("version");
  ASSERT_TRUE(version.ok()) << version.message();
  EXPECT_EQ((*version)["version"], "0.1.0");
  EXPECT_FALSE(readable(a.get(), 100));  // nothing for A yet, not even the echo

  EXPECT_TRUE(thread.release(0, Json{{"rows", 3}}));
  ReadResult r = read_lines(a.get(), 2);
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(Json::parse(r.lines[0]), (Json{{"ok", true}, {"result", {{"rows", 3}}}}));
  EXPECT_EQ(Json::parse(r.lines[1])["result"]["i"], 2);

  // An error completes it too, and the connection goes on.
  send_all(a.get(), "{\"cmd\":\"later\"}\n");
  ASSERT_TRUE(thread.deferred(2));
  EXPECT_TRUE(thread.release(1, make_error("worker 1 did not answer")));
  r = read_lines(a.get(), 1);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(Json::parse(r.lines[0]), (Json{{"ok", false}, {"error", "worker 1 did not answer"}}));
  thread.stop();
  EXPECT_EQ(server->counters().deferred, 2u);
  EXPECT_EQ(server->counters().requests, 4u);
  EXPECT_EQ(server->counters().errors, 1u);
}

TEST_F(ControlServerTest, DeferredReplyToAClientThatHasGoneIsDropped) {
  auto server = start();
  ASSERT_TRUE(server);
  DeferringServerThread thread(*server);
  {
    UniqueFd a = connect_raw(options_.path);
    send_all(a.get(), "{\"cmd\":\"later\"}\n");
    ASSERT_TRUE(thread.deferred(1));
  }
  std::this_thread::sleep_for(100ms);  // the server notices the hang-up
  EXPECT_FALSE(thread.release(0, Json{{"rows", 3}}));
  auto b = ControlClient::connect(options_.path, 2000);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->call("version").ok());
  thread.stop();
  EXPECT_EQ(server->counters().deferred_orphaned, 1u);
  EXPECT_EQ(server->counters().clients_active, 1u);  // b only
}

TEST_F(ControlServerTest, DeferredReplyAfterHalfCloseStillArrives) {
  auto server = start();
  ASSERT_TRUE(server);
  DeferringServerThread thread(*server);
  UniqueFd a = connect_raw(options_.path);
  send_all(a.get(), "{\"cmd\":\"later\"}\n");
  ::shutdown(a.get(), SHUT_WR);
  ASSERT_TRUE(thread.deferred(1));
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(thread.release(0, Json{{"rows", 1}}));
  ReadResult r = read_lines(a.get(), 2);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(Json::parse(r.lines[0])["result"]["rows"], 1);
  EXPECT_TRUE(r.closed);
}

TEST_F(ControlServerTest, DeferredReplyNeverCompletedTimesOut) {
  options_.deferred_timeout_ms = 200;
  auto server = start();
  ASSERT_TRUE(server);
  DeferringServerThread thread(*server);
  UniqueFd a = connect_raw(options_.path);
  send_all(a.get(), "{\"cmd\":\"later\"}\n");
  ReadResult r = read_lines(a.get(), 1, 2000ms);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(Json::parse(r.lines[0]), (Json{{"ok", false}, {"error", "no reply within 200 ms"}}));
  EXPECT_FALSE(thread.release(0, Json{{"rows", 1}}));  // too late: dropped
  send_all(a.get(), "{\"cmd\":\"version\"}\n");        // the connection goes on
  r = read_lines(a.get(), 1);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(Json::parse(r.lines[0])["result"]["version"], "0.1.0");
}

TEST(CommandTableDeferTest, WithoutAServerADeferringHandlerGetsAnError) {
  CommandTable t;
  t.add_deferrable("later", [](const Json&, uint64_t) -> Result<std::optional<Json>> {
    return std::optional<Json>();
  });
  t.add_deferrable("now", [](const Json&, uint64_t) -> Result<std::optional<Json>> {
    return std::optional<Json>(Json{{"x", 1}});
  });
  EXPECT_EQ(Json::parse(t.dispatch(R"({"cmd":"now"})")),
            (Json{{"ok", true}, {"result", {{"x", 1}}}}));
  const CommandTable::Reply r = t.handle(R"({"cmd":"later"})");
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.deferred);
  EXPECT_EQ(Json::parse(r.line)["ok"], false);
  const CommandTable::Reply d = t.handle(R"({"cmd":"later"})", 7);
  EXPECT_TRUE(d.deferred);
  EXPECT_TRUE(d.line.empty());
}

TEST_F(ControlServerTest, ManyConcurrentClients) {
  auto server = start();
  ASSERT_TRUE(server);
  ServerThread thread(*server);
  std::vector<UniqueFd> fds;
  for (int i = 0; i < 60; ++i) {
    fds.push_back(connect_raw(options_.path));
    ASSERT_TRUE(fds.back());
  }
  for (int i = 0; i < 60; ++i) {
    send_all(fds[i].get(), "{\"cmd\":\"echo\",\"args\":{\"i\":" + std::to_string(i) + "}}\n");
  }
  for (int i = 0; i < 60; ++i) {
    ReadResult r = read_lines(fds[i].get(), 1);
    ASSERT_EQ(r.lines.size(), 1u) << i;
    EXPECT_EQ(Json::parse(r.lines[0])["result"]["i"], i);
  }
  fds.clear();
  std::this_thread::sleep_for(100ms);  // let the server see them go, to stay under max_clients
  // And from many threads with ControlClient.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      auto c = ControlClient::connect(options_.path, 3000);
      if (!c.ok()) return;
      for (int i = 0; i < 20; ++i) ok += c->call("version").ok() ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 160);
}

TEST_F(ControlServerTest, ClientsBeyondMaxClientsAreRejected) {
  options_.max_clients = 3;
  auto server = start();
  ASSERT_TRUE(server);
  ServerThread thread(*server);
  std::vector<ControlClient> clients;
  for (int i = 0; i < 3; ++i) {
    auto c = ControlClient::connect(options_.path, 2000);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->call("version").ok());  // make sure it is accepted before the next one
    clients.push_back(std::move(c.value()));
  }
  UniqueFd extra = connect_raw(options_.path);
  ReadResult r = read_lines(extra.get(), 2);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(Json::parse(r.lines[0])["error"], "too many clients (limit 3)");
  EXPECT_TRUE(r.closed);
  // A slot frees up when a client leaves.
  clients.pop_back();
  std::this_thread::sleep_for(50ms);
  auto c = ControlClient::connect(options_.path, 2000);
  EXPECT_TRUE(c->call("version").ok());
  thread.stop();
  EXPECT_EQ(server->counters().clients_rejected, 1u);
}

TEST_F(ControlServerTest, SocketFileModeIs0660AndParentIsCreated) {
  options_.path = dir_.path() + "/run/vsgate/control.sock";
  auto server = start();
  ASSERT_TRUE(server);
  struct stat st;
  ASSERT_EQ(::stat(options_.path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  ASSERT_EQ(::stat((dir_.path() + "/run/vsgate").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0022, 0u);  // 0755 less the umask: never group/world writable
}

TEST_F(ControlServerTest, CustomMode) {
  options_.mode = 0600;
  options_.group = "";
  auto server = start();
  ASSERT_TRUE(server);
  struct stat st;
  ASSERT_EQ(::stat(options_.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(ControlServerTest, GroupOwnershipWhenTheGroupExists) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown to another group needs root";
  group* nogroup = ::getgrnam("nogroup");
  if (nogroup == nullptr) GTEST_SKIP() << "no group 'nogroup'";
  gid_t gid = nogroup->gr_gid;
  options_.group = "nogroup";
  auto server = start();
  ASSERT_TRUE(server);
  struct stat st;
  ASSERT_EQ(::stat(options_.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, gid);
  server.reset();

  // A missing group is not an error: the socket keeps our group.
  options_.group = "vsgate-no-such-group";
  server = start();
  ASSERT_TRUE(server);
  ASSERT_EQ(::stat(options_.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, ::getegid());
}

// Out of descriptors, the pending connection stays queued: poll() must not spin on it, and
// accepting resumes once descriptors are free again.
TEST_F(ControlServerTest, AcceptPausesWhenOutOfDescriptors) {
  auto server = start();
  ASSERT_TRUE(server);
  rlimit saved;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  UniqueFd client = connect_raw(options_.path);
  ASSERT_TRUE(client);
  send_all(client.get(), "{\"cmd\":\"version\"}\n");

  int highest = ::dup(0);
  ::close(highest);
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(highest);  // no descriptor free from here on
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  std::vector<UniqueFd> fillers;
  for (int fd; (fd = ::dup(0)) >= 0;) fillers.emplace_back(fd);

  EXPECT_TRUE(readable(server->fd(), 0));
  server->poll(0);  // accept fails with EMFILE
  EXPECT_FALSE(readable(server->fd(), 30)) << "the listen socket must be paused";
  EXPECT_EQ(server->counters().clients_accepted, 0u);

  fillers.clear();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  // The pause ends by itself (the timer makes fd() readable), then the client is served.
  auto deadline = Clock::now() + 2s;
  while (server->counters().requests == 0 && Clock::now() < deadline) {
    if (readable(server->fd(), 500)) server->poll(0);
  }
  EXPECT_EQ(server->counters().clients_accepted, 1u);
  EXPECT_EQ(read_lines(client.get(), 1).lines.size(), 1u);
}

TEST_F(ControlServerTest, StaleSocketFileIsReplaced) {
  {
    // A socket file nobody listens on, as a crashed daemon leaves behind.
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr = unix_address(options_.path);
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }
  ASSERT_TRUE(std::filesystem::exists(options_.path));
  auto server = start();
  ASSERT_TRUE(server);
  ServerThread thread(*server);
  auto client = ControlClient::connect(options_.path, 2000);
  ASSERT_TRUE(client.ok()) << client.message();
  EXPECT_TRUE(client->call("version").ok());
}

TEST_F(ControlServerTest, NonSocketFileIsNotReplaced) {
  { std::ofstream(options_.path) << "precious"; }
  auto server = ControlServer::listen(options_);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.message(), options_.path + " exists and is not a socket");
  EXPECT_TRUE(std::filesystem::is_regular_file(options_.path));
}

TEST_F(ControlServerTest, SecondListenOnLivePathFails) {
  auto first = start();
  ASSERT_TRUE(first);
  auto second = ControlServer::listen(options_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.message(), "another vsgated is listening on " + options_.path);
  // The first one is unharmed.
  ServerThread thread(*first);
  auto client = ControlClient::connect(options_.path, 2000);
  ASSERT_TRUE(client.ok());
  EXPECT_TRUE(client->call("version").ok());
}

TEST_F(ControlServerTest, DestructorUnlinksSocket) {
  auto server = start();
  ASSERT_TRUE(server);
  auto client = ControlClient::connect(options_.path, 2000);
  ASSERT_TRUE(client.ok());
  server->poll(0);  // accept it
  server.reset();
  EXPECT_FALSE(std::filesystem::exists(options_.path));
  EXPECT_FALSE(client->call("version").ok());
}

TEST_F(ControlServerTest, DestructorLeavesAReplacedSocketAlone) {
  auto server = start();
  ASSERT_TRUE(server);
  // Someone removed our file and bound a new socket there: not ours to delete.
  ASSERT_EQ(::unlink(options_.path.c_str()), 0);
  UniqueFd other(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un addr = unix_address(options_.path);
  ASSERT_EQ(::bind(other.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  server.reset();
  EXPECT_TRUE(std::filesystem::exists(options_.path));
}

TEST_F(ControlServerTest, InvalidOptions) {
  options_.path = dir_.path() + "/" + std::string(200, 'x');
  auto server = ControlServer::listen(options_);
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(server.message().starts_with("control socket path too long")) << server.message();
  options_.path = "";
  EXPECT_EQ(ControlServer::listen(options_).message(), "control socket path is empty");
}

// Single-threaded: the daemon's main loop waits on fd() in its own epoll and calls poll(0).
TEST_F(ControlServerTest, EpollFdSignalsWorkIncludingDeadlines) {
  options_.client_timeout_ms = 200;
  auto server = start();
  ASSERT_TRUE(server);
  EXPECT_FALSE(readable(server->fd(), 0));

  UniqueFd fd = connect_raw(options_.path);  // completes via the backlog
  EXPECT_TRUE(readable(server->fd(), 1000));
  server->poll(0);  // accept
  EXPECT_FALSE(readable(server->fd(), 0));

  send_all(fd.get(), "{\"cmd\":\"version\"}\n{\"cmd\"");
  EXPECT_TRUE(readable(server->fd(), 1000));
  server->poll(0);  // read, reply, keep the partial request
  ReadResult r = read_lines(fd.get(), 1);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_FALSE(readable(server->fd(), 50));

  // Nothing arrives, but the partial request's deadline makes fd() readable.
  auto t0 = Clock::now();
  EXPECT_TRUE(readable(server->fd(), 2000));
  EXPECT_GT(Clock::now() - t0, 100ms);
  server->poll(0);
  EXPECT_EQ(server->counters().clients_dropped, 1u);
  EXPECT_TRUE(wait_closed(fd.get(), 1000ms));
  EXPECT_FALSE(readable(server->fd(), 0));
}

TEST_F(ControlServerTest, EpollFdStaysReadableWhileBudgetLeavesWork) {
  options_.max_requests_per_poll = 2;
  auto server = start();
  ASSERT_TRUE(server);
  UniqueFd fd = connect_raw(options_.path);
  server->poll(100);
  std::string batch;
  for (int i = 0; i < 7; ++i) batch += "{\"cmd\":\"version\"}\n";
  send_all(fd.get(), batch);
  int polls = 0;
  while (readable(server->fd(), 200) && polls < 20) {
    server->poll(0);
    ++polls;
  }
  EXPECT_GE(polls, 4);  // 7 requests, 2 per poll
  EXPECT_EQ(read_lines(fd.get(), 7).lines.size(), 7u);
}

TEST_F(ControlServerTest, PollNeverBlocksLongerThanItsTimeout) {
  auto server = start();
  ASSERT_TRUE(server);
  auto t0 = Clock::now();
  server->poll(50);
  auto elapsed = Clock::now() - t0;
  EXPECT_GE(elapsed, 40ms);
  EXPECT_LT(elapsed, 500ms);
  t0 = Clock::now();
  server->poll(0);
  EXPECT_LT(Clock::now() - t0, 20ms);
}

// ControlClient against peers that are not a healthy vsgated.
TEST(ControlClientTest, ConnectToMissingSocket) {
  TempDir dir;
  std::string path = dir.path() + "/none.sock";
  auto client = ControlClient::connect(path);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.message(),
            "cannot connect to " + path + ": No such file or directory (is vsgated running?)");
}

TEST(ControlClientTest, ConnectToStaleSocket) {
  TempDir dir;
  std::string path = dir.path() + "/stale.sock";
  {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr = unix_address(path);
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }
  auto client = ControlClient::connect(path);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.message(),
            "cannot connect to " + path + ": Connection refused (is vsgated running?)");
}

// A listening socket driven by hand: accepts one connection and does `behave` with it.
class FakeDaemon {
 public:
  FakeDaemon(const std::string& path, std::function<void(int)> behave) {
    listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr = unix_address(path);
    if (::bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) std::abort();
    ::listen(listen_.get(), 4);
    thread_ = std::thread([this, behave] {
      UniqueFd conn(::accept(listen_.get(), nullptr, nullptr));
      behave(conn.get());
    });
  }
  ~FakeDaemon() { thread_.join(); }

 private:
  UniqueFd listen_;
  std::thread thread_;
};

std::string read_request(int fd) {
  std::string req;
  char c;
  while (::recv(fd, &c, 1, 0) == 1 && c != '\n') req += c;
  return req;
}

TEST(ControlClientTest, SendsOneRequestLine) {
  TempDir dir;
  std::string path = dir.path() + "/d.sock";
  std::string seen;
  {
    FakeDaemon daemon(path, [&](int fd) {
      seen = read_request(fd);
      send_all(fd, "{\"ok\":true,\"result\":{\"v\":1}}\n");
    });
    auto client = ControlClient::connect(path, 2000);
    ASSERT_TRUE(client.ok());
    auto result = client->call("port.stats", Json{{"name", "dpdk0"}});
    ASSERT_TRUE(result.ok()) << result.message();
    EXPECT_EQ(*result, (Json{{"v", 1}}));
  }
  EXPECT_EQ(Json::parse(seen), (Json{{"cmd", "port.stats"}, {"args", {{"name", "dpdk0"}}}}));
}

TEST(ControlClientTest, TimeoutMakesTheConnectionUnusable) {
  TempDir dir;
  std::string path = dir.path() + "/d.sock";
  std::atomic<bool> done{false};
  FakeDaemon daemon(path, [&](int) {
    while (!done.load()) std::this_thread::sleep_for(5ms);
  });
  auto client = ControlClient::connect(path, 200);
  ASSERT_TRUE(client.ok());
  auto t0 = Clock::now();
  auto result = client->call("version");
  auto elapsed = Clock::now() - t0;
  done = true;
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.message(), "timed out after 200 ms waiting for vsgated");
  EXPECT_GE(elapsed, 150ms);
  EXPECT_LT(elapsed, 1000ms);
  EXPECT_FALSE(client->usable());
  EXPECT_EQ(client->call("version").message(),
            "connection to vsgated is closed after an earlier error");
}

TEST(ControlClientTest, EofBeforeReply) {
  TempDir dir;
  std::string path = dir.path() + "/d.sock";
  FakeDaemon daemon(path, [](int fd) { read_request(fd); });
  auto client = ControlClient::connect(path, 2000);
  auto result = client->call("version");
  EXPECT_EQ(result.message(), "vsgated closed the connection");
}

TEST(ControlClientTest, EofInTheMiddleOfAReply) {
  TempDir dir;
  std::string path = dir.path() + "/d.sock";
  FakeDaemon daemon(path, [](int fd) {
    read_request(fd);
    send_all(fd, "{\"ok\":tr");
  });
  auto client = ControlClient::connect(path, 2000);
  EXPECT_EQ(client->call("version").message(),
            "vsgated closed the connection in the middle of a reply");
}

TEST(ControlClientTest, GarbageReplies) {
  struct Case {
    const char* reply;
    const char* message;
  };
  for (const Case& c : {Case{"garbage\n", "malformed reply from vsgated (not a JSON object)"},
                        Case{"[1]\n", "malformed reply from vsgated (not a JSON object)"},
                        Case{"{\"result\":1}\n", "malformed reply from vsgated (no boolean 'ok')"},
                        Case{"{\"ok\":true}\n", "malformed reply from vsgated (no 'result')"},
                        Case{"{\"ok\":false}\n", "version failed (vsgated gave no reason)"}}) {
    TempDir dir;
    std::string path = dir.path() + "/d.sock";
    FakeDaemon daemon(path, [&](int fd) {
      read_request(fd);
      send_all(fd, c.reply);
    });
    auto client = ControlClient::connect(path, 2000);
    auto result = client->call("version");
    ASSERT_FALSE(result.ok()) << c.reply;
    EXPECT_EQ(result.message(), c.message) << c.reply;
  }
}

}  // namespace
}  // namespace vsgate
