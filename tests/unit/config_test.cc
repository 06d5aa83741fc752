#include "config/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "lb/model.h"  // kIpv6NotSupported

namespace vsgate {
namespace {

const std::string kDataDir = std::string(VSGATE_TEST_DATA_DIR) + "/config";

// True if one error message contains every part; on failure lists what was reported instead.
::testing::AssertionResult HasError(const ConfigLoadResult& r,
                                    std::initializer_list<std::string_view> parts) {
  for (const auto& e : r.errors) {
    bool all = true;
    for (auto p : parts) all = all && e.find(p) != std::string::npos;
    if (all) return ::testing::AssertionSuccess();
  }
  auto failure = ::testing::AssertionFailure() << "no error contains all of:";
  for (auto p : parts) failure << " [" << p << "]";
  failure << "\nerrors (" << r.errors.size() << "):";
  for (const auto& e : r.errors) failure << "\n  " << e;
  return failure;
}

std::string Dump(const ConfigLoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += "\n  " + e;
  return out;
}

// Each test gets its own temporary directory, removed afterwards.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vsgate-config-test.XXXXXX");
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string Write(const std::string& text, const std::string& name = "vsgate.conf") {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  ConfigLoadResult Load(const std::string& text) {
    path_ = Write(text);
    return load_config(path_);
  }
  // A valid port section around extra lines, so a test changes just the key it is about.
  ConfigLoadResult LoadPort(const std::string& lines, const std::string& name = "dpdk0") {
    return Load("[port." + name + "]\ndevice = net_tap0\n" + lines + "\n");
  }
  // Exactly one error, and it names the file, the section.key and the value.
  void ExpectSingleError(const ConfigLoadResult& r, std::initializer_list<std::string_view> parts) {
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.errors.size(), 1u) << Dump(r);
    EXPECT_TRUE(HasError(r, {path_ + ": "}));
    EXPECT_TRUE(HasError(r, parts));
  }

  // Valid, with exactly one warning that names the file, the section.key and the value.
  void ExpectSingleWarning(const ConfigLoadResult& r,
                           std::initializer_list<std::string_view> parts) {
    EXPECT_TRUE(r.ok()) << Dump(r);
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_EQ(r.warnings[0].rfind(path_ + ": ", 0), 0u) << r.warnings[0];
    for (auto p : parts) EXPECT_NE(r.warnings[0].find(p), std::string::npos) << r.warnings[0];
  }

  std::string dir_;
  std::string path_;
};

// ---------------------------------------------------------------------------------------------
// Valid configurations

TEST_F(ConfigTest, GoodConfigWithAllKeys) {
  auto r = load_config(kDataDir + "/good.conf");
  ASSERT_TRUE(r.ok()) << Dump(r);
  const Config& c = r.config;
  EXPECT_EQ(c.path, kDataDir + "/good.conf");
  EXPECT_EQ(c.global.log_level, LogLevel::debug);
  EXPECT_EQ(c.global.control_socket, "/tmp/vsgate-test/control.sock");
  EXPECT_EQ(c.global.workers, 4u);
  EXPECT_EQ(c.global.idle_sleep_us, 50u);
  EXPECT_EQ(c.global.punt_ring_size, 4096u);
  EXPECT_EQ(c.global.arp_resync_ms, 2000u);
  EXPECT_TRUE(c.global.debug_commands);
  EXPECT_EQ(c.eal.args, (std::vector<std::string>{"--no-pci", "--no-huge", "-m", "512"}));

  ASSERT_EQ(c.ports.size(), 2u);
  const PortConfig& p0 = c.ports[0];
  EXPECT_EQ(p0.name, "dpdk0");
  EXPECT_EQ(p0.device, "net_af_xdp0,iface=veth0");
  EXPECT_FALSE(p0.is_pci());
  EXPECT_EQ(p0.rx_queues, 2);
  EXPECT_EQ(p0.tx_queues, 4);
  EXPECT_EQ(p0.rx_descriptors, 2048);
  EXPECT_EQ(p0.tx_descriptors, 512);
  EXPECT_EQ(p0.mtu, 9000);
  EXPECT_EQ(p0.kni, "dpdk0.kni");
  EXPECT_EQ(p0.kni_backend, KniBackend::virtio_user);
  ASSERT_EQ(p0.addresses.size(), 2u);
  EXPECT_EQ(p0.addresses[0].str(), "10.0.0.1/24");
  EXPECT_EQ(p0.addresses[1].str(), "192.168.1.10/32");

  const PortConfig& p1 = c.ports[1];
  EXPECT_EQ(p1.name, "dpdk1");
  EXPECT_EQ(p1.device, "0000:03:00.0");
  EXPECT_TRUE(p1.is_pci());
  EXPECT_EQ(p1.kni, "dpdk1.kni");
  EXPECT_EQ(p1.kni_backend, KniBackend::tap);
  ASSERT_EQ(p1.addresses.size(), 1u);
  EXPECT_EQ(p1.addresses[0].str(), "172.16.0.1/16");

  ASSERT_EQ(c.services.size(), 2u);
  const ServiceConfig& web = c.services[0];
  EXPECT_EQ(web.name, "web");
  EXPECT_EQ(web.key.proto, Proto::tcp);
  EXPECT_EQ(web.key.vip.str(), "10.0.0.100");
  EXPECT_EQ(web.key.port.host(), 80);
  EXPECT_EQ(web.scheduler, SchedulerKind::wrr);
  EXPECT_EQ(web.persistence_s, 300u);
  ASSERT_EQ(web.local_addresses.size(), 2u);
  EXPECT_EQ(web.local_addresses[0].ip.str(), "172.16.0.1");
  EXPECT_EQ(web.local_addresses[0].port_name, "dpdk1");
  EXPECT_EQ(web.local_addresses[1].ip.str(), "172.16.0.2");
  EXPECT_EQ(web.local_addresses[1].port_name, "dpdk1");  // as the [port.dpdk1] header spells it
  ASSERT_EQ(web.real_servers.size(), 2u);
  const RealServerConfig& r0 = web.real_servers[0];
  EXPECT_EQ(r0.key.ip.str(), "172.16.1.11");
  EXPECT_EQ(r0.key.port.host(), 8080);
  EXPECT_EQ(r0.fwd, FwdMode::fullnat);
  EXPECT_EQ(r0.weight, 3u);
  EXPECT_EQ(r0.upper, 0u);
  EXPECT_EQ(r0.lower, 0u);
  const RealServerConfig& r1 = web.real_servers[1];
  EXPECT_EQ(r1.key.ip.str(), "172.16.1.12");
  EXPECT_EQ(r1.key.port.host(), 80);  // the service's port
  EXPECT_EQ(r1.fwd, FwdMode::nat);
  EXPECT_EQ(r1.weight, 0u);
  EXPECT_EQ(r1.upper, 1000u);
  EXPECT_EQ(r1.lower, 800u);

  const ServiceConfig& dns = c.services[1];
  EXPECT_EQ(dns.name, "dns");
  EXPECT_EQ(dns.key.proto, Proto::udp);
  EXPECT_EQ(dns.key.vip.str(), "10.0.0.100");
  EXPECT_EQ(dns.key.port.host(), 53);
  EXPECT_EQ(dns.scheduler, SchedulerKind::mh);
  EXPECT_EQ(dns.persistence_s, 0u);
  EXPECT_TRUE(dns.local_addresses.empty());
  ASSERT_EQ(dns.real_servers.size(), 2u);
  EXPECT_EQ(dns.real_servers[0].key.ip.str(), "172.16.1.21");
  EXPECT_EQ(dns.real_servers[0].key.port.host(), 53);
  EXPECT_EQ(dns.real_servers[0].fwd, FwdMode::dr);
  EXPECT_EQ(dns.real_servers[1].fwd, FwdMode::tunnel);
  EXPECT_EQ(dns.real_servers[1].weight, 2u);
}

TEST_F(ConfigTest, DefaultsWhenKeysAreAbsent) {
  auto r = Load("[global]\n[eal]\n[port.p]\ndevice = net_null0\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  const GlobalConfig defaults;
  EXPECT_EQ(r.config.global.log_level, defaults.log_level);
  EXPECT_EQ(r.config.global.control_socket, "/run/vsgate/control.sock");
  EXPECT_EQ(r.config.global.workers, 1u);
  EXPECT_EQ(r.config.global.idle_sleep_us, 0u);
  EXPECT_EQ(r.config.global.punt_ring_size, 1024u);
  EXPECT_EQ(r.config.global.arp_resync_ms, 1000u);
  EXPECT_FALSE(r.config.global.debug_commands) << "debug.* commands are off unless asked for";
  EXPECT_TRUE(r.config.eal.args.empty());
  ASSERT_EQ(r.config.ports.size(), 1u);
  const PortConfig& p = r.config.ports[0];
  EXPECT_EQ(p.name, "p");
  EXPECT_EQ(p.device, "net_null0");
  EXPECT_EQ(p.rx_queues, 1);
  EXPECT_EQ(p.tx_queues, 1);
  EXPECT_EQ(p.rx_descriptors, 1024);
  EXPECT_EQ(p.tx_descriptors, 1024);
  EXPECT_EQ(p.mtu, 1500);
  EXPECT_EQ(p.kni, "");
  EXPECT_EQ(p.kni_backend, KniBackend::tap);
  EXPECT_TRUE(p.addresses.empty());
  EXPECT_TRUE(r.config.services.empty());
}

TEST_F(ConfigTest, EmptyFileIsValidWithDefaults) {
  auto r = Load("");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.global.workers, 1u);
  EXPECT_TRUE(r.config.ports.empty());
}

TEST_F(ConfigTest, ZeroPortConfigIsValid) {
  auto r = load_config(kDataDir + "/zero_ports.conf");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_TRUE(r.config.ports.empty());
  EXPECT_EQ(r.config.eal.args, (std::vector<std::string>{"--no-pci", "--no-huge", "-m", "256"}));
}

TEST_F(ConfigTest, ShippedDefaultConfigIsValid) {
  auto path = std::string(VSGATE_TEST_DATA_DIR) + "/../../../rootfs/etc/vsgate/vsgate.conf";
  auto r = load_config(path);
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.global.control_socket, "/run/vsgate/control.sock");
}

// The ```ini blocks of docs/CONFIG.md, in order.
std::vector<std::string> DocExamples() {
  std::ifstream doc(std::string(VSGATE_TEST_DATA_DIR) + "/../../../docs/CONFIG.md");
  std::vector<std::string> examples;
  std::string line;
  bool in_example = false;
  while (std::getline(doc, line)) {
    if (in_example && line == "```") {
      in_example = false;
    } else if (in_example) {
      examples.back() += line + "\n";
    } else if (line == "```ini") {
      in_example = true;
      examples.emplace_back();
    }
  }
  return examples;
}

