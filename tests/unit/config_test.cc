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

TEST_F(ConfigTest, ReferenceExampleIsValid) {
  // The ```ini example of docs/CONFIG.md must stay loadable.
  std::ifstream doc(std::string(VSGATE_TEST_DATA_DIR) + "/../../../docs/CONFIG.md");
  ASSERT_TRUE(doc) << "docs/CONFIG.md not found";
  std::string line, example;
  bool in_example = false;
  while (std::getline(doc, line)) {
    if (in_example && line == "```") break;
    if (in_example) example += line + "\n";
    if (line == "```ini") in_example = true;
  }
  ASSERT_FALSE(example.empty());
  auto r = Load(example);
  ASSERT_TRUE(r.ok()) << Dump(r);
  ASSERT_EQ(r.config.ports.size(), 2u);
  EXPECT_EQ(r.config.ports[1].addresses.size(), 2u);
}

TEST_F(ConfigTest, BoundaryValuesAreAccepted) {
  auto r = Load(
      "[global]\nworkers = 64\nidle_sleep_us = 100000\npunt_ring_size = 65536\n"
      "arp_resync_ms = 60000\n"
      "[port.lo]\ndevice = net_ring0\nrx_queues = 64\ntx_queues = 64\nrx_descriptors = 64\n"
      "tx_descriptors = 16384\nmtu = 9600\n"
      "[port.hi]\ndevice = net_ring1\ntx_queues = 64\nmtu = 68\nrx_descriptors = 16384\ntx_descriptors = 64\n");
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

TEST_F(ConfigTest, BinaryGarbageDoesNotCrash) {
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919) & 0xff);
  auto r = Load(junk);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(HasError(r, {path_ + ": "}));
}

}  // namespace
}  // namespace vsgate
