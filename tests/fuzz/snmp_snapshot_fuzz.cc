// vsgate-snmp's snapshot parser (snmp/snapshot.h). The input is up to five lines, the "result"
// objects of status, port.show, port.stats, lcore.stats and lb.list; a line that is not JSON is
// passed as a JSON string. No crash (nor an exception); a refusal has a message; an accepted
// snapshot is well-formed: reachable, ports and lcores ordered by index from 1, unique port
// indexes, ports within 1..65536, service and real-server ports as given. RowIndexes gives
// every service and real server an index from 1, sorts by it, gives equal indexes only to equal
// keys and the same indexes when the same snapshot comes again.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "snapshot.h"

namespace vsgate::snmp {
namespace {

Json as_json(std::string_view line) {
  Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Json(std::string(line));
  return j;
}

void check_indexes(const Snapshot& s) {
  for (size_t i = 0; i < s.services.size(); ++i) {
    const ServiceRow& a = s.services[i];
    FUZZ_CHECK(a.index >= 1, "service index 0");
    if (i > 0) {
      const ServiceRow& p = s.services[i - 1];
      FUZZ_CHECK(p.index <= a.index, "services not sorted by index");
      FUZZ_CHECK(p.index != a.index || (p.proto == a.proto && p.addr == a.addr && p.port == a.port),
                 "two services share index %u", a.index);
    }
    for (size_t k = 0; k < a.reals.size(); ++k) {
      FUZZ_CHECK(a.reals[k].index >= 1, "real index 0");
      if (k > 0) {
        const RealRow& p = a.reals[k - 1];
        FUZZ_CHECK(p.index <= a.reals[k].index, "reals not sorted by index");
        FUZZ_CHECK(
            p.index != a.reals[k].index || (p.addr == a.reals[k].addr && p.port == a.reals[k].port),
            "two reals share index %u", p.index);
      }
    }
  }
}

void run(std::string_view text) {
  Json parts[5];
  for (int i = 0; i < 5 && !text.empty(); ++i) {
    const size_t nl = text.find('\n');
    parts[i] = as_json(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
  }
  const DaemonReplies r{parts[0], parts[1], parts[2], parts[3], parts[4]};
  auto s = parse_snapshot(r);
  if (!s) {
    FUZZ_CHECK(!s.message().empty(), "a refusal without a message");
    return;
  }
  FUZZ_CHECK(s->reachable && s->error.empty(), "accepted but not reachable");
  for (size_t i = 0; i < s->ports.size(); ++i) {
    FUZZ_CHECK(s->ports[i].index >= 1 && s->ports[i].index <= 65536, "port index %u",
               s->ports[i].index);
    FUZZ_CHECK(i == 0 || s->ports[i - 1].index < s->ports[i].index, "ports not ordered");
  }
  for (size_t i = 0; i < s->lcores.size(); ++i) {
    FUZZ_CHECK(s->lcores[i].index >= 1 && s->lcores[i].index <= 1024, "lcore index %u",
               s->lcores[i].index);
    FUZZ_CHECK(i == 0 || s->lcores[i - 1].index <= s->lcores[i].index, "lcores not sorted");
  }
  for (const auto& svc : s->services)
    FUZZ_CHECK(svc.proto == Protocol::tcp || svc.proto == Protocol::udp, "protocol");
  (void)s->total_conns();
  (void)s->current_conns();

  RowIndexes indexes;
  Snapshot first = *s;
  indexes.assign(first);
  check_indexes(first);
  Snapshot second = *s;
  indexes.assign(second);
  check_indexes(second);
  FUZZ_CHECK(first.services.size() == second.services.size(), "assign changed the rows");
  for (size_t i = 0; i < first.services.size(); ++i) {
    FUZZ_CHECK(first.services[i].index == second.services[i].index &&
                   first.services[i].port == second.services[i].port,
               "the same snapshot got other indexes");
    for (size_t k = 0; k < first.services[i].reals.size(); ++k)
      FUZZ_CHECK(first.services[i].reals[k].index == second.services[i].reals[k].index,
                 "the same snapshot got other real-server indexes");
  }
}

}  // namespace
}  // namespace vsgate::snmp

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vsgate::snmp::run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
