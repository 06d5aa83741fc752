#include "ipv4/fib_builder.h"

#include <algorithm>
#include <utility>

#include "common/log.h"

namespace vsgate {
namespace {

const std::vector<FibRoute>& entries(const RouteTable& t) { return t.routes(); }
const std::vector<FibNeighbour>& entries(const NeighbourTable& t) { return t.neighbours(); }

void mark_ok(FibTableStatus& s, size_t installed) {
  s.ok = true;
  s.installed = installed;
  s.stale_since_us = 0;
  s.failed_builds = 0;
  s.reason.clear();
  s.retry_at_us = 0;
}

}  // namespace

template <class Table, class Entries>
std::shared_ptr<const Table> FibBuilder::table(const char* what, const Entries& wanted,
                                               const std::shared_ptr<const Table>& current,
                                               FibTableStatus& status, Attempt& attempt,
                                               uint64_t now_mono, uint64_t now_unix) {
  status.wanted = wanted.size();
  if (current && entries(*current) == wanted) {
    if (!status.ok)
      VSG_LOG(info, "forwarding %s: in step with the host again (%zu), after %lu failed builds",
              what, wanted.size(), static_cast<unsigned long>(status.failed_builds));
    mark_ok(status, wanted.size());
    attempt.backoff_us = 0;
    attempt.log.reset();
    attempt.held = false;
    return current;
  }
  if (!status.ok && now_mono < status.retry_at_us) return current;  // backing off
  attempt.held = current && now_mono < attempt.next_build_us;
  if (attempt.held) return current;  // built a moment ago: this change waits a little
  attempt.next_build_us = now_mono + attempt.min_interval_us;
  auto built = Table::build(wanted, limits_);
  if (built) {
    if (!status.ok)
      VSG_LOG(info, "forwarding %s: rebuilt with %zu entries after %lu failed builds", what,
              wanted.size(), static_cast<unsigned long>(status.failed_builds));
    mark_ok(status, wanted.size());
    attempt.backoff_us = 0;
    attempt.log.reset();
    return std::move(built.value());
  }
  if (status.ok) status.stale_since_us = now_unix;
  status.ok = false;
  ++status.failed_builds;
  status.reason = built.message();
  status.installed = current ? entries(*current).size() : 0;
  attempt.backoff_us =
      attempt.backoff_us ? std::min(attempt.backoff_us * 2, kRetryMaxUs) : kRetryMinUs;
  status.retry_at_us = now_mono + attempt.backoff_us;
  uint64_t suppressed = 0;
  if (attempt.log.allow(now_mono, suppressed))
    VSG_LOG(error,
            "forwarding %s: build failed, the workers keep the last good table (%zu of %zu "
            "entries), retry in %lu s: %s%s",
            what, status.installed, wanted.size(),
            static_cast<unsigned long>(attempt.backoff_us / 1000000), status.reason.c_str(),
            suppressed_note(suppressed).c_str());
  return current;
}

std::unique_ptr<const Fib> FibBuilder::next(const FibInput& in, const Fib* current, bool changed,
                                            uint64_t now_mono_us, uint64_t now_unix_us) {
  static const std::shared_ptr<const RouteTable> no_routes;
  static const std::shared_ptr<const NeighbourTable> no_neighbours;
  auto routes = table<RouteTable>("routes", in.routes, current ? current->route_table() : no_routes,
                                  status_.routes, routes_attempt_, now_mono_us, now_unix_us);
  auto neighbours = table<NeighbourTable>(
      "neighbours", in.neighbours, current ? current->neighbour_table() : no_neighbours,
      status_.neighbours, neighbours_attempt_, now_mono_us, now_unix_us);
  // Nothing built yet and the first build failed: start from an empty table.
  if (!routes) {
    auto empty = RouteTable::build({}, limits_);
    if (!empty) return nullptr;
    routes = std::move(empty.value());
  }
  if (!neighbours) {
    auto empty = NeighbourTable::build({}, limits_);
    if (!empty) return nullptr;
    neighbours = std::move(empty.value());
  }
  if (current && !changed && routes == current->route_table() &&
      neighbours == current->neighbour_table())
    return nullptr;
  ++status_.published;
  return Fib::assemble(in, std::move(routes), std::move(neighbours));
}

}  // namespace vsgate
