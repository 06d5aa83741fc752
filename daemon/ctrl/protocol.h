// The control protocol (docs/CONTROL_PROTOCOL.md): one JSON object per line,
//   request {"cmd": "port.stats", "args": {...}}  ->  reply {"ok": true, "result": {...}}
//                                                  or {"ok": false, "error": "..."}.
// CommandTable maps command names to handlers and turns one request line into one reply line.
// It knows nothing about sockets, so it is tested (and usable) without one.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace vsgate {

using Json = nlohmann::json;

// A handler gets the request's "args" (always an object; {} when the request had none) and
// returns the "result" value, or an Error whose message becomes the reply's "error". Handlers
// may throw (e.g. nlohmann type errors on malformed args): dispatch turns that into an error
// reply, but a clear message from the arg helpers below is better.
using CommandHandler = std::function<Result<Json>(const Json& args)>;

// A handler whose result may come later (it needs the workers, say). It answers now with a
// value or an Error, or defers with std::nullopt: it keeps `token` and, later, from the thread
// that polls the server, passes the result to ControlServer::complete(token, ...). Token 0
// means no server can take a deferred reply (CommandTable used on its own): answer now.
using DeferrableHandler =
    std::function<Result<std::optional<Json>>(const Json& args, uint64_t token)>;

// Serialized reply lines, without the trailing '\n'. Invalid UTF-8 in strings is replaced
// (U+FFFD) rather than throwing, so building a reply never fails.
std::string ok_reply(const Json& result);
std::string error_reply(std::string_view message);

// Serializes a value as a compact single line (invalid UTF-8 replaced); never throws.
std::string dump_line(const Json& value);

// Argument accessors for handlers. Absent or null -> nullopt; present with the wrong type ->
// Error "argument 'name' must be a string". `args` must be an object (dispatch guarantees it).
Result<std::optional<std::string>> optional_string_arg(const Json& args, std::string_view key);
Result<std::string> required_string_arg(const Json& args, std::string_view key);
Result<std::optional<uint64_t>> optional_uint_arg(const Json& args, std::string_view key);
Result<std::optional<bool>> optional_bool_arg(const Json& args, std::string_view key);

class CommandTable {
 public:
  struct Reply {
    std::string line;  // serialized reply, without '\n'; empty when deferred
    bool ok = false;
    bool deferred = false;  // the handler kept the token and completes later
  };

  // Registers (or replaces) a handler. Names are dotted lower case by convention: "port.show".
  void add(std::string name, CommandHandler handler);
  void add_deferrable(std::string name, DeferrableHandler handler);
  bool contains(std::string_view name) const;

  // Handles one request line (without its '\n'; a trailing '\r' or blank space is fine) and
  // returns the reply line, without '\n'. Never throws: every failure is an error reply.
  std::string dispatch(std::string_view request_line) const { return handle(request_line).line; }
  // Same, also telling whether the reply is an error (the server counts those).
  // `token` is handed to deferrable handlers (0: none may defer).
  Reply handle(std::string_view request_line, uint64_t token = 0) const;

 private:
  std::map<std::string, DeferrableHandler, std::less<>> handlers_;
};

}  // namespace vsgate
