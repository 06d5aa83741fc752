#include "mib.h"

#include <cstring>
#include <initializer_list>
#include <string>

#include "common/log.h"
#include "values.h"

namespace vsgate::snmp {

// One tdata table: its registration, its rows (pointing into `snap`, which they keep alive) and
// how to fill and read them.
struct TableContext {
  Mib* mib = nullptr;
  const char* name = "";
  unsigned long arc = 0;  // vsgateObjects.arc
  unsigned index_count = 1;
  unsigned max_column = 0;
  void (*fill)(TableContext&, const Snapshot&) = nullptr;
  bool (*column)(const void* row, unsigned col, netsnmp_variable_list* var) = nullptr;

  netsnmp_tdata* tdata = nullptr;
  netsnmp_table_registration_info* info = nullptr;  // ours: unregistering does not free it
  netsnmp_cache* cache = nullptr;
  std::shared_ptr<const Snapshot> snap;

  void clear_rows() {
    if (tdata)
      while (netsnmp_tdata_row* row = netsnmp_tdata_row_first(tdata))
        netsnmp_tdata_remove_and_delete_row(tdata, row);  // row->data is not ours to free
    snap.reset();
  }
  void add_row(const void* data, std::initializer_list<uint32_t> indexes) {
    netsnmp_tdata_row* row = netsnmp_tdata_create_row();
    if (!row) return;
    row->data = const_cast<void*>(data);
    for (uint32_t i : indexes) {
      const u_long v = i;
      netsnmp_tdata_row_add_index(row, ASN_UNSIGNED, &v, sizeof v);
    }
    if (netsnmp_tdata_add_row(tdata, row) != SNMPERR_SUCCESS) {
      VSG_LOG(error, "%s: cannot add a row", name);
      netsnmp_tdata_delete_row(row);
    }
  }
};

namespace {

constexpr size_t kRootLen = std::size(kVsgateMibRoot);

std::vector<oid> object_oid(std::initializer_list<unsigned long> below_root) {
  std::vector<oid> o(std::begin(kVsgateMibRoot), std::end(kVsgateMibRoot));
  o.insert(o.end(), below_root.begin(), below_root.end());
  return o;
}

// Columns shared by the virtual- and real-server tables: 5 Counter64 statistics, 5 Gauge32
// rates, 5 CounterBasedGauge64 rates; `off` counts from the first statistic.
bool stats_column(unsigned off, const Stats& s, const Rates& r, netsnmp_variable_list* var) {
  const uint64_t stats[] = {s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes};
  const uint64_t rates[] = {r.cps, r.inpps, r.outpps, r.inbps, r.outbps};
  if (off < 5) return set_counter64(var, stats[off]) == 0;
  if (off < 10) return set_unsigned(var, ASN_GAUGE, rates[off - 5]) == 0;
  if (off < 15) return set_counter64(var, rates[off - 10]) == 0;
  return false;
}

// ---- vsgatePortTable
void fill_ports(TableContext& t, const Snapshot& s) {
  for (const auto& p : s.ports) t.add_row(&p, {p.index});
}
}  // namespace

bool port_column(const void* row, unsigned col, netsnmp_variable_list* var) {
  const auto& p = *static_cast<const PortRow*>(row);
  switch (col) {
    case 2:
      return set_string(var, p.name) == 0;
    case 3:
      return set_string(var, p.driver) == 0;
    case 4:
      return set_octets(var, p.mac.data(), p.mac.size()) == 0;
    case 5:
      return set_integer(var, p.link_up ? 1 : 2) == 0;
    case 6:
      return set_unsigned(var, ASN_GAUGE, p.speed_mbps) == 0;
  }
  const uint64_t counters[] = {p.ipackets, p.opackets, p.ibytes,  p.obytes,
                               p.imissed,  p.ierrors,  p.oerrors, p.rx_nombuf};
  if (col >= 7 && col < 7 + std::size(counters)) return set_counter64(var, counters[col - 7]) == 0;
  return false;
}

namespace {

// ---- vsgateLcoreTable
void fill_lcores(TableContext& t, const Snapshot& s) {
  for (const auto& l : s.lcores) t.add_row(&l, {l.index});
}
}  // namespace

bool lcore_column(const void* row, unsigned col, netsnmp_variable_list* var) {
  const auto& l = *static_cast<const LcoreRow*>(row);
  if (col == 2) return set_unsigned(var, ASN_UNSIGNED, l.lcore) == 0;
  const uint64_t counters[] = {l.rx_iterations, l.rx_packets, l.tx_packets, l.tx_drops,
                               l.punted,        l.punt_drops, l.injected,   l.inject_drops,
                               l.forwarded,     l.dropped};
  if (col >= 3 && col < 3 + std::size(counters)) return set_counter64(var, counters[col - 3]) == 0;
  return false;
}

namespace {

// ---- vsgateVirtualServerTable
void fill_services(TableContext& t, const Snapshot& s) {
  for (const auto& v : s.services) t.add_row(&v, {v.index});
}
}  // namespace

bool service_column(const void* row, unsigned col, netsnmp_variable_list* var) {
  const auto& v = *static_cast<const ServiceRow*>(row);
  switch (col) {
    case 2:
      return set_integer(var, static_cast<long>(v.proto)) == 0;
    case 3:
      return set_integer(var, inet_address_type(v.addr)) == 0;
    case 4:
      return set_inet_address(var, v.addr) == 0;
    case 5:
      return set_unsigned(var, ASN_UNSIGNED, v.port) == 0;
    case 6:
      return set_string(var, v.scheduler) == 0;
    case 7:
      return set_unsigned(var, ASN_UNSIGNED, v.persistence) == 0;
    case 8:
      return set_unsigned(var, ASN_GAUGE, v.reals.size()) == 0;
  }
  return col >= 9 && stats_column(col - 9, v.stats, v.rates, var);
}

namespace {

// ---- vsgateRealServerTable
void fill_reals(TableContext& t, const Snapshot& s) {
  for (const auto& v : s.services)
    for (const auto& r : v.reals) t.add_row(&r, {v.index, r.index});
}
}  // namespace

bool real_column(const void* row, unsigned col, netsnmp_variable_list* var) {
  const auto& r = *static_cast<const RealRow*>(row);
  switch (col) {
    case 2:
      return set_integer(var, inet_address_type(r.addr)) == 0;
    case 3:
      return set_inet_address(var, r.addr) == 0;
    case 4:
      return set_unsigned(var, ASN_UNSIGNED, r.port) == 0;
    case 5:
      return set_integer(var, static_cast<long>(r.fwd)) == 0;
    case 6:
      return set_unsigned(var, ASN_UNSIGNED, r.weight) == 0;
    case 7:
      return set_unsigned(var, ASN_UNSIGNED, r.upper) == 0;
    case 8:
      return set_unsigned(var, ASN_UNSIGNED, r.lower) == 0;
    case 9:
      return set_unsigned(var, ASN_GAUGE, r.active) == 0;
    case 10:
      return set_unsigned(var, ASN_GAUGE, r.inactive) == 0;
  }
  return col >= 11 && stats_column(col - 11, r.stats, r.rates, var);
}

namespace {

// ---- net-snmp callbacks
int table_load(netsnmp_cache*, void* magic) {
  auto& t = *static_cast<TableContext*>(magic);
  std::shared_ptr<const Snapshot> snap = t.mib->source().get();
  if (snap == t.snap) return 0;  // rows already built from this snapshot
  t.clear_rows();
  t.snap = std::move(snap);
  t.fill(t, *t.snap);
  return 0;
}

void table_free(netsnmp_cache*, void* magic) { static_cast<TableContext*>(magic)->clear_rows(); }

int table_handler(netsnmp_mib_handler* handler, netsnmp_handler_registration*,
                  netsnmp_agent_request_info* reqinfo, netsnmp_request_info* requests) {
  auto& t = *static_cast<TableContext*>(handler->myvoid);
  if (reqinfo->mode != MODE_GET) return SNMP_ERR_NOERROR;  // read-only; GETNEXT arrives as GET
  for (netsnmp_request_info* req = requests; req; req = req->next) {
    if (req->processed) continue;
    const void* row = netsnmp_tdata_extract_entry(req);
    netsnmp_table_request_info* info = netsnmp_extract_table_info(req);
    if (!row || !info || !t.column(row, info->colnum, req->requestvb))
      netsnmp_set_request_error(reqinfo, req, SNMP_NOSUCHINSTANCE);
  }
  return SNMP_ERR_NOERROR;
}

enum Scalar : uintptr_t {
  kVersion = 1,
  kDaemonState = 2,
  kUptime = 3,
  kWorkers = 4,
  kTotalConns = 5,
  kCurrentConns = 6,
  kDiscontinuity = 7,
};

int scalar_handler(netsnmp_mib_handler* handler, netsnmp_handler_registration* reginfo,
                   netsnmp_agent_request_info* reqinfo, netsnmp_request_info* requests) {
  auto& mib = *static_cast<Mib*>(handler->myvoid);
  const auto which = reinterpret_cast<uintptr_t>(reginfo->my_reg_void);
  if (reqinfo->mode != MODE_GET) return SNMP_ERR_NOERROR;
  const std::shared_ptr<const Snapshot> s = mib.source().get();
  for (netsnmp_request_info* req = requests; req; req = req->next) {
    if (req->processed) continue;
    netsnmp_variable_list* var = req->requestvb;
    bool ok = true;
    if (which == kDaemonState) {
      set_integer(var, s->reachable ? 1 : 2);
    } else if (which == kDiscontinuity) {
      set_unsigned(var, ASN_TIMETICKS, mib.source().discontinuity_ticks());
    } else if (!s->reachable) {
      ok = false;  // no stale values: the daemon is not there
    } else {
      switch (which) {
        case kVersion:
          set_string(var, s->version);
          break;
        case kUptime:
          set_unsigned(var, ASN_TIMETICKS, s->uptime_ms / 10);
          break;
        case kWorkers:
          set_unsigned(var, ASN_GAUGE, s->workers);
          break;
        case kTotalConns:
          set_counter64(var, s->total_conns());
          break;
        case kCurrentConns:
          set_unsigned(var, ASN_GAUGE, s->current_conns());
          break;
        default:
          ok = false;
      }
    }
    if (!ok) netsnmp_set_request_error(reqinfo, req, SNMP_NOSUCHINSTANCE);
  }
  return SNMP_ERR_NOERROR;
}

std::string handler_chain(const netsnmp_handler_registration* reg) {
  std::string out;
  for (const netsnmp_mib_handler* h = reg->handler; h; h = h->next) {
    if (!out.empty()) out += " -> ";
    out += h->handler_name ? h->handler_name : "?";
  }
  return out;
}

}  // namespace

Mib::Mib(StateSource& source) : source_(source) {
  auto table = [this](const char* name, unsigned long arc, unsigned indexes, unsigned max_col,
                      auto fill, auto column) {
    auto t = std::make_unique<TableContext>();
    t->mib = this;
    t->name = name;
    t->arc = arc;
    t->index_count = indexes;
    t->max_column = max_col;
    t->fill = fill;
    t->column = column;
    tables_.push_back(std::move(t));
  };
  table("vsgatePortTable", 2, 1, 14, fill_ports, port_column);
  table("vsgateLcoreTable", 3, 1, 12, fill_lcores, lcore_column);
  table("vsgateVirtualServerTable", 4, 1, 23, fill_services, service_column);
  table("vsgateRealServerTable", 5, 2, 25, fill_reals, real_column);
}

Mib::~Mib() { unregister_objects(); }

Status Mib::register_scalars() {
  static constexpr struct {
    const char* name;
    Scalar which;
  } kScalars[] = {{"vsgateVersion", kVersion},
                  {"vsgateDaemonState", kDaemonState},
                  {"vsgateUptime", kUptime},
                  {"vsgateWorkers", kWorkers},
                  {"vsgateTotalConns", kTotalConns},
                  {"vsgateCurrentConns", kCurrentConns},
                  {"vsgateStatsDiscontinuityTime", kDiscontinuity}};
  for (const auto& sc : kScalars) {
    const std::vector<oid> o = object_oid({1, 1, sc.which});  // vsgateObjects.vsgateGlobal.N
    netsnmp_handler_registration* reg = netsnmp_create_handler_registration(
        sc.name, scalar_handler, o.data(), o.size(), HANDLER_CAN_RONLY);
    if (!reg) return make_error(std::string("cannot create the registration of ") + sc.name);
    reg->handler->myvoid = this;
    reg->my_reg_void = reinterpret_cast<void*>(static_cast<uintptr_t>(sc.which));
    if (netsnmp_register_scalar(reg) != MIB_REGISTERED_OK)
      return make_error(std::string("cannot register ") + sc.name);
    registrations_.push_back(reg);
  }
  return Ok{};
}

Status Mib::register_table(TableContext& t) {
  const std::vector<oid> o = object_oid({1, t.arc});
  netsnmp_handler_registration* reg = netsnmp_create_handler_registration(
      t.name, table_handler, o.data(), o.size(), HANDLER_CAN_RONLY);
  if (!reg) return make_error(std::string("cannot create the registration of ") + t.name);
  reg->handler->myvoid = &t;
  t.tdata = netsnmp_tdata_create_table(t.name, 0);
  netsnmp_table_registration_info* info = SNMP_MALLOC_TYPEDEF(netsnmp_table_registration_info);
  if (!t.tdata || !info) {
    SNMP_FREE(info);
    netsnmp_handler_registration_free(reg);
    return make_error(std::string("out of memory registering ") + t.name);
  }
  for (unsigned i = 0; i < t.index_count; ++i) netsnmp_table_helper_add_index(info, ASN_UNSIGNED);
  info->min_column = 2;  // column 1 is the (not-accessible) index
  info->max_column = t.max_column;
  t.info = info;
  if (netsnmp_tdata_register(reg, t.tdata, info) != MIB_REGISTERED_OK)
    return make_error(std::string("cannot register ") + t.name);
  registrations_.push_back(reg);

  // Timeout -1: the cache handler calls table_load once for every request (PDU); it rebuilds the
  // rows only when the StateSource has a new snapshot (at most once per cache period). So the
  // rows are never older than what the scalars show: when vsgated stops, the tables empty with
  // the same reading that turns vsgateDaemonState to notReachable.
  t.cache = netsnmp_cache_create(-1, table_load, table_free, o.data(), o.size());
  if (!t.cache) return make_error(std::string("cannot create the cache of ") + t.name);
  t.cache->magic = &t;
  t.cache->flags = NETSNMP_CACHE_DONT_INVALIDATE_ON_SET | NETSNMP_CACHE_DONT_FREE_BEFORE_LOAD;
  // The cache handler goes at the head of the chain, above the table and tdata helpers: they
  // look rows up before calling down, so a reload below them would free the rows they hold
  // (net-snmp 5.9.3 then serves freed memory when the cache expires within a request).
  netsnmp_mib_handler* cache_handler = netsnmp_cache_handler_get(t.cache);
  if (!cache_handler)
    return make_error(std::string("cannot create the cache handler of ") + t.name);
  if (netsnmp_inject_handler(reg, cache_handler) != SNMPERR_SUCCESS)
    return make_error(std::string("cannot add the cache handler of ") + t.name);
  VSG_LOG(debug, "%s: handler chain %s", t.name, handler_chain(reg).c_str());
  return Ok{};
}

Status Mib::register_objects() {
  if (auto st = register_scalars(); !st) return st;
  for (auto& t : tables_)
    if (auto st = register_table(*t); !st) return st;
  return Ok{};
}

void Mib::unregister_objects() {
  for (netsnmp_handler_registration* reg : registrations_) netsnmp_unregister_handler(reg);
  registrations_.clear();
  // The handlers are gone with their registrations; the tables and caches they used are ours.
  for (auto& t : tables_) {
    t->clear_rows();
    if (t->tdata) {
      netsnmp_tdata_delete_table(t->tdata);
      t->tdata = nullptr;
    }
    if (t->info) {
      netsnmp_table_registration_info_free(t->info);
      t->info = nullptr;
    }
    if (t->cache) {
      netsnmp_cache_remove(t->cache);
      netsnmp_cache_free(t->cache);
      t->cache = nullptr;
    }
  }
}

}  // namespace vsgate::snmp