TEST_F(ConfigTest, ShippedCommentedOutExamplesAreValid) {
  // Lines like ";[port.dpdk0]" and ";device = ..." are examples meant to be uncommented as they
  // are; prose comments start with "; ".
  std::ifstream in(std::string(VSGATE_TEST_DATA_DIR) + "/../../../rootfs/etc/vsgate/vsgate.conf");
  ASSERT_TRUE(in);
  std::string line, text;
  while (std::getline(in, line)) {
    if (line.size() > 1 && line[0] == ';' && (line[1] == '[' || (line[1] >= 'a' && line[1] <= 'z')))
      text += line.substr(1) + "\n";
    else if (line.empty() || line[0] != ';')
      text += line + "\n";
  }
  auto r = Load(text);
  ASSERT_TRUE(r.ok()) << text << Dump(r);
  EXPECT_EQ(r.config.ports.size(), 1u);
  ASSERT_EQ(r.config.services.size(), 1u);
  EXPECT_EQ(r.config.services[0].real_servers.size(), 2u);
}

TEST_F(ConfigTest, ReferenceExampleIsValid) {
  // The last ```ini block of docs/CONFIG.md is the complete example: it must stay loadable.
  auto examples = DocExamples();
  ASSERT_FALSE(examples.empty()) << "docs/CONFIG.md not found or without ```ini example";
  auto r = Load(examples.back());
  ASSERT_TRUE(r.ok()) << Dump(r);
  ASSERT_EQ(r.config.ports.size(), 2u);
  EXPECT_EQ(r.config.ports[1].addresses.size(), 2u);
  ASSERT_EQ(r.config.services.size(), 2u);
  EXPECT_EQ(r.config.services[0].local_addresses.size(), 2u);
  EXPECT_EQ(r.config.services[0].real_servers.size(), 3u);
}

TEST_F(ConfigTest, ServiceExampleOfTheReferenceIsValid) {
  // The [service.NAME] example of docs/CONFIG.md, with the port its local addresses name.
  bool found = false;
  for (const auto& example : DocExamples()) {
    if (example.find("[service.") == std::string::npos ||
        example.find("[port.") != std::string::npos)
      continue;
    found = true;
    auto r = Load("[port.dpdk1]\ndevice = net_tap1\n" + example);
    ASSERT_TRUE(r.ok()) << example << Dump(r);
    EXPECT_FALSE(r.config.services.empty());
  }
  EXPECT_TRUE(found) << "no ```ini example with only [service.NAME] sections in docs/CONFIG.md";
}

TEST_F(ConfigTest, DebugCommandsIsASwitch) {
  for (const char* on : {"yes", "YES", "true", "on", "1"}) {
    auto r =
        Load(std::string("[global]\ndebug_commands = ") + on + "\n[port.p]\ndevice = net_null0\n");
    ASSERT_TRUE(r.ok()) << on << ": " << Dump(r);
    EXPECT_TRUE(r.config.global.debug_commands) << on;
  }
  for (const char* off : {"no", "No", "false", "off", "0"}) {
    auto r =
        Load(std::string("[global]\ndebug_commands = ") + off + "\n[port.p]\ndevice = net_null0\n");
    ASSERT_TRUE(r.ok()) << off << ": " << Dump(r);
    EXPECT_FALSE(r.config.global.debug_commands) << off;
  }
}

