#include "ctrl/protocol.h"

#include <algorithm>
#include <exception>
#include <utility>

namespace vsgate {
namespace {

// Echoed names are cut so that a 64 KiB "cmd" does not come back as a 64 KiB error.
constexpr size_t kMaxEchoedName = 64;
constexpr const char* kSerializeError =
    R"({"ok":false,"error":"internal error: cannot serialize reply"})";

// nlohmann parses iteratively, but copying, comparing and dumping a value recurse: a request
// nested thousands of levels deep must not get that far (it overflows the stack).
constexpr int kMaxNesting = 64;

// The deepest [ / { nesting outside strings; stops counting once past kMaxNesting.
int nesting_depth(std::string_view text) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
      if (max_depth > kMaxNesting) break;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

std::string quote_name(std::string_view name) {
  if (name.size() <= kMaxEchoedName) return "'" + std::string(name) + "'";
  return "'" + std::string(name.substr(0, kMaxEchoedName)) + "...'";
}

Error type_error(std::string_view key, const char* what) {
  return make_error("argument " + quote_name(key) + " must be " + what);
}

const Json* find_arg(const Json& args, std::string_view key) {
  if (!args.is_object()) return nullptr;
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) return nullptr;
  return &*it;
}

// Throws only bad_alloc: invalid UTF-8 is replaced with U+FFFD instead of throwing type_error.
std::string compact(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

CommandTable::Reply error(std::string_view message) { return {error_reply(message), false}; }

}  // namespace

std::string dump_line(const Json& value) {
  try {
    return compact(value);
  } catch (...) {
    return "null";  // only bad_alloc is possible with the replace handler
  }
}

// Built by hand so that "ok" comes first, as in the protocol document (nlohmann sorts keys).
std::string ok_reply(const Json& result) {
  try {
    return R"({"ok":true,"result":)" + compact(result) + "}";
  } catch (...) {
    return kSerializeError;
  }
}

std::string error_reply(std::string_view message) {
  try {
    return R"({"ok":false,"error":)" + compact(Json(std::string(message))) + "}";
  } catch (...) {
    return kSerializeError;
  }
}

Result<std::optional<std::string>> optional_string_arg(const Json& args, std::string_view key) {
  const Json* v = find_arg(args, key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return type_error(key, "a string");
  return std::optional<std::string>(v->get<std::string>());
}

Result<std::string> required_string_arg(const Json& args, std::string_view key) {
  auto v = optional_string_arg(args, key);
  if (!v) return v.error();
  if (!v->has_value()) return make_error("missing argument " + quote_name(key));
  return std::move(**v);
}

Result<std::optional<uint64_t>> optional_uint_arg(const Json& args, std::string_view key) {
  const Json* v = find_arg(args, key);
  if (v == nullptr) return std::optional<uint64_t>();
  // Parsed non-negative integers are unsigned, but values built in C++ from int are signed.
  if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<int64_t>() >= 0)) {
    return type_error(key, "a non-negative integer");
  }
  return std::optional<uint64_t>(v->get<uint64_t>());
}

Result<std::optional<bool>> optional_bool_arg(const Json& args, std::string_view key) {
  const Json* v = find_arg(args, key);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_boolean()) return type_error(key, "true or false");
  return std::optional<bool>(v->get<bool>());
}

void CommandTable::add(std::string name, CommandHandler handler) {
  handlers_.insert_or_assign(
      std::move(name),
      [h = std::move(handler)](const Json& args, uint64_t) -> Result<std::optional<Json>> {
        Result<Json> r = h(args);
        if (!r) return r.error();
        return std::optional<Json>(std::move(r.value()));
      });
}

void CommandTable::add_deferrable(std::string name, DeferrableHandler handler) {
  handlers_.insert_or_assign(std::move(name), std::move(handler));
}

bool CommandTable::contains(std::string_view name) const {
  return handlers_.find(name) != handlers_.end();
}

CommandTable::Reply CommandTable::handle(std::string_view request_line, uint64_t token) const {
  try {
    if (nesting_depth(request_line) > kMaxNesting) {
      return error("malformed request: nested deeper than " + std::to_string(kMaxNesting) +
                   " levels");
    }
    Json request;
    try {
      request = Json::parse(request_line);
    } catch (const Json::parse_error& e) {
      // e.what() names the byte position and what was expected there.
      return error(std::string("malformed request: ") + e.what());
    }
    if (!request.is_object()) {
      return error(std::string("malformed request: expected a JSON object, got ") +
                   request.type_name());
    }
    auto cmd_it = request.find("cmd");
    if (cmd_it == request.end()) return error("malformed request: missing 'cmd'");
    if (!cmd_it->is_string()) return error("malformed request: 'cmd' must be a string");
    const std::string& cmd = cmd_it->get_ref<const std::string&>();

    static const Json kNoArgs = Json::object();
    const Json* args = &kNoArgs;
    auto args_it = request.find("args");
    if (args_it != request.end() && !args_it->is_null()) {
      if (!args_it->is_object()) {
        return error("malformed request: 'args' must be an object, got " +
                     std::string(args_it->type_name()));
      }
      args = &*args_it;
    }

    auto handler = handlers_.find(cmd);
    if (handler == handlers_.end()) return error("unknown command " + quote_name(cmd));

    try {
      Result<std::optional<Json>> result = handler->second(*args, token);
      if (!result) return error(result.message().empty() ? cmd + " failed" : result.message());
      if (!result.value()) {
        if (token == 0) return error(cmd + ": cannot answer here (needs the control socket)");
        return {std::string(), true, true};
      }
      return {ok_reply(*result.value()), true};
    } catch (const Json::exception& e) {
      // Typically a handler reading args with get<>() on the wrong type.
      return error(cmd + ": bad arguments: " + e.what());
    } catch (const std::exception& e) {
      return error(cmd + ": internal error: " + e.what());
    } catch (...) {
      return error(cmd + ": internal error");
    }
  } catch (...) {
    // bad_alloc while building the error itself: keep the promise of one reply per request.
    return {R"({"ok":false,"error":"internal error"})", false};
  }
}

}  // namespace vsgate
