// The daemon side of the control socket: a non-blocking Unix stream server that reads request
// lines, dispatches them through a CommandTable and writes the replies, without ever blocking on
// a client. Single-threaded: call poll() from the thread that owns the server (vsgated's main
// lcore loop), either periodically or when fd() becomes readable in the caller's own epoll.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "ctrl/protocol.h"

namespace vsgate {

struct ControlServerOptions {
  std::string path = "/run/vsgate/control.sock";
  mode_t mode = 0660;
  std::string group = "vsgate";      // chown the socket to it when the group exists; "" = don't
  size_t max_request_bytes = 65536;  // longer request line -> error reply, then close
  size_t max_clients = 64;           // further connections get an error reply and are closed
  // A client that is mid-request (or has not read its pending reply) for this long is dropped.
  int client_timeout_ms = 5000;
  // A connection with nothing in flight is closed after this long; 0 = never. Reclaims the slots
  // of leaked connections; clients that keep a connection reconnect on EOF.
  int idle_timeout_ms = 60000;
  // Requests handled per client per poll(), so that one pipelining client cannot starve the
  // others or the caller's loop; the rest is handled on the next poll().
  unsigned max_requests_per_poll = 32;
  // A deferred request (CommandTable::add_deferrable) not completed within this long gets an
  // error reply; the handler's own deadline should come first.
  int deferred_timeout_ms = 30000;
};

struct ControlServerCounters {
  uint64_t requests = 0;           // request lines dispatched (including error replies)
  uint64_t errors = 0;             // error replies sent (bad requests, handler errors, too long)
  uint64_t clients_accepted = 0;   // connections served
  uint64_t clients_rejected = 0;   // connections refused because max_clients were connected
  uint64_t clients_dropped = 0;    // connections closed by the server: timeout, too long, I/O error
  uint64_t clients_active = 0;     // currently connected
  uint64_t deferred = 0;           // requests whose reply was deferred
  uint64_t deferred_orphaned = 0;  // deferred replies dropped: the client had gone
};

class ControlServer {
 public:
  // Creates the parent directory (0755) if missing, replaces a stale socket file (one nothing
  // answers on), binds, sets mode and group, then listens. Fails if a live server answers on
  // the path ("another vsgated is listening on PATH") or if the path is not a socket.
  static Result<std::unique_ptr<ControlServer>> listen(const ControlServerOptions& options);

  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;
  // Closes all connections and unlinks the socket path (if it is still ours).
  ~ControlServer();

  // Register handlers here before (or between) poll() calls.
  CommandTable& commands() { return commands_; }
  const CommandTable& commands() const { return commands_; }

  // Serves whatever is ready: accepts, reads, dispatches, writes, expires timed-out clients.
  // Waits at most timeout_ms for something to happen (0 = don't wait, <0 = until something
  // happens, which includes a client deadline passing). Handlers run inline.
  void poll(int timeout_ms);

  // An epoll fd that is readable whenever poll() has work: a connection, client I/O, a client
  // deadline that has passed, or requests left over from the per-poll budget. Put it in the
  // caller's epoll set and call poll(0) when it is readable.
  int fd() const { return epoll_.get(); }

  // The reply to a deferred request (CommandTable::add_deferrable). Meanwhile the server
  // serves other clients, but reads no further request from this one. Call from the thread
  // that polls, not from inside the deferring handler. False when the client has gone (or
  // timed out): the result is dropped.
  bool complete(uint64_t token, const Result<Json>& result);

  const std::string& path() const { return options_.path; }
  const ControlServerCounters& counters() const { return counters_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Client;

  explicit ControlServer(const ControlServerOptions& options);

  void accept_clients();
  void reject(UniqueFd fd);
  void set_listen_interest(uint32_t events);
  // Each returns false when the client was closed (and destroyed).
  bool on_client_event(Client& client, uint32_t events);
  bool read_input(Client& client);
  bool process_input(Client& client);
  bool flush_output(Client& client);
  bool settle(Client& client);
  void queue_reply(Client& client, const std::string& line, bool ok);
  void update_interest(Client& client);
  Clock::time_point deadline(const Client& client) const;
  void close_client(Client& client, bool dropped);
  void expire_clients(Clock::time_point now);
  void arm_timer();

  ControlServerOptions options_;
  CommandTable commands_;
  UniqueFd listen_;
  UniqueFd epoll_;
  UniqueFd timer_;        // timerfd in the epoll set: fires at the next client deadline
  dev_t socket_dev_ = 0;  // identity of the socket file we bound, so we unlink only our own
  ino_t socket_ino_ = 0;
  std::optional<Clock::time_point> accept_resume_;  // accepting paused after EMFILE until then
  bool accept_failing_ = false;
  uint64_t generation_ = 0;      // poll() calls, to handle each client once per call
  uint64_t next_client_id_ = 2;  // 0 = listen socket, 1 = timer in epoll data
  uint64_t next_token_ = 1;      // deferred replies; 0 = none
  std::unordered_map<uint64_t, std::unique_ptr<Client>> clients_;
  std::vector<char> read_buffer_;
  ControlServerCounters counters_;
};

}  // namespace vsgate