TEST_F(ConfigTest, BoundaryValuesAreAccepted) {
  auto r = Load(
      "[global]\nworkers = 64\nidle_sleep_us = 100000\npunt_ring_size = 65536\n"
      "arp_resync_ms = 60000\n"
      "[port.lo]\ndevice = net_ring0\nrx_queues = 64\ntx_queues = 64\nrx_descriptors = 64\n"
      "tx_descriptors = 16384\nmtu = 9600\n"
      "[port.hi]\ndevice = net_ring1\ntx_queues = 64\nmtu = 68\nrx_descriptors = "
      "16384\ntx_descriptors = 64\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.global.workers, 64u);
  EXPECT_EQ(r.config.global.idle_sleep_us, 100000u);
  EXPECT_EQ(r.config.global.punt_ring_size, 65536u);
  EXPECT_EQ(r.config.global.arp_resync_ms, 60000u);
  ASSERT_EQ(r.config.ports.size(), 2u);
  EXPECT_EQ(r.config.ports[0].rx_queues, 64);
  EXPECT_EQ(r.config.ports[0].tx_descriptors, 16384);
  EXPECT_EQ(r.config.ports[0].mtu, 9600);
  EXPECT_EQ(r.config.ports[1].mtu, 68);

  auto low = Load("[global]\nworkers = 1\npunt_ring_size = 64\narp_resync_ms = 100\n");
  ASSERT_TRUE(low.ok()) << Dump(low);
  EXPECT_EQ(low.config.global.punt_ring_size, 64u);
  EXPECT_EQ(low.config.global.arp_resync_ms, 100u);
}

TEST_F(ConfigTest, PortsKeepFileOrder) {
  auto r = Load(
      "[port.zz]\ndevice = net_null0\n[global]\n[port.aa]\ndevice = net_null1\n"
      "[port.mm]\ndevice = net_null2\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  ASSERT_EQ(r.config.ports.size(), 3u);
  EXPECT_EQ(r.config.ports[0].name, "zz");
  EXPECT_EQ(r.config.ports[1].name, "aa");
  EXPECT_EQ(r.config.ports[2].name, "mm");
}

TEST_F(ConfigTest, PortNameKeepsItsCaseAndKeysAreCaseInsensitive) {
  auto r = Load(
      "[GLOBAL]\nWorkers = 2\n[Port.DPDK0]\nDEVICE = net_tap0\nRx_Queues = 3\nTX_QUEUES = 2\n"
      "KNI = Dpdk0.Kni\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.global.workers, 2u);
  ASSERT_EQ(r.config.ports.size(), 1u);
  EXPECT_EQ(r.config.ports[0].name, "DPDK0");
  EXPECT_EQ(r.config.ports[0].rx_queues, 3);
  EXPECT_EQ(r.config.ports[0].kni, "Dpdk0.Kni");  // interface names are case-sensitive
}

TEST_F(ConfigTest, ErrorsNameTheOriginalPortCase) {
  auto r = Load("[port.DPDK0]\ndevice = net_tap0\nrx_queues = 0\n");
  ExpectSingleError(r, {"port.DPDK0.rx_queues: '0' is out of range (1..64)"});
}

TEST_F(ConfigTest, CommentsQuotesAndSpaces) {
  auto r = Load(
      "# hash comment\n"
      "; semicolon comment\n"
      "  [global]   \n"
      "workers=3;no spaces\n"
      "log_level   =   warning   # trailing hash comment\n"
      "control_socket = \"/run/vsgate/a;b.sock\" ; quotes keep ';'\n"
      "[eal]\n"
      "args = '--no-pci  --no-huge\t-m 64'\n"
      "[port.a]\n"
      "device = \"net_tap0,iface=tap0\"\n"
      "tx_queues = 3\n"
      "kni = a.kni ; the exception path\n"
      "addresses = 10.0.0.1/24 ,10.0.1.1/24 ,  10.0.2.1/24   ; three\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.global.workers, 3u);
  EXPECT_EQ(r.config.global.log_level, LogLevel::warning);
  EXPECT_EQ(r.config.global.control_socket, "/run/vsgate/a;b.sock");
  EXPECT_EQ(r.config.eal.args, (std::vector<std::string>{"--no-pci", "--no-huge", "-m", "64"}));
  ASSERT_EQ(r.config.ports.size(), 1u);
  EXPECT_EQ(r.config.ports[0].device, "net_tap0,iface=tap0");
  EXPECT_EQ(r.config.ports[0].kni, "a.kni");
  ASSERT_EQ(r.config.ports[0].addresses.size(), 3u);
  EXPECT_EQ(r.config.ports[0].addresses[2].str(), "10.0.2.1/24");
}

TEST_F(ConfigTest, ContinuationLines) {
  auto r = Load("[eal]\nargs = --no-pci \\\n  --no-huge \\\n  -m 128\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.eal.args, (std::vector<std::string>{"--no-pci", "--no-huge", "-m", "128"}));
}

TEST_F(ConfigTest, CrLfLineEndings) {
  auto r = Load("[global]\r\nworkers = 2\r\n[port.a]\r\ndevice = net_null0\r\ntx_queues = 2\r\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.global.workers, 2u);
  EXPECT_EQ(r.config.ports.at(0).device, "net_null0");
}

TEST_F(ConfigTest, LogLevelsAndBackendsAreCaseInsensitive) {
  const std::vector<std::pair<std::string, LogLevel>> levels = {{"error", LogLevel::error},
                                                                {"WARNING", LogLevel::warning},
                                                                {"Info", LogLevel::info},
                                                                {"debug", LogLevel::debug}};
  for (const auto& [text, level] : levels) {
    auto r = Load("[global]\nlog_level = " + text + "\n");
    ASSERT_TRUE(r.ok()) << text << Dump(r);
    EXPECT_EQ(r.config.global.log_level, level) << text;
  }
  auto r = LoadPort("kni = x\nkni_backend = Virtio-User");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.ports[0].kni_backend, KniBackend::virtio_user);
}

TEST_F(ConfigTest, EalArgsEmptyAndWhitespace) {
  auto r = Load("[eal]\nargs =\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_TRUE(r.config.eal.args.empty());
  r = Load("[eal]\nargs = \t -l \t 0-1\t\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.eal.args, (std::vector<std::string>{"-l", "0-1"}));
}

TEST_F(ConfigTest, PciAddressesAreCanonical) {
  auto r = Load(
      "[port.a]\ndevice = 03:00.0\n[port.b]\ndevice = 0000:AF:1F.7\n"
      "[port.c]\ndevice = 0001:03:00.1,txq_inline_max=128\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  ASSERT_EQ(r.config.ports.size(), 3u);
  EXPECT_EQ(r.config.ports[0].device, "0000:03:00.0");
  EXPECT_EQ(r.config.ports[1].device, "0000:af:1f.7");
  EXPECT_EQ(r.config.ports[2].device, "0001:03:00.1,txq_inline_max=128");
  for (const auto& p : r.config.ports) EXPECT_TRUE(p.is_pci()) << p.device;
}

TEST_F(ConfigTest, VdevSpecsAreAccepted) {
  for (const char* dev : {"net_tap0", "net_af_xdp0,iface=veth0,start_queue=0", "net_ring0",
                          "net_af_packet1,iface=eth1,qpairs=2", "eth_null0",
                          "virtio_user0,path=/dev/vhost-net,queues=1", "net_x,list=[0,1],k"}) {
    auto r = Load(std::string("[port.a]\ndevice = ") + dev + "\n");
    ASSERT_TRUE(r.ok()) << dev << Dump(r);
    EXPECT_EQ(r.config.ports.at(0).device, dev);
    EXPECT_FALSE(r.config.ports.at(0).is_pci()) << dev;
  }
}

TEST_F(ConfigTest, IsPciOnHandBuiltPorts) {
  PortConfig p;
  for (const char* dev : {"0000:03:00.0", "03:00.0", "0000:03:00.0,arg=1"}) {
    p.device = dev;
    EXPECT_TRUE(p.is_pci()) << dev;
  }
  for (const char* dev : {"", "net_tap0", "0000:03:00", "0000:03:00.8", "zzzz:03:00.0", "eth0"}) {
    p.device = dev;
    EXPECT_FALSE(p.is_pci()) << dev;
  }
}

TEST_F(ConfigTest, AddressesHostBitsBareAddressAndEmpty) {
  auto r = LoadPort("kni = a\naddresses = 10.0.0.1/24, 10.9.9.9");
  ASSERT_TRUE(r.ok()) << Dump(r);
  const auto& a = r.config.ports.at(0).addresses;
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].addr.str(), "10.0.0.1");  // interface address: host bits are kept
  EXPECT_EQ(a[0].len, 24);
  EXPECT_EQ(a[1].str(), "10.9.9.9/32");

  r = LoadPort("addresses =");  // empty: no kni needed
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_TRUE(r.config.ports.at(0).addresses.empty());
}

TEST_F(ConfigTest, EmptyKniMeansNone) {
  auto r = LoadPort("kni =\nkni_backend = tap");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.ports.at(0).kni, "");
}

TEST_F(ConfigTest, KniNameLimits) {
  auto r = LoadPort("kni = abcdefghijklmno");  // 15 characters: IFNAMSIZ - 1
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.ports.at(0).kni, "abcdefghijklmno");
}

TEST_F(ConfigTest, ExactMessageFormat) {
  auto r = Load("[global]\nworkers = 0\n");
  ASSERT_EQ(r.errors.size(), 1u) << Dump(r);
  EXPECT_EQ(r.errors[0], path_ + ": global.workers: '0' is out of range (1..64)");
}

// ---------------------------------------------------------------------------------------------
// File-level errors

TEST_F(ConfigTest, MissingFile) {
  path_ = dir_ + "/does-not-exist.conf";
  auto r = load_config(path_);
  ExpectSingleError(r, {"cannot open", "No such file or directory"});
  EXPECT_EQ(r.config.path, path_);
}

TEST_F(ConfigTest, DirectoryIsNotAConfigFile) {
  path_ = dir_;
  auto r = load_config(path_);
  ExpectSingleError(r, {"is a directory"});
}

TEST_F(ConfigTest, IniSyntaxError) {
  path_ = kDataDir + "/syntax_error.conf";
  auto r = load_config(path_);
  ExpectSingleError(r, {"line 4: 'this line has no equals sign' is not a [section] header"});
}

TEST_F(ConfigTest, SyntaxErrorsDoNotReachStderr) {
  ::testing::internal::CaptureStderr();
  auto r = Load("[global]\njunk\n");
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(err, "");
}

TEST_F(ConfigTest, AllSyntaxErrorsAreReported) {
  auto r = Load("[global]\nfirst bad line\nworkers = 2\nsecond bad line\n");
  ASSERT_EQ(r.errors.size(), 2u) << Dump(r);
  EXPECT_TRUE(HasError(r, {path_, "line 2: 'first bad line'"}));
  EXPECT_TRUE(HasError(r, {path_, "line 4: 'second bad line'"}));
}

TEST_F(ConfigTest, SectionHeaderWithTrailingComment) {
  auto r = Load("[global] ; comment\nworkers = 2\n");
  ExpectSingleError(r, {"line 1: '[global] ; comment'", "alone on its line"});
}

TEST_F(ConfigTest, LineTooLong) {
  auto r = Load("[eal]\nargs = " + std::string(3000, 'x') + "\n");
  ExpectSingleError(r, {"line 2: is longer than"});
}

TEST_F(ConfigTest, ConcurrentLoadsKeepTheirOwnErrors) {
  std::vector<std::string> paths;
  for (int i = 0; i < 4; ++i)
    paths.push_back(Write("[global]\nbad" + std::to_string(i) + "\n", "c" + std::to_string(i)));
  std::vector<ConfigLoadResult> results(paths.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < paths.size(); ++i)
    threads.emplace_back([&, i] {
      for (int n = 0; n < 20; ++n) results[i] = load_config(paths[i]);
    });
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < paths.size(); ++i) {
    ASSERT_EQ(results[i].errors.size(), 1u) << Dump(results[i]);
    EXPECT_TRUE(HasError(results[i], {paths[i], "'bad" + std::to_string(i) + "'"}));
  }
}

// ---------------------------------------------------------------------------------------------
// Structure errors

TEST_F(ConfigTest, UnknownSection) {
  auto r = Load("[global]\n[routes]\nx = 1\n");
  ExpectSingleError(r, {"[routes]: is not a known section"});
}

TEST_F(ConfigTest, UnknownKeyInGlobal) {
  auto r = Load("[global]\nwokers = 2\n");
  ExpectSingleError(r, {"global.wokers: '2' is set on an unknown key", "workers"});
}

TEST_F(ConfigTest, UnknownKeyInEal) {
  auto r = Load("[eal]\nargv = -l 0\n");
  ExpectSingleError(r, {"eal.argv: '-l 0' is set on an unknown key"});
}

TEST_F(ConfigTest, UnknownKeyInPort) {
  auto r = LoadPort("speed = 10G");
  ExpectSingleError(r, {"port.dpdk0.speed: '10G' is set on an unknown key"});
}

TEST_F(ConfigTest, KeyOutsideAnySection) {
  auto r = Load("workers = 2\n[global]\n");
  ExpectSingleError(r, {": workers: '2' is outside any section"});
}

TEST_F(ConfigTest, EmptySectionName) {
  auto r = Load("[global]\n[ ]\n");
  ExpectSingleError(r, {"[]: has an empty section name (line 2)"});
}

TEST_F(ConfigTest, EmptyPortName) {
  auto r = Load("[port.]\ndevice = net_tap0\n");
  ExpectSingleError(r, {"[port.]: has an empty port name"});
}

TEST_F(ConfigTest, InvalidPortName) {
  auto r = Load("[port.a/b]\ndevice = net_tap0\n");
  ExpectSingleError(r, {"[port.a/b]: has an invalid port name 'a/b'"});
}

TEST_F(ConfigTest, ColonInSectionNameDoesNotLeakKeysIntoAnotherPort) {
  auto r = Load("[port.a]\ndevice = net_tap0\n[port.a:b]\ndevice = net_tap1\n");
  ExpectSingleError(r, {"[port.a:b]: has an invalid port name 'a:b'"});
  ASSERT_EQ(r.config.ports.size(), 2u);
  EXPECT_EQ(r.config.ports[0].device, "net_tap0");
  EXPECT_EQ(r.config.ports[1].device, "net_tap1");
}

TEST_F(ConfigTest, ColonInKeyIsAnUnknownKey) {
  auto r = Load("[global]\nworkers:2 = 1\n");
  ExpectSingleError(r, {"global.workers:2: '1' is set on an unknown key"});
}

TEST_F(ConfigTest, DuplicatePortSection) {
  auto r = Load("[port.dpdk0]\ndevice = net_tap0\n[global]\n[port.dpdk0]\nmtu = 9000\n");
  ExpectSingleError(r, {"[port.dpdk0]: appears more than once (lines 1 and 4)"});
}

TEST_F(ConfigTest, DuplicatePortSectionDifferingInCase) {
  auto r = Load("[port.DPDK0]\ndevice = net_tap0\n[port.dpdk0]\ndevice = net_tap1\n");
  ExpectSingleError(r, {"[port.dpdk0]: appears more than once (lines 1 and 3)"});
}

TEST_F(ConfigTest, DuplicateGlobalSection) {
  auto r = Load("[global]\nworkers = 2\n[global]\nlog_level = debug\n");
  ExpectSingleError(r, {"[global]: appears more than once (lines 1 and 3)"});
}

TEST_F(ConfigTest, DuplicateKey) {
  auto r = Load("[global]\nworkers = 2\nlog_level = info\nWORKERS = 4\n");
  ExpectSingleError(r, {"global.workers: '4' is set more than once (lines 2 and 4)"});
}

TEST_F(ConfigTest, MissingDevice) {
  auto r = Load("[port.dpdk0]\nmtu = 1500\n");
  ExpectSingleError(r, {"[port.dpdk0]: has no device"});
}

// ---------------------------------------------------------------------------------------------
// Value errors, one case per key and kind of mistake

struct BadValue {
  const char* section;  // text of the section header, "global", "eal" or "port.dpdk0"
  const char* key;
  const char* value;      // as written in the file
  const char* shown;      // the value as the message quotes it
  const char* complaint;  // what the message says about it
};

std::ostream& operator<<(std::ostream& os, const BadValue& b) {
  return os << b.section << "." << b.key << " = " << b.value;
}

class BadValueTest : public ConfigTest, public ::testing::WithParamInterface<BadValue> {};

TEST_P(BadValueTest, IsReportedWithFileKeyAndValue) {
  const BadValue& b = GetParam();
  std::string text = std::string("[") + b.section + "]\n";
  // Port sections get the keys the tested one depends on, so only the bad value is an error.
  if (std::string_view(b.key) != "device" && std::string_view(b.section).starts_with("port."))
    text += "device = net_tap0\n";
  if (std::string_view(b.key) == "addresses") text += "kni = k0\n";
  text += std::string(b.key) + " = " + b.value + "\n";
  auto r = Load(text);
  std::string where = std::string(b.section) + "." + b.key + ": '" + b.shown + "' ";
  ExpectSingleError(r, {where, b.complaint});
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(Integers, BadValueTest, ::testing::Values(
    BadValue{"global", "workers", "abc", "abc", "is not a whole number (expected 1..64)"},
    BadValue{"global", "workers", "1.5", "1.5", "is not a whole number"},
    BadValue{"global", "workers", "-1", "-1", "is out of range (1..64)"},
    BadValue{"global", "workers", "+1", "+1", "is not a whole number"},
    BadValue{"global", "workers", "0x10", "0x10", "is not a whole number"},
    BadValue{"global", "workers", "4 workers", "4 workers", "is not a whole number"},
    BadValue{"global", "workers", "", "", "is not a whole number"},
    BadValue{"global", "workers", "0", "0", "is out of range (1..64)"},
    BadValue{"global", "workers", "65", "65", "is out of range (1..64)"},
    BadValue{"global", "workers", "99999999999999999999999", "99999999999999999999999",
             "is out of range (1..64)"},
    BadValue{"global", "idle_sleep_us", "100001", "100001", "is out of range (0..100000)"},
    BadValue{"global", "idle_sleep_us", "-5", "-5", "is out of range (0..100000)"},
    BadValue{"global", "punt_ring_size", "1000", "1000",
             "is not a power of two (expected 64..65536)"},
    BadValue{"global", "punt_ring_size", "32", "32", "is out of range (64..65536)"},
    BadValue{"global", "punt_ring_size", "131072", "131072", "is out of range (64..65536)"},
    BadValue{"global", "arp_resync_ms", "99", "99", "is out of range (100..60000)"},
    BadValue{"global", "arp_resync_ms", "60001", "60001", "is out of range (100..60000)"},
    BadValue{"port.dpdk0", "rx_queues", "0", "0", "is out of range (1..64)"},
    BadValue{"port.dpdk0", "rx_queues", "65", "65", "is out of range (1..64)"},
    BadValue{"port.dpdk0", "tx_queues", "0", "0", "is out of range (1..64)"},
    BadValue{"port.dpdk0", "tx_queues", "two", "two", "is not a whole number"},
    BadValue{"port.dpdk0", "rx_descriptors", "1000", "1000", "is not a power of two"},
    BadValue{"port.dpdk0", "rx_descriptors", "32", "32", "is out of range (64..16384)"},
    BadValue{"port.dpdk0", "rx_descriptors", "32768", "32768", "is out of range (64..16384)"},
    BadValue{"port.dpdk0", "tx_descriptors", "100", "100", "is not a power of two"},
    BadValue{"port.dpdk0", "tx_descriptors", "65536", "65536", "is out of range (64..16384)"},
    BadValue{"port.dpdk0", "mtu", "67", "67", "is out of range (68..9600)"},
    BadValue{"port.dpdk0", "mtu", "9601", "9601", "is out of range (68..9600)"},
    BadValue{"port.dpdk0", "mtu", "1500.0", "1500.0", "is not a whole number"}));

INSTANTIATE_TEST_SUITE_P(Words, BadValueTest, ::testing::Values(
    BadValue{"global", "log_level", "verbose", "verbose", "is not a log level"},
    BadValue{"global", "log_level", "", "", "is not a log level"},
    BadValue{"global", "control_socket", "run/vsgate.sock", "run/vsgate.sock",
             "is not an absolute path"},
    BadValue{"global", "control_socket", "", "", "is not an absolute path"},
    BadValue{"global", "debug_commands", "maybe", "maybe", "is not yes or no"},
    BadValue{"global", "debug_commands", "", "", "is not yes or no"},
    BadValue{"port.dpdk0", "kni_backend", "kni", "kni", "is not a backend (tap or virtio-user)"},
    BadValue{"port.dpdk0", "kni_backend", "virtio_user", "virtio_user", "is not a backend"}));

INSTANTIATE_TEST_SUITE_P(Kni, BadValueTest, ::testing::Values(
    BadValue{"port.dpdk0", "kni", "abcdefghijklmnop", "abcdefghijklmnop",
             "is not a valid interface name"},
    BadValue{"port.dpdk0", "kni", "a/b", "a/b", "is not a valid interface name"},
    BadValue{"port.dpdk0", "kni", "a:b", "a:b", "is not a valid interface name"},
    BadValue{"port.dpdk0", "kni", "\"a b\"", "a b", "is not a valid interface name"},
    BadValue{"port.dpdk0", "kni", ".", ".", "is not a valid interface name"},
    BadValue{"port.dpdk0", "kni", "..", "..", "is not a valid interface name"}));

INSTANTIATE_TEST_SUITE_P(Devices, BadValueTest, ::testing::Values(
    BadValue{"port.dpdk0", "device", "", "", "is not a PCI address (0000:03:00.0) or a DPDK vdev"},
    BadValue{"port.dpdk0", "device", "eth0", "eth0", "is not a PCI address"},
    BadValue{"port.dpdk0", "device", "net_", "net_", "is not a PCI address"},
    BadValue{"port.dpdk0", "device", "0000:03:00.8", "0000:03:00.8", "is not a PCI address"},
    BadValue{"port.dpdk0", "device", "0000:03:20.0", "0000:03:20.0", "is not a PCI address"},
    BadValue{"port.dpdk0", "device", "0000:3:00.0", "0000:3:00.0", "is not a PCI address"},
    BadValue{"port.dpdk0", "device", "net_tap0,", "net_tap0,", "is not a PCI address"},
    BadValue{"port.dpdk0", "device", "net_tap0,,iface=a", "net_tap0,,iface=a",
             "is not a PCI address"},
    BadValue{"port.dpdk0", "device", "net_tap0,=x", "net_tap0,=x", "is not a PCI address"},
    BadValue{"port.dpdk0", "device", "\"net_tap0, iface=a\"", "net_tap0, iface=a",
             "is not a PCI address"},
    BadValue{"port.dpdk0", "device", "net-tap0", "net-tap0", "is not a PCI address"}));

INSTANTIATE_TEST_SUITE_P(Addresses, BadValueTest, ::testing::Values(
    BadValue{"port.dpdk0", "addresses", "10.0.0.300/24", "10.0.0.300/24", "is not an IPv4 prefix"},
    BadValue{"port.dpdk0", "addresses", "10.0.0.1/33", "10.0.0.1/33", "is not an IPv4 prefix"},
    BadValue{"port.dpdk0", "addresses", "10.0.0.1/", "10.0.0.1/", "is not an IPv4 prefix"},
    BadValue{"port.dpdk0", "addresses", "10.0.0.1/x", "10.0.0.1/x", "is not an IPv4 prefix"},
    BadValue{"port.dpdk0", "addresses", "10.0.0/24", "10.0.0/24", "is not an IPv4 prefix"},
    BadValue{"port.dpdk0", "addresses", "10.0.0.1 /24", "10.0.0.1 /24", "is not an IPv4 prefix"},
    BadValue{"port.dpdk0", "addresses", "10.0.0.1/24 10.0.0.2/24", "10.0.0.1/24 10.0.0.2/24",
             "is not an IPv4 prefix"},
    BadValue{"port.dpdk0", "addresses", "10.0.0.1/24, bogus", "bogus", "is not an IPv4 prefix"},
    BadValue{"port.dpdk0", "addresses", "10.0.0.1/24,,10.0.0.2/24", "10.0.0.1/24,,10.0.0.2/24",
             "has an empty entry"},
    BadValue{"port.dpdk0", "addresses", "10.0.0.1/24,", "10.0.0.1/24,", "has an empty entry"},
    BadValue{"port.dpdk0", "addresses", "224.0.0.1/24", "224.0.0.1/24", "is not a unicast address"},
    BadValue{"port.dpdk0", "addresses", "0.0.0.0/0", "0.0.0.0/0", "is not a unicast address"},
    BadValue{"port.dpdk0", "addresses", "255.255.255.255", "255.255.255.255",
             "is not a unicast address"},
    BadValue{"port.dpdk0", "addresses", "10.0.0.1/24, 10.0.0.1/16", "10.0.0.1/16",
             "is listed more than once"}));
// clang-format on

// ---------------------------------------------------------------------------------------------
// Rules across keys and ports

TEST_F(ConfigTest, AddressesRequireKni) {
  auto r = Load("[port.dpdk0]\ndevice = net_tap0\naddresses = 10.0.0.1/24\n");
  ExpectSingleError(r, {"port.dpdk0.addresses: '10.0.0.1/24' requires port.dpdk0.kni to be set"});
}

TEST_F(ConfigTest, AddressesRequireNonEmptyKni) {
  auto r = Load("[port.dpdk0]\ndevice = net_tap0\nkni =\naddresses = 10.0.0.1/24\n");
  ExpectSingleError(r, {"port.dpdk0.addresses: '10.0.0.1/24' requires port.dpdk0.kni"});
}

TEST_F(ConfigTest, DuplicateDevice) {
  auto r = Load(
      "[port.a]\ndevice = net_af_xdp0,iface=veth0\n"
      "[port.b]\ndevice = net_af_xdp0,iface=veth0\n");
  ExpectSingleError(r, {"port.b.device: 'net_af_xdp0,iface=veth0' is already used by port.a"});
}

TEST_F(ConfigTest, DuplicateVdevNameWithOtherArguments) {
  auto r = Load("[port.a]\ndevice = net_tap0,iface=x\n[port.b]\ndevice = net_tap0,iface=y\n");
  ExpectSingleError(r, {"port.b.device: 'net_tap0,iface=y' is already used by port.a"});
}

TEST_F(ConfigTest, DuplicatePciDeviceInOtherSpelling) {
  auto r = Load("[port.a]\ndevice = 0000:03:00.0\n[port.b]\ndevice = 03:00.0\n");
  ExpectSingleError(r, {"port.b.device: '0000:03:00.0' is already used by port.a"});
}

TEST_F(ConfigTest, TxQueuesFewerThanWorkers) {
  auto r = Load("[global]\nworkers = 2\n[port.a]\ndevice = net_tap0\ntx_queues = 1\n");
  ExpectSingleError(r, {"port.a.tx_queues: '1' is fewer than global.workers (2)"});
  EXPECT_TRUE(Load("[global]\nworkers = 2\n[port.a]\ndevice = net_tap0\ntx_queues = 2\n").ok());
}

TEST_F(ConfigTest, DuplicateKni) {
  auto r = Load("[port.a]\ndevice = net_tap0\nkni = lan\n[port.b]\ndevice = net_tap1\nkni = lan\n");
  ExpectSingleError(r, {"port.b.kni: 'lan' is already used by port.a"});
}

TEST_F(ConfigTest, PortsWithoutKniDoNotClash) {
  auto r = Load("[port.a]\ndevice = net_tap0\n[port.b]\ndevice = net_tap1\nkni =\n");
  EXPECT_TRUE(r.ok()) << Dump(r);
}

TEST_F(ConfigTest, MultipleErrorsAreReportedAtOnce) {
  auto r = Load(
      "[global]\n"
      "workers = 0\n"
      "log_level = loud\n"
      "[eal]\n"
      "extra = 1\n"
      "[port.a]\n"
      "device = eth0\n"
      "mtu = big\n"
      "addresses = 10.0.0.1/40\n"
      "[port.b]\n"
      "rx_descriptors = 1000\n"
      "[bogus]\n");
  EXPECT_EQ(r.errors.size(), 10u) << Dump(r);
  EXPECT_TRUE(HasError(r, {path_, "global.workers: '0'"}));
  EXPECT_TRUE(HasError(r, {path_, "global.log_level: 'loud'"}));
  EXPECT_TRUE(HasError(r, {path_, "eal.extra: '1'"}));
  EXPECT_TRUE(HasError(r, {path_, "port.a.device: 'eth0'"}));
  EXPECT_TRUE(HasError(r, {path_, "port.a.mtu: 'big'"}));
  EXPECT_TRUE(HasError(r, {path_, "port.a.addresses: '10.0.0.1/40' is not an IPv4 prefix"}));
  EXPECT_TRUE(HasError(r, {path_, "port.a.addresses: '10.0.0.1/40' requires port.a.kni"}));
  EXPECT_TRUE(HasError(r, {path_, "[port.b]: has no device"}));
  EXPECT_TRUE(HasError(r, {path_, "port.b.rx_descriptors: '1000'"}));
  EXPECT_TRUE(HasError(r, {path_, "[bogus]"}));
}

TEST_F(ConfigTest, ErrorsComeInFileOrder) {
  auto r = Load(
      "[port.b]\ndevice = net_tap1\nmtu = 1\nrx_queues = 0\n"
      "[global]\nworkers = 0\n[port.a]\ndevice = net_tap1\n[port.b]\n");
  ASSERT_EQ(r.errors.size(), 5u) << Dump(r);
  EXPECT_TRUE(HasError(r, {"port.b.mtu: '1'"})) << Dump(r);
  EXPECT_NE(r.errors[0].find("port.b.mtu: '1'"), std::string::npos) << Dump(r);
  EXPECT_NE(r.errors[1].find("port.b.rx_queues: '0'"), std::string::npos) << Dump(r);
  EXPECT_NE(r.errors[2].find("global.workers: '0'"), std::string::npos) << Dump(r);
  EXPECT_NE(r.errors[3].find("port.a.device: 'net_tap1' is already used by port.b"),
            std::string::npos)
      << Dump(r);
  EXPECT_NE(r.errors[4].find("[port.b]: appears more than once (lines 1 and 9)"), std::string::npos)
      << Dump(r);
}

TEST_F(ConfigTest, StructureAndValueErrorsTogether) {
  auto r = Load(
      "[port.a]\ndevice = net_tap0\nkni = k\n[port.a]\nmtu = 1\n"
      "[port.c]\ndevice = net_tap0\nkni = k\n");
  EXPECT_TRUE(HasError(r, {"[port.a]: appears more than once"}));
  EXPECT_TRUE(HasError(r, {"port.a.mtu: '1' is out of range"}));
  EXPECT_TRUE(HasError(r, {"port.c.device: 'net_tap0' is already used by port.a"}));
  EXPECT_TRUE(HasError(r, {"port.c.kni: 'k' is already used by port.a"}));
  EXPECT_EQ(r.errors.size(), 4u) << Dump(r);
}

// ---------------------------------------------------------------------------------------------
// [service.NAME]

// A port for local addresses, then the service section around `lines`.
constexpr const char* kSvcPort = "[port.dpdk1]\ndevice = net_tap1\n";
constexpr const char* kSvcHead = "[service.web]\nprotocol = tcp\nvip = 10.0.0.100\nport = 80\n";

TEST_F(ConfigTest, ServiceDefaults) {
  auto r = Load(std::string(kSvcHead));
  ASSERT_TRUE(r.ok()) << Dump(r);
  ASSERT_EQ(r.config.services.size(), 1u);
  const ServiceConfig& s = r.config.services[0];
  EXPECT_EQ(s.name, "web");
  EXPECT_EQ(s.scheduler, SchedulerKind::wlc);  // as ipvsadm
  EXPECT_EQ(s.persistence_s, 0u);
  EXPECT_TRUE(s.local_addresses.empty());
  EXPECT_TRUE(s.real_servers.empty());  // a service without real servers is valid
  EXPECT_TRUE(r.config.ports.empty());
}

TEST_F(ConfigTest, RealServerDefaults) {
  auto r = Load(std::string(kSvcPort) + kSvcHead +
                "local_addresses = 10.0.1.1@dpdk1\nreal_server 10.0.1.11 =\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  const RealServerConfig& rs = r.config.services.at(0).real_servers.at(0);
  EXPECT_EQ(rs.key.ip.str(), "10.0.1.11");
  EXPECT_EQ(rs.key.port.host(), 80);
  EXPECT_EQ(rs.fwd, FwdMode::fullnat);
  EXPECT_EQ(rs.weight, 1u);
  EXPECT_EQ(rs.upper, 0u);
  EXPECT_EQ(rs.lower, 0u);
}

// IPv6 addresses parse (the vocabulary holds them) and reach the model, which refuses them with
// its one message (lb/model.h): never a syntax error.
TEST_F(ConfigTest, Ipv6AddressesParseAndTheModelRefusesThem) {
  auto r = Load("[service.web]\nprotocol = tcp\nvip = 2001:db8::100\nport = 80\n");
  ExpectSingleError(r, {"service.web.vip", "'2001:db8::100'", kIpv6NotSupported});

  // Mixed families: an IPv6 real server or local address of an IPv4 service.
  for (const char* real : {"[2001:db8::11]:8080", "[2001:db8::11]", "2001:db8::11"}) {
    r = Load(std::string(kSvcHead) + "real_server " + real + " = nat\n");
    ExpectSingleError(r, {"service.web.real_server", real,
                          "is an IPv6 address, but the service's vip 10.0.0.100 is IPv4"});
    EXPECT_FALSE(HasError(r, {"is not a real server address"})) << real;
  }
  r = Load(std::string(kSvcPort) + kSvcHead + "local_addresses = 2001:db8::1@dpdk1\n");
  ExpectSingleError(r, {"service.web.local_addresses", "'2001:db8::1@dpdk1'",
                        "is an IPv6 address, but the service's vip 10.0.0.100 is IPv4"});

  // An IPv6 service: each of its addresses is refused for being IPv6, not for its family.
  r = Load(std::string(kSvcPort) +
           "[service.web]\nprotocol = tcp\nvip = 2001:db8::100\nport = 80\n"
           "local_addresses = 2001:db8::1@dpdk1\nreal_server [2001:db8::11]:8080 = nat\n");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.errors.size(), 3u) << Dump(r);
  EXPECT_TRUE(HasError(r, {"service.web.vip", "'2001:db8::100'", kIpv6NotSupported}));
  EXPECT_TRUE(HasError(r, {"service.web.local_addresses", "2001:db8::1@dpdk1", kIpv6NotSupported}));
  EXPECT_TRUE(HasError(r, {"service.web.real_server [2001:db8::11]:8080", "'[2001:db8::11]:8080'",
                           kIpv6NotSupported}));

  // Malformed addresses are still syntax errors.
  for (const char* bad : {"[2001:db8::11", "[2001:db8::11]8080", "[10.0.1.11]:80",
                          "[2001:db8::11]:", "2001:db8::zz"}) {
    r = Load(std::string(kSvcHead) + "real_server " + bad + " = nat\n");
    ExpectSingleError(r, {"service.web.real_server", "is not a real server address"});
  }
  r = Load("[service.web]\nprotocol = tcp\nvip = 2001:db8::zz\nport = 80\n");
  ExpectSingleError(r, {"service.web.vip", "'2001:db8::zz'", "is not an IPv4 address"});
}

TEST_F(ConfigTest, ServiceWordsAndKeysAreCaseInsensitive) {
  auto r = Load(
      "[PORT.Lan]\ndevice = net_tap1\n"
      "[Service.WEB]\nPROTOCOL = UDP\nVip = 10.0.0.100\nPort = 53\nScheduler = WRR\n"
      "Local_Addresses = 10.0.1.1@LAN\n"
      "REAL_SERVER 10.0.1.11 = FullNat Weight=2 UPPER=10 Lower=5\n"
      "Real_Server 10.0.1.12 = DR\nreal_server 10.0.1.13 = Tunnel\nreal_server 10.0.1.14 = NAT\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  const ServiceConfig& s = r.config.services.at(0);
  EXPECT_EQ(s.name, "WEB");  // the name keeps its case
  EXPECT_EQ(s.key.proto, Proto::udp);
  EXPECT_EQ(s.scheduler, SchedulerKind::wrr);
  EXPECT_EQ(s.local_addresses.at(0).port_name, "Lan");  // as the port's header spells it
  ASSERT_EQ(s.real_servers.size(), 4u);
  EXPECT_EQ(s.real_servers[0].fwd, FwdMode::fullnat);
  EXPECT_EQ(s.real_servers[0].weight, 2u);
  EXPECT_EQ(s.real_servers[0].upper, 10u);
  EXPECT_EQ(s.real_servers[0].lower, 5u);
  EXPECT_EQ(s.real_servers[1].fwd, FwdMode::dr);
  EXPECT_EQ(s.real_servers[2].fwd, FwdMode::tunnel);
  EXPECT_EQ(s.real_servers[3].fwd, FwdMode::nat);
}

TEST_F(ConfigTest, RealServerOptionsInAnyOrderAndSpacedEquals) {
  auto r = Load(std::string(kSvcHead) +
                "real_server 10.0.1.11 = lower =5  upper= 9\tweight = 4 nat\n"
                "real_server 10.0.1.12 = \"weight=7 dr\" ; quoted, with a comment\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  const auto& reals = r.config.services.at(0).real_servers;
  ASSERT_EQ(reals.size(), 2u);
  EXPECT_EQ(reals[0].fwd, FwdMode::nat);
  EXPECT_EQ(reals[0].weight, 4u);
  EXPECT_EQ(reals[0].upper, 9u);
  EXPECT_EQ(reals[0].lower, 5u);
  EXPECT_EQ(reals[1].fwd, FwdMode::dr);
  EXPECT_EQ(reals[1].weight, 7u);
}

TEST_F(ConfigTest, EverySchedulerIsAccepted) {
  const std::vector<std::pair<std::string, SchedulerKind>> kinds = {
      {"rr", SchedulerKind::rr},   {"wrr", SchedulerKind::wrr}, {"lc", SchedulerKind::lc},
      {"wlc", SchedulerKind::wlc}, {"sh", SchedulerKind::sh},   {"mh", SchedulerKind::mh}};
  for (const auto& [text, kind] : kinds) {
    auto r = Load(std::string(kSvcHead) + "scheduler = " + text + "\n");
    ASSERT_TRUE(r.ok()) << text << Dump(r);
    EXPECT_EQ(r.config.services.at(0).scheduler, kind) << text;
  }
}

TEST_F(ConfigTest, ServicesAndRealServersKeepFileOrder) {
  auto r = Load(
      "[service.z]\nprotocol = tcp\nvip = 10.0.0.3\nport = 1\n"
      "real_server 10.0.1.30 = nat\nreal_server 10.0.1.10 = nat\nreal_server 10.0.1.20 = nat\n"
      "[service.a]\nprotocol = tcp\nvip = 10.0.0.1\nport = 1\n"
      "[service.m]\nprotocol = tcp\nvip = 10.0.0.2\nport = 1\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  ASSERT_EQ(r.config.services.size(), 3u);
  EXPECT_EQ(r.config.services[0].name, "z");
  EXPECT_EQ(r.config.services[1].name, "a");
  EXPECT_EQ(r.config.services[2].name, "m");
  const auto& reals = r.config.services[0].real_servers;
  ASSERT_EQ(reals.size(), 3u);
  EXPECT_EQ(reals[0].key.ip.str(), "10.0.1.30");
  EXPECT_EQ(reals[1].key.ip.str(), "10.0.1.10");
  EXPECT_EQ(reals[2].key.ip.str(), "10.0.1.20");
}

TEST_F(ConfigTest, PortsMayFollowTheServicesThatNameThem) {
  auto r = Load(std::string(kSvcHead) +
                "local_addresses = 10.0.1.1@dpdk1\nreal_server 10.0.1.11 = fullnat\n" + kSvcPort);
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.services.at(0).local_addresses.at(0).port_name, "dpdk1");
}

TEST_F(ConfigTest, ServiceBoundaryValuesAreAccepted) {
  auto r = Load(
      "[service.lo]\nprotocol = tcp\nvip = 1.0.0.1\nport = 1\npersistence = 0\n"
      "real_server 10.0.1.1:1 = nat weight=0 upper=0 lower=0\n"
      "[service.hi]\nprotocol = udp\nvip = 223.255.255.254\nport = 65535\n"
      "persistence = 31536000\n"
      "real_server 10.0.1.1:65535 = nat weight=65535 upper=4294967295 lower=4294967295\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  const auto& hi = r.config.services.at(1);
  EXPECT_EQ(hi.key.port.host(), 65535);
  EXPECT_EQ(hi.persistence_s, 31536000u);
  EXPECT_EQ(hi.real_servers.at(0).weight, 65535u);
  EXPECT_EQ(hi.real_servers.at(0).upper, 4294967295u);
  EXPECT_EQ(hi.real_servers.at(0).lower, 4294967295u);
  EXPECT_EQ(r.config.services.at(0).real_servers.at(0).weight, 0u);
}

TEST_F(ConfigTest, ManyRealServersHaveNoLineLengthLimit) {
  // One key per real server: a service is not limited by the 1022-character line of the parser.
  std::string text = std::string(kSvcPort) + kSvcHead + "local_addresses = 10.0.1.1@dpdk1\n";
  for (int i = 0; i < 1000; ++i)
    text += "real_server 10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) +
            ":8080 = fullnat weight=" + std::to_string(i % 7) + "\n";
  auto r = Load(text);
  ASSERT_TRUE(r.ok()) << Dump(r);
  ASSERT_EQ(r.config.services.at(0).real_servers.size(), 1000u);
  EXPECT_EQ(r.config.services[0].real_servers[999].key.ip.str(), "10.1.3.250");
}

TEST_F(ConfigTest, SameVipWithOtherPortOrProtocolIsAnotherService) {
  auto r = Load(
      "[service.a]\nprotocol = tcp\nvip = 10.0.0.100\nport = 80\n"
      "[service.b]\nprotocol = tcp\nvip = 10.0.0.100\nport = 443\n"
      "[service.c]\nprotocol = udp\nvip = 10.0.0.100\nport = 80\n"
      "[service.d]\nprotocol = tcp\nvip = 10.0.0.101\nport = 80\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.services.size(), 4u);
}

TEST_F(ConfigTest, SameRealServerInTwoServicesIsFine) {
  auto r = Load(std::string(kSvcPort) +
                "[service.a]\nprotocol = tcp\nvip = 10.0.0.100\nport = 80\n"
                "local_addresses = 10.0.1.1@dpdk1\nreal_server 10.0.1.11 = fullnat\n"
                "[service.b]\nprotocol = tcp\nvip = 10.0.0.101\nport = 80\n"
                "local_addresses = 10.0.1.2@dpdk1\nreal_server 10.0.1.11 = fullnat\n"
                "real_server 10.0.1.12 = nat\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
}

TEST_F(ConfigTest, SharedLocalAddressWithoutASharedRealServerIsFine) {
  auto r = Load(std::string(kSvcPort) +
                "[service.a]\nprotocol = tcp\nvip = 10.0.0.100\nport = 80\n"
                "local_addresses = 10.0.1.1@dpdk1\nreal_server 10.0.1.11 = fullnat\n"
                "[service.b]\nprotocol = tcp\nvip = 10.0.0.101\nport = 80\n"
                "local_addresses = 10.0.1.1@dpdk1\nreal_server 10.0.1.12 = fullnat\n"
                // Other protocol: other tuples.
                "[service.c]\nprotocol = udp\nvip = 10.0.0.100\nport = 80\n"
                "local_addresses = 10.0.1.1@dpdk1\nreal_server 10.0.1.11 = fullnat\n"
                // The shared real server is not reached through FULLNAT here.
                "[service.d]\nprotocol = tcp\nvip = 10.0.0.102\nport = 80\n"
                "local_addresses = 10.0.1.1@dpdk1\nreal_server 10.0.1.11 = nat\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
}

TEST_F(ConfigTest, ServiceExactMessageFormat) {
  auto r = Load(std::string(kSvcHead) + "real_server 10.0.1.11 = nat weight=65536\n");
  ASSERT_EQ(r.errors.size(), 1u) << Dump(r);
  EXPECT_EQ(r.errors[0], path_ +
                             ": service.web.real_server 10.0.1.11: 'weight=65536' is out of "
                             "range (0..65535)");
}

// ---- structure

TEST_F(ConfigTest, ServiceMissingIdentity) {
  auto r = Load("[service.web]\nscheduler = rr\n");
  ExpectSingleError(r, {"[service.web]: has no protocol, vip or port (a service needs protocol, "
                        "vip and port)"});
  r = Load("[service.web]\nprotocol = tcp\nvip = 10.0.0.1\n");
  ExpectSingleError(r, {"[service.web]: has no port"});
  r = Load("[service.web]\nvip = 10.0.0.1\nport = 80\n");
  ExpectSingleError(r, {"[service.web]: has no protocol ("});
}

TEST_F(ConfigTest, EmptyServiceName) {
  auto r = Load(std::string("[service.]") + (kSvcHead + 13));
  ExpectSingleError(r, {"[service.]: has an empty service name"});
}

TEST_F(ConfigTest, InvalidServiceName) {
  auto r = Load("[service.a/b]\nprotocol = tcp\nvip = 10.0.0.1\nport = 80\n");
  ExpectSingleError(r, {"[service.a/b]: has an invalid service name 'a/b'"});
  r = Load("[service]\nprotocol = tcp\n");
  ExpectSingleError(r, {"[service]: is not a known section (expected [global], [eal], "
                        "[port.NAME], [service.NAME] or [snmp])"});
}

TEST_F(ConfigTest, DuplicateServiceSection) {
  auto r = Load(std::string(kSvcHead) + "[SERVICE.Web]\nport = 81\n");
  ExpectSingleError(r, {"[SERVICE.Web]: appears more than once (lines 1 and 5)"});
}

TEST_F(ConfigTest, UnknownKeyInService) {
  auto r = Load(std::string(kSvcHead) + "timeout = 30\n");
  ExpectSingleError(r, {"service.web.timeout: '30' is set on an unknown key (known keys: protocol, "
                        "vip, port, scheduler, persistence, local_addresses, "
                        "real_server ADDR[:PORT])"});
}

TEST_F(ConfigTest, RealServerListKeyIsUnknown) {
  auto r = Load(std::string(kSvcHead) + "real_servers = 10.0.1.11:80 nat, 10.0.1.12:80 nat\n");
  ExpectSingleError(r, {"service.web.real_servers: '10.0.1.11:80 nat, 10.0.1.12:80 nat' is set on "
                        "an unknown key"});
}

TEST_F(ConfigTest, RealServerKeyWithoutAddress) {
  auto r = Load(std::string(kSvcHead) + "real_server = nat\n");
  ExpectSingleError(r, {"service.web.real_server: 'nat' has no address in its key (write "
                        "real_server ADDR[:PORT] ="});
}

TEST_F(ConfigTest, SameRealServerKeyTwice) {
  auto r =
      Load(std::string(kSvcHead) + "real_server 10.0.1.11 = nat\nreal_server 10.0.1.11 = dr\n");
  ExpectSingleError(r, {"service.web.real_server 10.0.1.11: 'dr' is set more than once "
                        "(lines 5 and 6)"});
}

// ---- values

struct BadServiceValue {
  const char* line;       // replaces the key's line of the base service, or is added
  const char* where;      // "service.web.KEY"
  const char* shown;      // the value as the message quotes it
  const char* complaint;  // what the message says about it
};

std::ostream& operator<<(std::ostream& os, const BadServiceValue& b) { return os << b.line; }

class BadServiceValueTest : public ConfigTest,
                            public ::testing::WithParamInterface<BadServiceValue> {};

TEST_P(BadServiceValueTest, IsReportedWithFileKeyAndValue) {
  const BadServiceValue& b = GetParam();
  std::vector<std::string> lines = {"protocol = tcp", "vip = 10.0.0.100", "port = 80",
                                    "local_addresses = 10.0.1.1@dpdk1"};
  const std::string line = b.line;
  const std::string key = line.substr(0, line.find(' '));
  bool replaced = false;
  for (auto& l : lines)
    if (l.starts_with(key + " ")) l = line, replaced = true;
  if (!replaced) lines.push_back(line);
  std::string text = std::string(kSvcPort) + "[service.web]\n";
  for (const auto& l : lines) text += l + "\n";
  auto r = Load(text);
  ExpectSingleError(r, {std::string(b.where) + ": '" + b.shown + "' " + b.complaint});
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(Service, BadServiceValueTest, ::testing::Values(
    BadServiceValue{"protocol = sctp", "service.web.protocol", "sctp",
                    "is not a protocol (tcp or udp)"},
    BadServiceValue{"protocol =", "service.web.protocol", "", "is not a protocol"},
    BadServiceValue{"vip = 10.0.0.256", "service.web.vip", "10.0.0.256",
                    "is not an IPv4 address (expected a.b.c.d)"},
    BadServiceValue{"vip = 10.0.0.0/24", "service.web.vip", "10.0.0.0/24",
                    "is not an IPv4 address"},
    BadServiceValue{"vip = 10.0.0.1:80", "service.web.vip", "10.0.0.1:80",
                    "is not an IPv4 address"},
    BadServiceValue{"vip =", "service.web.vip", "", "is not an IPv4 address"},
    BadServiceValue{"vip = 0.0.0.0", "service.web.vip", "0.0.0.0",
                    "is not a unicast address a service can use"},
    BadServiceValue{"vip = 127.0.0.1", "service.web.vip", "127.0.0.1",
                    "is not a unicast address a service can use"},
    BadServiceValue{"vip = 224.0.0.5", "service.web.vip", "224.0.0.5",
                    "is not a unicast address a service can use"},
    BadServiceValue{"vip = 255.255.255.255", "service.web.vip", "255.255.255.255",
                    "is not a unicast address a service can use"},
    BadServiceValue{"port = 0", "service.web.port", "0", "is out of range (1..65535)"},
    BadServiceValue{"port = 65536", "service.web.port", "65536", "is out of range (1..65535)"},
    BadServiceValue{"port = http", "service.web.port", "http",
                    "is not a whole number (expected 1..65535)"},
    BadServiceValue{"scheduler = fastest", "service.web.scheduler", "fastest",
                    "is not a scheduler (rr, wrr, lc, wlc, sh or mh)"},
    BadServiceValue{"scheduler =", "service.web.scheduler", "", "is not a scheduler"},
    BadServiceValue{"persistence = 1h", "service.web.persistence", "1h",
                    "is not a whole number (expected 0..31536000)"},
    BadServiceValue{"persistence = 31536001", "service.web.persistence", "31536001",
                    "is out of range (0..31536000)"},
    BadServiceValue{"persistence = -1", "service.web.persistence", "-1", "is out of range"}));

INSTANTIATE_TEST_SUITE_P(LocalAddresses, BadServiceValueTest, ::testing::Values(
    BadServiceValue{"local_addresses = 10.0.1.1", "service.web.local_addresses", "10.0.1.1",
                    "is not ADDR@PORT (an IPv4 address and the name of a [port.NAME] section"},
    BadServiceValue{"local_addresses = 10.0.1.1@", "service.web.local_addresses", "10.0.1.1@",
                    "is not ADDR@PORT"},
    BadServiceValue{"local_addresses = @dpdk1", "service.web.local_addresses", "@dpdk1",
                    "is not ADDR@PORT"},
    BadServiceValue{"local_addresses = 10.0.1@dpdk1", "service.web.local_addresses",
                    "10.0.1@dpdk1", "is not ADDR@PORT"},
    BadServiceValue{"local_addresses = 10.0.1.1@dpdk1 10.0.1.2@dpdk1",
                    "service.web.local_addresses", "10.0.1.1@dpdk1 10.0.1.2@dpdk1",
                    "is not ADDR@PORT"},
    BadServiceValue{"local_addresses = 10.0.1.1@a/b", "service.web.local_addresses",
                    "10.0.1.1@a/b", "is not ADDR@PORT"},
    BadServiceValue{"local_addresses = 10.0.1.1@dpdk1, 10.0.1.2@dpdk9",
                    "service.web.local_addresses", "10.0.1.2@dpdk9",
                    "names no port (there is no [port.dpdk9] section)"},
    BadServiceValue{"local_addresses = 10.0.1.1@dpdk1,,10.0.1.2@dpdk1",
                    "service.web.local_addresses", "10.0.1.1@dpdk1,,10.0.1.2@dpdk1",
                    "has an empty entry (expected comma-separated ADDR@PORT)"},
    BadServiceValue{"local_addresses = 10.0.1.1@dpdk1,", "service.web.local_addresses",
                    "10.0.1.1@dpdk1,", "has an empty entry"},
    BadServiceValue{"local_addresses = 127.0.0.2@dpdk1", "service.web.local_addresses",
                    "127.0.0.2@dpdk1", "is not a unicast address a service can use"},
    BadServiceValue{"local_addresses = 10.0.1.1@dpdk1, 10.0.1.1@dpdk1",
                    "service.web.local_addresses", "10.0.1.1@dpdk1", "is listed more than once"},
    BadServiceValue{"local_addresses = 10.0.0.100@dpdk1", "service.web.local_addresses",
                    "10.0.0.100@dpdk1",
                    "is the vip of service.web (an address is either a VIP or a local address)"}));

INSTANTIATE_TEST_SUITE_P(RealServers, BadServiceValueTest, ::testing::Values(
    BadServiceValue{"real_server 10.0.1.300 = nat", "service.web.real_server 10.0.1.300",
                    "10.0.1.300", "is not a real server address (expected real_server a.b.c.d "
                    "or a.b.c.d:PORT, PORT 1..65535)"},
    BadServiceValue{"real_server 10.0.1.1:0 = nat", "service.web.real_server 10.0.1.1:0",
                    "10.0.1.1:0", "is not a real server address"},
    BadServiceValue{"real_server 10.0.1.1:65536 = nat", "service.web.real_server 10.0.1.1:65536",
                    "10.0.1.1:65536", "is not a real server address"},
    BadServiceValue{"real_server 10.0.1.1: = nat", "service.web.real_server 10.0.1.1:",
                    "10.0.1.1:", "is not a real server address"},
    BadServiceValue{"real_server 10.0.1.1 80 = nat", "service.web.real_server 10.0.1.1 80",
                    "10.0.1.1 80", "is not a real server address"},
    BadServiceValue{"real_server rs1 = nat", "service.web.real_server rs1", "rs1",
                    "is not a real server address"},
    BadServiceValue{"real_server 0.0.0.0 = nat", "service.web.real_server 0.0.0.0", "0.0.0.0",
                    "is not a unicast address a service can use"},
    BadServiceValue{"real_server 10.0.1.1 = masq", "service.web.real_server 10.0.1.1", "masq",
                    "is not a forwarding mode or option (fullnat, nat, dr, tunnel, weight=N, "
                    "upper=N, lower=N)"},
    BadServiceValue{"real_server 10.0.1.1 = fwd=nat", "service.web.real_server 10.0.1.1",
                    "fwd=nat", "is not a forwarding mode or option"},
    BadServiceValue{"real_server 10.0.1.1 = nat,weight=1", "service.web.real_server 10.0.1.1",
                    "nat,weight=1", "is not a forwarding mode or option"},
    BadServiceValue{"real_server 10.0.1.1 = nat dr", "service.web.real_server 10.0.1.1", "dr",
                    "is a second forwarding mode"},
    BadServiceValue{"real_server 10.0.1.1 = weight=65536", "service.web.real_server 10.0.1.1",
                    "weight=65536", "is out of range (0..65535)"},
    BadServiceValue{"real_server 10.0.1.1 = weight=-1", "service.web.real_server 10.0.1.1",
                    "weight=-1", "is out of range (0..65535)"},
    BadServiceValue{"real_server 10.0.1.1 = weight=", "service.web.real_server 10.0.1.1",
                    "weight=", "is not a whole number (expected 0..65535)"},
    BadServiceValue{"real_server 10.0.1.1 = weight=1.5", "service.web.real_server 10.0.1.1",
                    "weight=1.5", "is not a whole number"},
    BadServiceValue{"real_server 10.0.1.1 = weight==3", "service.web.real_server 10.0.1.1",
                    "weight==3", "is not a whole number"},
    BadServiceValue{"real_server 10.0.1.1 = weight=1 weight=2", "service.web.real_server 10.0.1.1",
                    "weight=2", "sets weight a second time"},
    BadServiceValue{"real_server 10.0.1.1 = upper=4294967296", "service.web.real_server 10.0.1.1",
                    "upper=4294967296", "is out of range (0..4294967295)"},
    BadServiceValue{"real_server 10.0.1.1 = upper=x", "service.web.real_server 10.0.1.1",
                    "upper=x", "is not a whole number (expected 0..4294967295)"},
    BadServiceValue{"real_server 10.0.1.1 = lower=4294967296", "service.web.real_server 10.0.1.1",
                    "lower=4294967296", "is out of range (0..4294967295)"},
    BadServiceValue{"real_server 10.0.1.1 = upper=100 lower=101", "service.web.real_server 10.0.1.1",
                    "lower=101", "is above upper=100 (IPVS refuses a lower threshold above the "
                    "upper one)"},
    BadServiceValue{"real_server 10.0.1.1 = lower=5", "service.web.real_server 10.0.1.1",
                    "lower=5", "is set without an upper threshold (IPVS refuses lower > upper; "
                    "add upper=N with N >= 5)"},
    BadServiceValue{"real_server 10.0.1.1:8080 = dr", "service.web.real_server 10.0.1.1:8080",
                    "10.0.1.1:8080", "has port 8080, but dr forwards without changing the "
                    "destination port: it must be the service's (80)"},
    BadServiceValue{"real_server 10.0.1.1:8080 = tunnel", "service.web.real_server 10.0.1.1:8080",
                    "10.0.1.1:8080", "has port 8080, but tunnel forwards"},
    BadServiceValue{"real_server 10.0.0.100 = nat", "service.web.real_server 10.0.0.100",
                    "10.0.0.100", "is the vip of service.web (a real server cannot be the load "
                    "balancer itself)"},
    BadServiceValue{"real_server 10.0.1.1 = nat", "service.web.real_server 10.0.1.1",
                    "10.0.1.1", "is a local address of service.web (a real server cannot be the "
                    "load balancer itself)"}));
// clang-format on

TEST_F(ConfigTest, ThresholdsLowerEqualToUpperAndDrOnTheServicePort) {
  auto r = Load(std::string(kSvcHead) +
                "real_server 10.0.1.11 = nat upper=100 lower=100\n"
                "real_server 10.0.1.12:80 = dr\nreal_server 10.0.1.13 = tunnel\n"
                "real_server 10.0.1.14:8080 = nat\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.services.at(0).real_servers.at(3).key.port.host(), 8080);
}

// ---- rules across keys and services

TEST_F(ConfigTest, DuplicateService) {
  auto r =
      Load(std::string(kSvcHead) + "[service.www]\nprotocol = TCP\nvip = 10.0.0.100\nport = 80\n");
  ExpectSingleError(r, {"service.www.vip: '10.0.0.100' with tcp port 80 is already service.web "
                        "(services must differ in protocol, vip or port)"});
}

TEST_F(ConfigTest, DuplicateRealServer) {
  auto r = Load(std::string(kSvcHead) +
                "real_server 10.0.1.11 = nat\n"
                "real_server 10.0.1.11:80 = dr\n");
  ExpectSingleError(r, {"service.web.real_server 10.0.1.11:80: '10.0.1.11:80' is the same real "
                        "server (10.0.1.11:80) as real_server 10.0.1.11 of service.web; each "
                        "may appear once per service"});
  r = Load(std::string(kSvcHead) +
           "real_server 10.0.1.11:81 = nat\n"
           "real_server  10.0.1.11:81 = nat\n");
  ExpectSingleError(r, {"service.web.real_server  10.0.1.11:81: '10.0.1.11:81' is the same real "
                        "server (10.0.1.11:81) as real_server 10.0.1.11:81 of service.web"});
  // Another port is another real server.
  EXPECT_TRUE(Load(std::string(kSvcHead) + "real_server 10.0.1.11 = nat\n"
                                           "real_server 10.0.1.11:81 = nat\n")
                  .ok());
}

// The control socket accepts -a ... -b before --add-laddr (the ipvsadm/DPVS order), so the file
// accepts a FULLNAT real server without a local address too, with a warning (lb/model.h).
TEST_F(ConfigTest, FullnatRealServerWithoutALocalAddressIsAWarning) {
  auto r = Load(std::string(kSvcHead) + "real_server 10.0.1.11 = weight=2\n");
  ExpectSingleWarning(r, {"service.web.real_server 10.0.1.11: 'weight=2' forwards with fullnat "
                          "(the default), which needs a source address, but "
                          "service.web.local_addresses is empty: accepted, but its connections "
                          "are dropped until the service has one (add ADDR@PORT entries or choose "
                          "nat, dr or tunnel)"});
  r = Load(std::string(kSvcHead) + "local_addresses =\nreal_server 10.0.1.11 = fullnat\n");
  ExpectSingleWarning(r, {"service.web.real_server 10.0.1.11: 'fullnat' forwards with fullnat, "
                          "which needs"});
  // With a local address: no warning.
  r = Load(std::string(kSvcPort) + kSvcHead +
           "local_addresses = 10.0.1.1@dpdk1\nreal_server 10.0.1.11 = fullnat\n");
  EXPECT_TRUE(r.ok()) << Dump(r);
  EXPECT_TRUE(r.warnings.empty());
  // NAT, DR and TUNNEL keep the client address: no local address needed.
  EXPECT_TRUE(Load(std::string(kSvcHead) + "real_server 10.0.1.11 = nat\n"
                                           "real_server 10.0.1.12 = dr\n"
                                           "real_server 10.0.1.13 = tunnel\n")
                  .ok());
}

TEST_F(ConfigTest, BrokenLocalAddressesDoNotAlsoReportMissingOnes) {
  auto r =
      Load(std::string(kSvcHead) + "local_addresses = 10.0.1.1\nreal_server 10.0.1.11 = fullnat\n");
  ExpectSingleError(r, {"service.web.local_addresses: '10.0.1.1' is not ADDR@PORT"});
}

TEST_F(ConfigTest, LocalAddressOnUnknownPort) {
  auto r = Load(std::string(kSvcHead) +
                "local_addresses = 10.0.1.1@dpdk1\nreal_server 10.0.1.11 = fullnat\n");
  ExpectSingleError(r, {"service.web.local_addresses: '10.0.1.1@dpdk1' names no port (there is no "
                        "[port.dpdk1] section)"});
}

TEST_F(ConfigTest, LocalAddressThatIsAnotherServicesVip) {
  auto r = Load(std::string(kSvcPort) +
                "[service.a]\nprotocol = tcp\nvip = 10.0.0.100\nport = 80\n"
                "local_addresses = 10.0.0.101@dpdk1\n"
                "[service.b]\nprotocol = udp\nvip = 10.0.0.101\nport = 53\n");
  ExpectSingleError(r, {"service.a.local_addresses: '10.0.0.101@dpdk1' is the vip of service.b"});
}

TEST_F(ConfigTest, RealServerThatIsAnotherServicesLocalAddress) {
  auto r = Load(std::string(kSvcPort) +
                "[service.a]\nprotocol = tcp\nvip = 10.0.0.100\nport = 80\n"
                "real_server 10.0.1.1 = nat\n"
                "[service.b]\nprotocol = udp\nvip = 10.0.0.101\nport = 53\n"
                "local_addresses = 10.0.1.1@dpdk1\n");
  ExpectSingleError(r, {"service.a.real_server 10.0.1.1: '10.0.1.1' is a local address of "
                        "service.b"});
}

// Settled rule (lb/model.h): a local address has one port pool shared by every service that
// uses it (LbRegistry), so services may share it, also with the same FULLNAT real servers (this
// was refused when each service had its own pools). It must name the same port everywhere.
TEST_F(ConfigTest, SharedLocalAddressAndFullnatRealServer) {
  auto r = Load(std::string(kSvcPort) +
                "[service.a]\nprotocol = tcp\nvip = 10.0.0.100\nport = 80\n"
                "local_addresses = 10.0.1.1@dpdk1, 10.0.1.2@dpdk1\n"
                "real_server 10.0.1.11:8080 = fullnat\nreal_server 10.0.1.12:8080 = fullnat\n"
                "[service.b]\nprotocol = tcp\nvip = 10.0.0.100\nport = 8080\n"
                "local_addresses = 10.0.1.3@dpdk1, 10.0.1.2@DPDK1\n"
                "real_server 10.0.1.11 = fullnat\nreal_server 10.0.1.12 = fullnat\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_EQ(r.config.services.at(1).local_addresses.at(1).port_name, "dpdk1");
}

TEST_F(ConfigTest, SharedLocalAddressOnAnotherPort) {
  auto r = Load(std::string(kSvcPort) + "[port.dpdk2]\ndevice = net_tap2\n" +
                "[service.a]\nprotocol = tcp\nvip = 10.0.0.100\nport = 80\n"
                "local_addresses = 10.0.1.2@dpdk1\n"
                "[service.b]\nprotocol = udp\nvip = 10.0.0.100\nport = 53\n"
                "local_addresses = 10.0.1.2@dpdk2\n");
  ExpectSingleError(r, {"service.b.local_addresses: '10.0.1.2@dpdk2' is a local address of "
                        "service.a on port dpdk1 (a local address has one port pool, on one "
                        "port: name the same port in every service that uses it)"});
}

TEST_F(ConfigTest, AllServiceErrorsAreReportedInFileOrder) {
  path_ = kDataDir + "/bad_services.conf";
  auto r = load_config(path_);
  const std::vector<std::string> expected = {
      "service.web.protocol: 'sctp'",
      "service.web.vip: '10.0.0.300'",
      "service.web.port: '0'",
      "service.web.scheduler: 'fastest'",
      "service.web.persistence: '1h'",
      "service.web.local_addresses: '10.0.1.2' is not ADDR@PORT",
      "service.web.local_addresses: '10.0.1.1@dpdk9' names no port",
      "service.web.real_server 10.0.1.11:80: 'weight=70000' is out of range",
      "service.web.real_server 10.0.1.12:80: 'lower=20' is above upper=10",
      "service.web.real_server 10.0.1.13:80: 'masq' is not a forwarding mode",
      "service.web.real_servers: '10.0.1.14:80' is set on an unknown key",
      "service.web.timeout: '30' is set on an unknown key",
      "service.api.real_server 10.0.1.21:443: '10.0.1.21:443' is the same real server",
      "service.api.real_server 10.0.1.22:8443: '10.0.1.22:8443' has port 8443, but dr",
      "service.api2.vip: '10.0.0.100' with tcp port 443 is already service.api",
      "service.api2.local_addresses: '10.0.0.100@dpdk1' is the vip of service.api",
      "[service.noport]: has no port",
  };
  ASSERT_EQ(r.errors.size(), expected.size()) << Dump(r);
  // A FULLNAT real server without a local address is accepted with a warning (it was an error).
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find(path_ + ": service.api.real_server 10.0.1.21: 'weight=1' forwards "
                                       "with fullnat (the default)"),
            std::string::npos)
      << r.warnings[0];
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(r.errors[i].rfind(path_ + ": ", 0), 0u) << r.errors[i];
    EXPECT_NE(r.errors[i].find(expected[i]), std::string::npos)
        << "error " << i << " should contain [" << expected[i] << "]" << Dump(r);
  }
}

TEST_F(ConfigTest, BinaryGarbageDoesNotCrash) {
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919) & 0xff);
  auto r = Load(junk);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(HasError(r, {path_ + ": "}));
}

// ---------------------------------------------------------------------------------------------
// [snmp]: vsgate-snmp's settings; vsgated validates them and otherwise ignores them.

TEST_F(ConfigTest, SnmpDefaultsWhenSectionIsAbsent) {
  auto r = Load("[global]\nworkers = 1\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.snmp.agentx_socket, "/var/agentx/master");
  EXPECT_EQ(r.config.snmp.control_socket, "");
  EXPECT_EQ(r.config.snmp.cache_seconds, 1u);
  EXPECT_FALSE(r.config.snmp.log_level_set);
}

TEST_F(ConfigTest, SnmpSectionIsReadAlongTheDaemonsSettings) {
  auto r = Load(
      "[global]\ncontrol_socket = /run/x/control.sock\n"
      "[snmp]\nagentx_socket = tcp:127.0.0.1:705\ncontrol_socket = /run/y/c.sock\n"
      "cache_seconds = 5\nlog_level = DEBUG\n"
      "[port.dpdk0]\ndevice = net_tap0\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.snmp.agentx_socket, "tcp:127.0.0.1:705");
  EXPECT_EQ(r.config.snmp.control_socket, "/run/y/c.sock");
  EXPECT_EQ(r.config.snmp.cache_seconds, 5u);
  EXPECT_TRUE(r.config.snmp.log_level_set);
  EXPECT_EQ(r.config.snmp.log_level, LogLevel::debug);
  EXPECT_EQ(r.config.global.control_socket, "/run/x/control.sock");
  EXPECT_EQ(r.config.ports.size(), 1u);
  r = Load("[snmp]\nagentx_socket = /tmp/agentx/master\n");
  ASSERT_TRUE(r.ok()) << Dump(r);
  EXPECT_EQ(r.config.snmp.agentx_socket, "/tmp/agentx/master");
}

TEST_F(ConfigTest, SnmpBadValues) {
  ExpectSingleError(Load("[snmp]\nagentx_socket = master\n"),
                    {"snmp.agentx_socket: 'master' is not an absolute Unix socket path or "
                     "tcp:HOST:PORT"});
  ExpectSingleError(Load("[snmp]\nagentx_socket = tcp:localhost:0\n"),
                    {"snmp.agentx_socket: 'tcp:localhost:0'"});
  ExpectSingleError(Load("[snmp]\nagentx_socket = tcp:localhost\n"),
                    {"snmp.agentx_socket: 'tcp:localhost'"});
  ExpectSingleError(Load("[snmp]\nagentx_socket = udp:localhost:705\n"),
                    {"snmp.agentx_socket: 'udp:localhost:705'"});
  ExpectSingleError(Load("[snmp]\ncontrol_socket = run/c.sock\n"),
                    {"snmp.control_socket: 'run/c.sock' is not an absolute path"});
  ExpectSingleError(Load("[snmp]\ncache_seconds = 0\n"),
                    {"snmp.cache_seconds: '0' is out of range (1..3600)"});
  ExpectSingleError(Load("[snmp]\nlog_level = chatty\n"),
                    {"snmp.log_level: 'chatty' is not a log level"});
  ExpectSingleError(Load("[snmp]\ncommunity = public\n"),
                    {"snmp.community: 'public' is set on an unknown key",
                     "agentx_socket, control_socket, cache_seconds, log_level"});
}

TEST(AgentxSocket, Forms) {
  EXPECT_TRUE(valid_agentx_socket("/var/agentx/master"));
  EXPECT_TRUE(valid_agentx_socket("tcp:localhost:705"));
  EXPECT_TRUE(valid_agentx_socket("tcp:127.0.0.1:65535"));
  EXPECT_FALSE(valid_agentx_socket(""));
  EXPECT_FALSE(valid_agentx_socket("agentx"));
  EXPECT_FALSE(valid_agentx_socket("tcp::705"));
  EXPECT_FALSE(valid_agentx_socket("tcp:host:65536"));
  EXPECT_FALSE(valid_agentx_socket("tcp:host:7x"));
  EXPECT_FALSE(valid_agentx_socket("tcp:ho st:705"));
  EXPECT_FALSE(valid_agentx_socket("/" + std::string(200, 'a')));
}

}  // namespace
}  // namespace vsgate
