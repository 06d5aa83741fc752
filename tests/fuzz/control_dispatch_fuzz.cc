// Control dispatch (daemon/ctrl/protocol.h CommandTable, daemon/app/commands/): the input is a
// sequence of request lines, handled one after the other through the real command modules the
// daemon registers (version/status, lb.*, the host-mirror commands) over a real LbControl
// (model + registry, 2 workers, ports dpdk0/dpdk1) and HostStackMirror, as app_command_tests
// set them up (no EAL). Invariants: exactly one reply per request line, never deferred (no
// socket here), a single line of JSON, an object with a boolean "ok" that matches the
// reply's flag, a "result" when ok, a non-empty string "error" otherwise; whatever the
// requests did, lb.list still answers with services unique by (proto, vip, port) and real
// servers unique within each.
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <tuple>

#include "app/clock.h"
#include "app/commands/daemon_commands.h"
#include "app/commands/host_commands.h"
#include "app/commands/lb_commands.h"
#include "app/conn_listing.h"
#include "app/lb_control.h"
#include "app/neighbour_resolver.h"
#include "common/log.h"
#include "fuzz_check.h"
#include "kni/mirror/host_stack.h"

namespace vsgate {
namespace {

struct World {
  World()
      : lb(
            2, resolver, [] {}, 1000),
        listing({}) {
    lb.set_ports({{"dpdk0", 0}, {"dpdk1", 1}});
    mirror.track(10, 0, "dpdk0.kni");
    mirror.track(11, 1, "dpdk1.kni");
    register_daemon_commands(table, {{1000, monotonic_us(), 2, 2}, lb});
    register_lb_commands(table, {lb, listing});
    register_host_commands(table, {mirror,
                                   {[](uint16_t id) {
                                      return id == 0 ? "dpdk0" : id == 1 ? "dpdk1" : "?";
                                    },
                                    [](uint16_t id) { return id == 0 ? "dpdk0.kni" : ""; }}});
  }
  NeighbourResolver resolver;
  LbControl lb;
  ConnListing listing;
  HostStackMirror mirror;
  CommandTable table;
};

Json check_reply(const CommandTable::Reply& r, std::string_view request) {
  FUZZ_CHECK(!r.deferred && !r.line.empty(), "no reply to '%.*s'", int(request.size()),
             request.data());
  FUZZ_CHECK(r.line.find('\n') == std::string::npos, "a reply of several lines");
  const Json j = Json::parse(r.line, nullptr, false);
  FUZZ_CHECK(!j.is_discarded() && j.is_object(), "the reply is not a JSON object: %s",
             r.line.c_str());
  const auto ok = j.find("ok");
  FUZZ_CHECK(ok != j.end() && ok->is_boolean() && ok->get<bool>() == r.ok, "bad 'ok': %s",
             r.line.c_str());
  if (r.ok) {
    FUZZ_CHECK(j.contains("result"), "ok without a result: %s", r.line.c_str());
  } else {
    const auto e = j.find("error");
    FUZZ_CHECK(e != j.end() && e->is_string() && !e->get<std::string>().empty(),
               "an error without a message: %s", r.line.c_str());
  }
  return j;
}

void check_list(const World& w) {
  const auto r = w.table.handle(R"({"cmd":"lb.list"})");
  const Json j = check_reply(r, "lb.list");
  FUZZ_CHECK(r.ok, "lb.list failed: %s", r.line.c_str());
  std::set<std::tuple<std::string, std::string, int64_t>> services;
  for (const Json& s : j["result"]["services"]) {
    FUZZ_CHECK(services
                   .insert({s["proto"].get<std::string>(), s["vip"].get<std::string>(),
                            s["port"].get<int64_t>()})
                   .second,
               "a service listed twice: %s", s.dump().c_str());
    std::set<std::pair<std::string, int64_t>> reals;
    for (const Json& rs : s["reals"])
      FUZZ_CHECK(reals.insert({rs["rip"].get<std::string>(), rs["rport"].get<int64_t>()}).second,
                 "a real server listed twice: %s", rs.dump().c_str());
  }
}

void run(std::string_view text) {
  static const bool quiet = [] {
    set_log_level(LogLevel::error);
    return true;
  }();
  (void)quiet;
  World w;
  size_t requests = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    check_reply(w.table.handle(line), line);
    if (++requests % 8 == 0) check_list(w);
  }
  check_list(w);
}

}  // namespace
}  // namespace vsgate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vsgate::run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
