// VSGATE-MIB (snmp/VSGATE-MIB.txt) on net-snmp's agent API: the scalars and four tdata tables,
// each table behind a cache handler that rebuilds its rows from the StateSource's snapshot.
// Everything here runs on the one thread that runs net-snmp.
#pragma once

// clang-format off
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
// clang-format on

#include <memory>
#include <vector>

#include "common/result.h"
#include "daemon_reader.h"

namespace vsgate::snmp {

// The module's root, as VSGATE-MIB defines it (vsgateMIB = netSnmpPlaypen.4847). The only
// place in the code that names it.
inline constexpr unsigned long kVsgateMibRoot[] = {1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 4847};

struct TableContext;

// The value of column `col` of a row (a PortRow, LcoreRow, ServiceRow or RealRow) into `var`, as
// the table handlers answer a GET; false for a column the table does not have.
bool port_column(const void* row, unsigned col, netsnmp_variable_list* var);
bool lcore_column(const void* row, unsigned col, netsnmp_variable_list* var);
bool service_column(const void* row, unsigned col, netsnmp_variable_list* var);
bool real_column(const void* row, unsigned col, netsnmp_variable_list* var);

class Mib {
 public:
  explicit Mib(StateSource& source);
  ~Mib();
  Mib(const Mib&) = delete;
  Mib& operator=(const Mib&) = delete;

  // Registers every object; call after init_agent() and before init_snmp().
  Status register_objects();
  // Removes the registrations (before snmp_shutdown()).
  void unregister_objects();

  StateSource& source() { return source_; }

 private:
  Status register_scalars();
  Status register_table(TableContext& t);

  StateSource& source_;
  std::vector<std::unique_ptr<TableContext>> tables_;
  std::vector<netsnmp_handler_registration*> registrations_;
};

}  // namespace vsgate::snmp
