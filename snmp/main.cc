// vsgate-snmp: the AgentX subagent serving VSGATE-MIB from vsgated's control socket.
// Foreground process (systemd runs it); every net-snmp call happens on this one thread.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>

#include "common/log.h"
#include "daemon_reader.h"
#include "mib.h"
#include "options.h"

namespace {

constexpr const char* kAppName = "vsgate-snmp";
// How often the subagent pings snmpd, and so how soon it notices a restarted snmpd (or one that
// came up after it) and registers again.
constexpr int kAgentxPingSeconds = 1;
constexpr int kControlTimeoutMs = 1000;

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the agent's select() returns at once
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

// net-snmp's own messages go through our log (sd-daemon priority prefixes, our level). It repeats
// "Failed to connect to the agentx master agent" on every retry while snmpd is down: a message
// identical to the previous one is counted, not printed again.
int on_netsnmp_log(int, int, void* server_arg, void*) {
  const auto* m = static_cast<const snmp_log_message*>(server_arg);
  if (!m || !m->msg) return 0;
  std::string text(m->msg);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == ':'))
    text.pop_back();
  if (text.empty()) return 0;
  static std::string last;
  static unsigned repeats = 0;
  if (text == last) {
    ++repeats;
    return 0;
  }
  using vsgate::LogLevel;
  if (repeats && vsgate::log_enabled(LogLevel::info))
    vsgate::log_message(LogLevel::info, "net-snmp: (previous message repeated %u times)", repeats);
  last = text;
  repeats = 0;
  const LogLevel level = m->priority <= LOG_ERR       ? LogLevel::error
                         : m->priority == LOG_WARNING ? LogLevel::warning
                         : m->priority == LOG_DEBUG   ? LogLevel::debug
                                                      : LogLevel::info;
  if (vsgate::log_enabled(level)) vsgate::log_message(level, "net-snmp: %s", text.c_str());
  return 0;
}

void route_netsnmp_logging() {
  snmp_disable_log();
  snmp_register_callback(SNMP_CALLBACK_LIBRARY, SNMP_CALLBACK_LOGGING, on_netsnmp_log, nullptr);
  snmp_enable_calllog();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vsgate;
  auto inv = snmp::parse_invocation(argc, argv);
  if (!inv) {
    std::fprintf(stderr, "vsgate-snmp: %s\nTry 'vsgate-snmp --help'.\n", inv.message().c_str());
    return 2;
  }
  if (inv->action == snmp::Action::help) {
    std::fputs(snmp::usage().c_str(), stdout);
    return 0;
  }
  if (inv->action == snmp::Action::version) {
    std::printf("vsgate-snmp %s (net-snmp %s)\n", VSGATE_VERSION, netsnmp_get_version());
    return 0;
  }
  const snmp::Settings& s = inv->settings;
  set_log_level(s.log_level);
  install_signal_handlers();
  route_netsnmp_logging();

  // A subagent: no SNMP ports of its own, no state files, no MIB files to parse.
  netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
  netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET,
                        s.agentx_socket.c_str());
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
  setenv("MIBS", "", 1);

  if (init_agent(kAppName) != 0) {
    VSG_LOG(error, "init_agent failed");
    return 1;
  }
  // init_agent() resets the ping interval: set it afterwards. With it, the subagent reconnects
  // by itself when snmpd restarts or starts after it.
  netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
                     kAgentxPingSeconds);

  snmp::DaemonReader reader(s.control_socket, kControlTimeoutMs);
  snmp::StateSource source([&reader] { return reader.read(); },
                           [] { return static_cast<uint32_t>(netsnmp_get_agent_uptime()); },
                           std::chrono::seconds(s.cache_seconds));
  int rc = 0;
  {
    snmp::Mib mib(source);
    if (auto st = mib.register_objects(); !st) {
      VSG_LOG(error, "%s", st.message().c_str());
      rc = 1;
    } else {
      init_snmp(kAppName);
      VSG_LOG(info, "vsgate-snmp %s: AgentX master %s, vsgated %s, cache %u s", VSGATE_VERSION,
              s.agentx_socket.c_str(), s.control_socket.c_str(), s.cache_seconds);
      while (!g_stop) agent_check_and_process(1);
      VSG_LOG(info, "stopping");
    }
    mib.unregister_objects();
  }
  snmp_shutdown(kAppName);
  shutdown_agent();
  return rc;
}
