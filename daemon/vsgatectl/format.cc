#include "vsgatectl/format.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <utility>

namespace vsgate::vsgatectl {
namespace {

using Align = Table::Align;

const Json& empty_array() {
  static const Json kEmpty = Json::array();
  return kEmpty;
}

const Json& field(const Json& obj, const char* key) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

const Json& list(const Json& obj, const char* key) {
  const Json& v = field(obj, key);
  return v.is_array() ? v : empty_array();
}

std::string fixed2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

// Any scalar as text; "" and absent both become `dflt` so that empty columns stay visible.
std::string scalar(const Json& v, const char* dflt = "-") {
  switch (v.type()) {
    case Json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      return s.empty() ? dflt : s;
    }
    case Json::value_t::number_unsigned:
      return std::to_string(v.get<uint64_t>());
    case Json::value_t::number_integer:
      return std::to_string(v.get<int64_t>());
    case Json::value_t::number_float:
      return fixed2(v.get<double>());
    case Json::value_t::boolean:
      return v.get<bool>() ? "yes" : "no";
    case Json::value_t::null:
    case Json::value_t::discarded:
      return dflt;
    default:
      return v.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
}

std::string text(const Json& obj, const char* key, const char* dflt = "-") {
  return scalar(field(obj, key), dflt);
}

double real(const Json& v) { return v.is_number() ? v.get<double>() : 0.0; }

bool is_zero(const Json& v) {
  return (v.is_number_unsigned() && v.get<uint64_t>() == 0) ||
         (v.is_number_integer() && v.get<int64_t>() == 0) ||
         (v.is_number_float() && v.get<double>() == 0.0);
}

// The footer of `route show` / `neigh show`: the state of the table the workers use, from
// daemons that send it ("fib").
std::string fib_footer(const Json& result, const char* what) {
  const Json& fib = field(result, "fib");
  if (!fib.is_object()) return "";
  std::string out = std::string("\n") + what + " in the data plane: ";
  if (text(fib, "state") == "ok")
    return out + text(fib, "installed") + " (in step with the host)\n";
  out += text(fib, "installed") + " of " + text(fib, "wanted") + ", STALE";
  const Json& since = field(fib, "stale_since_us");
  if (since.is_number_unsigned() && since.get<uint64_t>() > 0) {
    const time_t t = static_cast<time_t>(since.get<uint64_t>() / 1000000);
    struct tm tm {};
    char buf[64];
    if (gmtime_r(&t, &tm) && std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm))
      out += std::string(" since ") + buf;
  }
  out += " (the last good table is kept): " + text(fib, "reason") + "\n" + "  " +
         text(fib, "failed_builds") + " failed builds, next retry in " + text(fib, "retry_in_ms") +
         " ms\n";
  return out;
}

}  // namespace

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string Table::render(bool headers, std::string_view indent) const {
  std::vector<size_t> widths(columns_.size(), 0);
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (headers) widths[c] = columns_[c].header.size();
    for (const auto& row : rows_) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& cells) {
    std::string line(indent);
    for (size_t c = 0; c < columns_.size(); ++c) {
      const std::string& cell = cells[c];
      size_t pad = widths[c] - cell.size();
      if (c > 0) line += "  ";
      if (columns_[c].align == Align::right) line.append(pad, ' ');
      line += cell;
      if (columns_[c].align == Align::left) line.append(pad, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line;
    out += '\n';
  };
  if (headers) {
    std::vector<std::string> header_cells;
    for (const auto& col : columns_) header_cells.push_back(col.header);
    emit(header_cells);
  }
  for (const auto& row : rows_) emit(row);
  return out;
}

std::string format_speed(const Json& speed_mbps) {
  if (!speed_mbps.is_number_integer() || speed_mbps.get<int64_t>() < 0) return "-";
  uint64_t mbps = speed_mbps.get<uint64_t>();
  // 0 is "no link", UINT32_MAX is DPDK's RTE_ETH_SPEED_NUM_UNKNOWN.
  if (mbps == 0 || mbps == 0xffffffffu) return "-";
  if (mbps < 1000) return std::to_string(mbps) + "M";
  if (mbps % 1000 == 0) return std::to_string(mbps / 1000) + "G";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1fG", static_cast<double>(mbps) / 1000.0);
  return buf;
}

std::string format_percent(double ratio) {
  double pct = ratio * 100.0;
  // A few drops in billions of packets must not print as a reassuring "0.00%".
  if (pct > 0.0 && pct < 0.01) return "<0.01%";
  return fixed2(pct) + "%";
}

std::string format_version(const Json& result) {
  return "vsgated " + text(result, "version") + " (" + text(result, "dpdk") + ")\n";
}

std::string format_port_show(const Json& result) {
  Table table({{"ID", Align::right},
               {"NAME"},
               {"DRIVER"},
               {"MAC"},
               {"MTU", Align::right},
               {"LINK"},
               {"SPEED", Align::right},
               {"RXQ", Align::right},
               {"TXQ", Align::right},
               {"KNI"}});
  for (const Json& port : list(result, "ports")) {
    const Json& link = field(port, "link_up");
    table.add_row({text(port, "id"), text(port, "name"), text(port, "driver"), text(port, "mac"),
                   text(port, "mtu"), link.is_boolean() ? (link.get<bool>() ? "up" : "down") : "-",
                   format_speed(field(port, "speed_mbps")), text(port, "rx_queues"),
                   text(port, "tx_queues"), text(port, "kni")});
  }
  return table.render();
}

std::string format_port_stats(const Json& result) {
  static const char* const kCounters[] = {"ipackets", "opackets", "ibytes",  "obytes",
                                          "imissed",  "ierrors",  "oerrors", "rx_nombuf"};
  std::string out;
  for (const Json& port : list(result, "ports")) {
    if (!out.empty()) out += '\n';
    out += text(port, "name") + " (port " + text(port, "id") + ")\n";
    Table counters({{""}, {"", Align::right}});
    for (const char* name : kCounters) counters.add_row({name, text(port, name)});
    const Json& ratio = field(port, "nic_drop_ratio");
    counters.add_row({"nic_drop_ratio", ratio.is_number() ? format_percent(real(ratio)) : "-"});
    out += counters.render(false, "  ");
    const Json& xstats = field(port, "xstats");
    if (xstats.is_object() && !xstats.empty()) {
      out += "  xstats:\n";
      Table x({{""}, {"", Align::right}});
      for (const auto& [name, value] : xstats.items()) x.add_row({name, scalar(value)});
      out += x.render(false, "    ");
    }
  }
  return out;
}

std::string format_lcore_stats(const Json& result) {
  Table main({{"LCORE", Align::right},
              {"WORKER", Align::right},
              {"RX-ITER", Align::right},
              {"RX-PKTS", Align::right},
              {"AVG-BURST", Align::right},
              {"TX-PKTS", Align::right},
              {"TX-DROP", Align::right},
              {"PUNT", Align::right},
              {"PUNT-DROP", Align::right},
              {"INJECT", Align::right},
              {"INJECT-DROP", Align::right},
              {"FWD", Align::right},
              {"DROP", Align::right}});
  Table queues(
      {{"LCORE", Align::right}, {"PORT"}, {"QUEUE", Align::right}, {"PACKETS", Align::right}});
  Table drops({{"LCORE", Align::right}, {"REASON"}, {"PACKETS", Align::right}});
  Table lb({{"LCORE", Align::right},
            {"CONNS", Align::right},
            {"CAPACITY", Align::right},
            {"CREATED", Align::right},
            {"LPORT-USED", Align::right},
            {"LPORT-FREE", Align::right},
            {"LPORT-MISS", Align::right},
            {"ICMP-XLATE", Align::right},
            {"FRAG-NEEDED", Align::right}});
  auto add_counters = [&main](std::string lcore, std::string worker, const Json& lc) {
    const Json& avg = field(lc, "avg_rx_burst");
    main.add_row({std::move(lcore), std::move(worker), text(lc, "rx_iterations"),
                  text(lc, "rx_packets"), avg.is_number() ? fixed2(real(avg)) : "-",
                  text(lc, "tx_packets"), text(lc, "tx_drops"), text(lc, "punted"),
                  text(lc, "punt_drops"), text(lc, "injected"), text(lc, "inject_drops"),
                  text(lc, "forwarded"), text(lc, "dropped_total")});
  };
  for (const Json& lc : list(result, "lcores")) {
    add_counters(text(lc, "lcore"), text(lc, "worker"), lc);
    for (const Json& q : list(lc, "rx_queues")) {
      queues.add_row({text(lc, "lcore"), text(q, "port"), text(q, "queue"), text(q, "packets")});
    }
    const Json& dropped = field(lc, "dropped");
    if (dropped.is_object()) {
      for (const auto& [reason, count] : dropped.items()) {
        if (!is_zero(count)) drops.add_row({text(lc, "lcore"), reason, scalar(count)});
      }
    }
    if (const Json& l = field(lc, "lb"); l.is_object() && !l.empty())
      lb.add_row({text(lc, "lcore"), text(l, "conns"), text(l, "conn_capacity"),
                  text(l, "conns_created"), text(l, "lport_used"), text(l, "lport_free"),
                  text(l, "lport_misses"), text(l, "icmp_translated"),
                  text(l, "frag_needed_sent")});
  }
  // Sums over all workers, from daemons that send them.
  if (const Json& total = field(result, "total"); total.is_object())
    add_counters("total", "", total);
  std::string out = main.render();
  if (queues.rows() > 0) out += "\nrx queues:\n" + queues.render();
  out += drops.rows() > 0 ? "\ndrops by reason:\n" + drops.render() : "\ndrops by reason: none\n";
  if (lb.rows() > 0) out += "\nload balancer:\n" + lb.render();
  const Json& ep = field(result, "exception_path");
  if (ep.is_object()) {
    out += "\nexception path: to host " + text(ep, "to_host") + " (drops " +
           text(ep, "to_host_drops") + "), from host " + text(ep, "from_host") + " (drops " +
           text(ep, "from_host_drops") + ")\n";
  }
  return out;
}

std::string format_neigh_show(const Json& result) {
  Table table({{"IP"}, {"MAC"}, {"PORT"}, {"KNI"}});
  for (const Json& n : list(result, "neighbours")) {
    table.add_row({text(n, "ip"), text(n, "mac"), text(n, "port"), text(n, "kni")});
  }
  return table.render() + fib_footer(result, "neighbours");
}

std::string format_route_show(const Json& result) {
  Table table({{"PREFIX"}, {"GATEWAY"}, {"PORT"}, {"KNI"}});
  for (const Json& r : list(result, "routes")) {
    table.add_row({text(r, "prefix"), text(r, "gateway"), text(r, "port"), text(r, "kni")});
  }
  return table.render() + fib_footer(result, "routes");
}

std::string format_addr_show(const Json& result) {
  Table table({{"ADDRESS"}, {"PORT"}, {"KNI"}});
  for (const Json& a : list(result, "addresses")) {
    table.add_row({text(a, "address"), text(a, "port"), text(a, "kni")});
  }
  return table.render();
}

std::string format_json(const Json& result) {
  try {
    return result.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  } catch (...) {
    return "null\n";
  }
}

std::string format_result(std::string_view cmd, const Json& result) {
  try {
    if (cmd == "version") return format_version(result);
    if (cmd == "port.show") return format_port_show(result);
    if (cmd == "port.stats") return format_port_stats(result);
    if (cmd == "lcore.stats") return format_lcore_stats(result);
    if (cmd == "neigh.show") return format_neigh_show(result);
    if (cmd == "route.show") return format_route_show(result);
    if (cmd == "addr.show") return format_addr_show(result);
  } catch (...) {
    // Only allocation failures; fall back to the raw result.
  }
  return format_json(result);
}

}  // namespace vsgate::vsgatectl
