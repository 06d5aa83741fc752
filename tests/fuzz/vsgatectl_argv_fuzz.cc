// vsgatectl's command line (daemon/vsgatectl/cli.h, and ipvsadm.h behind it). The input is
// argv (without argv[0]) as NUL-separated strings. The parse never throws or crashes; it
// either succeeds or fails with a message; it is deterministic. A success names a socket and a
// positive timeout; a protocol command has a name and object args, and its request line is
// one line of JSON; an ipvsadm invocation (other than -h/-v) says which request it makes.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "vsgatectl/cli.h"

namespace vsgate::vsgatectl {
namespace {

void fuzz_one(std::string_view text) {
  std::vector<std::string> args;
  if (!text.empty()) {
    for (;;) {
      const size_t z = text.find('\0');
      args.emplace_back(text.substr(0, z));
      if (z == std::string_view::npos) break;
      text.remove_prefix(z + 1);
    }
  }
  const char* env = args.size() % 3 == 1 ? "/tmp/fuzz.sock" : nullptr;
  const auto r = parse_command_line(args, env);
  const auto again = parse_command_line(args, env);
  FUZZ_CHECK(r.ok() == again.ok(), "the parse is not deterministic");
  if (!r) {
    FUZZ_CHECK(!r.message().empty(), "an error without a message");
    FUZZ_CHECK(r.message() == again.message(), "the parse is not deterministic");
    return;
  }
  const Invocation& inv = *r;
  FUZZ_CHECK(!inv.global.socket.empty(), "no socket");
  FUZZ_CHECK(inv.global.timeout_ms > 0, "timeout %d ms", inv.global.timeout_ms);
  FUZZ_CHECK(inv.command == again->command && inv.args == again->args,
             "the parse is not deterministic");
  if (inv.mode == Mode::command ||
      (inv.mode == Mode::ipvsadm && !inv.ipvsadm.help && !inv.ipvsadm.version)) {
    FUZZ_CHECK(!inv.command.empty(), "a command without a name");
    FUZZ_CHECK(inv.args.is_object(), "args are not an object");
    const std::string line = dump_line(Json{{"cmd", inv.command}, {"args", inv.args}});
    FUZZ_CHECK(line.find('\n') == std::string::npos, "the request is not one line");
  }
}

}  // namespace
}  // namespace vsgate::vsgatectl

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vsgate::vsgatectl::fuzz_one(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
