// The lb.* command module through the real dispatch, over a real LbControl (model + registry,
// no EAL): replies, ipvsadm-worded errors, what a refusal leaves unchanged, what is published
// and what is handed to neighbour resolution.
#include "app/commands/lb_commands.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "app/clock.h"
#include "app/dispatch.h"

namespace vsgate {
namespace {

using test::dispatch;

const Json kWeb{{"proto", "tcp"}, {"vip", "10.0.0.100"}, {"port", 80}};

Json with(Json base, const Json& more) {
  for (const auto& [k, v] : more.items()) base[k] = v;
  return base;
}

class LbCommandsTest : public ::testing::Test {
 protected:
  LbCommandsTest()
      : lb(
            2, resolver, [this] { ++published; }, 1000),
        listing({}) {
    lb.set_ports({{"dpdk0", 0}, {"dpdk1", 1}});
    register_lb_commands(table, {lb, listing});
  }

  NeighbourResolver resolver;
  unsigned published = 0;
  LbControl lb;
  ConnListing listing;
  CommandTable table;
};

TEST_F(LbCommandsTest, EveryLbCommandIsRegistered) {
  for (const char* c :
       {"lb.service.add", "lb.service.edit", "lb.service.del", "lb.clear", "lb.real.add",
        "lb.real.edit", "lb.real.del", "lb.list", "lb.zero", "lb.timeouts.set", "lb.conns",
        "lb.laddr.add", "lb.laddr.del", "lb.laddr.get"})
    EXPECT_TRUE(table.contains(c)) << c;
}

TEST_F(LbCommandsTest, AServiceIsAddedListedEditedAndDeleted) {
  auto r = dispatch(table, "lb.service.add", with(kWeb, {{"scheduler", "wrr"}}));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result, Json::object());
  EXPECT_EQ(published, 1u);

  r = dispatch(table, "lb.list");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.result["services"].size(), 1u);
  const Json& s = r.result["services"][0];
  EXPECT_EQ(s["proto"], "tcp");
  EXPECT_EQ(s["vip"], "10.0.0.100");
  EXPECT_EQ(s["port"], 80);
  EXPECT_EQ(s["scheduler"], "wrr");
  EXPECT_EQ(s["persistence"], 0);
  EXPECT_EQ(s["reals"], Json::array());
  EXPECT_EQ(s["laddrs"], Json::array());
  EXPECT_EQ(s["stats"],
            (Json{{"conns", 0}, {"inpkts", 0}, {"outpkts", 0}, {"inbytes", 0}, {"outbytes", 0}}));
  EXPECT_EQ(r.result["timeouts"], (Json{{"tcp", 900}, {"tcpfin", 120}, {"udp", 300}}));

  r = dispatch(table, "lb.service.edit", with(kWeb, {{"scheduler", "rr"}}));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(dispatch(table, "lb.list").result["services"][0]["scheduler"], "rr");
  EXPECT_EQ(published, 2u);

  r = dispatch(table, "lb.service.del", kWeb);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(dispatch(table, "lb.list").result["services"], Json::array());
  EXPECT_EQ(published, 3u);
}

TEST_F(LbCommandsTest, RefusalsAreErrorRepliesThatChangeNothing) {
  ASSERT_TRUE(dispatch(table, "lb.service.add", kWeb).ok);
  const unsigned before = published;
  auto r = dispatch(table, "lb.service.add", kWeb);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "Service already exists");
  r = dispatch(table, "lb.service.del", with(kWeb, {{"port", 81}}));
  EXPECT_EQ(r.error, "No such service");
  r = dispatch(table, "lb.service.edit", with(kWeb, {{"port", 81}}));
  EXPECT_FALSE(r.ok);
  r = dispatch(table, "lb.list", with(kWeb, {{"port", 81}}));
  EXPECT_EQ(r.error, "No such service");
  r = dispatch(table, "lb.laddr.get", with(kWeb, {{"port", 81}}));
  EXPECT_EQ(r.error, "No such service");
  r = dispatch(table, "lb.real.del", with(kWeb, {{"rip", "10.0.1.2"}}));
  EXPECT_EQ(r.error, "No such destination");
  r = dispatch(table, "lb.service.add", with(kWeb, {{"proto", "sctp"}}));
  EXPECT_EQ(r.error, "proto must be tcp or udp, not 'sctp'");
  r = dispatch(table, "lb.service.add", with(kWeb, {{"scheduler", "fastest"}}));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(published, before) << "a refusal publishes nothing";
  EXPECT_EQ(lb.model().services().size(), 1u);
  EXPECT_EQ(lb.registry().services().size(), 1u);
}

TEST_F(LbCommandsTest, ARealServerIsResolvedWhenAdded) {
  ASSERT_TRUE(dispatch(table, "lb.service.add", kWeb).ok);
  auto r = dispatch(table, "lb.real.add",
                    with(kWeb, {{"rip", "10.0.1.2"}, {"fwd", "nat"}, {"weight", 3}}));
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(resolver.queued().size(), 1u);
  EXPECT_EQ(resolver.queued()[0], Ipv4Addr::parse("10.0.1.2")->be);

  r = dispatch(table, "lb.real.add", with(kWeb, {{"rip", "10.0.1.2"}, {"fwd", "nat"}}));
  EXPECT_EQ(r.error, "Destination already exists");
  EXPECT_EQ(resolver.queued().size(), 1u) << "a refused real server is not resolved";

  const Json real = dispatch(table, "lb.list").result["services"][0]["reals"][0];
  EXPECT_EQ(real["rip"], "10.0.1.2");
  EXPECT_EQ(real["rport"], 80);
  EXPECT_EQ(real["fwd"], "nat");
  EXPECT_EQ(real["weight"], 3);
  EXPECT_EQ(real["active"], 0);
  EXPECT_EQ(real["inactive"], 0);
  EXPECT_EQ(real["rates"],
            (Json{{"cps", 0}, {"inpps", 0}, {"outpps", 0}, {"inbps", 0}, {"outbps", 0}}));

  ASSERT_TRUE(dispatch(table, "lb.real.edit", with(kWeb, {{"rip", "10.0.1.2"}, {"weight", 5}})).ok);
  EXPECT_EQ(dispatch(table, "lb.list").result["services"][0]["reals"][0]["weight"], 5);
  ASSERT_TRUE(dispatch(table, "lb.real.del", with(kWeb, {{"rip", "10.0.1.2"}})).ok);
  EXPECT_EQ(dispatch(table, "lb.list").result["services"][0]["reals"], Json::array());
}

TEST_F(LbCommandsTest, LocalAddressesBelongToAKnownPort) {
  ASSERT_TRUE(dispatch(table, "lb.service.add", kWeb).ok);
  auto r =
      dispatch(table, "lb.laddr.add", with(kWeb, {{"laddr", "10.0.1.1"}, {"port_name", "dpdk9"}}));
  EXPECT_EQ(r.error, "no such port: dpdk9");
  EXPECT_EQ(dispatch(table, "lb.laddr.get", kWeb).result["laddrs"], Json::array());

  r = dispatch(table, "lb.laddr.add", with(kWeb, {{"laddr", "10.0.1.1"}, {"port_name", "dpdk1"}}));
  ASSERT_TRUE(r.ok) << r.error;
  r = dispatch(table, "lb.laddr.get", kWeb);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result["laddrs"],
            (Json::array({{{"laddr", "10.0.1.1"}, {"port_name", "dpdk1"}, {"conns", 0}}})));
  EXPECT_EQ(lb.registry().find(lb.registry().services()[0]->key)->laddrs[0]->port_id, 1);
  EXPECT_EQ(dispatch(table, "lb.list").result["services"][0]["laddrs"], r.result["laddrs"]);

  r = dispatch(table, "lb.laddr.del", with(kWeb, {{"laddr", "10.0.1.x"}}));
  EXPECT_EQ(r.error, "illegal local address '10.0.1.x'");
  r = dispatch(table, "lb.laddr.del", with(kWeb, {{"laddr", "10.0.1.1"}, {"port_name", "dpdk1"}}));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(dispatch(table, "lb.laddr.get", kWeb).result["laddrs"], Json::array());
}

TEST_F(LbCommandsTest, TimeoutsAreSetAndReported) {
  auto r = dispatch(table, "lb.timeouts.set", {{"tcp", 60}, {"tcpfin", 0}, {"udp", 30}});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result, (Json{{"tcp", 60}, {"tcpfin", 120}, {"udp", 30}}));
  EXPECT_EQ(dispatch(table, "lb.list").result["timeouts"], r.result);
  EXPECT_EQ(published, 1u);
}

TEST_F(LbCommandsTest, ZeroMovesTheStatsResetTimeForward) {
  EXPECT_EQ(lb.stats_reset_unix_us(), 1000u) << "counters count from the start";
  ASSERT_TRUE(dispatch(table, "lb.service.add", kWeb).ok);
  ASSERT_TRUE(dispatch(table, "lb.zero").ok);
  const uint64_t first = lb.stats_reset_unix_us();
  EXPECT_GT(first, 1000u);
  ASSERT_TRUE(dispatch(table, "lb.zero", kWeb).ok);
  EXPECT_GT(lb.stats_reset_unix_us(), first) << "strictly increasing";
  EXPECT_EQ(dispatch(table, "lb.zero", with(kWeb, {{"port", 81}})).error, "No such service");
}

TEST_F(LbCommandsTest, ClearRemovesEveryService) {
  ASSERT_TRUE(dispatch(table, "lb.service.add", kWeb).ok);
  ASSERT_TRUE(dispatch(table, "lb.service.add", with(kWeb, {{"port", 443}})).ok);
  ASSERT_TRUE(dispatch(table, "lb.clear").ok);
  EXPECT_EQ(dispatch(table, "lb.list").result["services"], Json::array());
  EXPECT_TRUE(lb.model().services().empty());
}

TEST_F(LbCommandsTest, ConnsNeedsTheControlSocket) {
  auto r = dispatch(table, "lb.conns");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "lb.conns: cannot answer here (needs the control socket)");
  EXPECT_EQ(listing.waiting(), 0u);
}

// lb.conns over a real control socket: the request is deferred, the listing round (here over
// no workers) completes it from the main loop.
TEST(LbConns, IsADeferredReplyCompletedByTheListingRound) {
  char dir_tmpl[] = "/tmp/vsgate-lbconns-XXXXXX";
  ASSERT_NE(mkdtemp(dir_tmpl), nullptr);
  const std::string dir = dir_tmpl;
  ControlServerOptions opts;
  opts.path = dir + "/control.sock";
  opts.group = "";
  auto server = ControlServer::listen(opts);
  ASSERT_TRUE(server.ok()) << server.message();
  NeighbourResolver resolver;
  LbControl lb(
      1, resolver, [] {}, 0);
  ConnListing listing({});
  register_lb_commands((*server)->commands(), {lb, listing});

  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, opts.path.c_str(), sizeof sa.sun_path - 1);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  const std::string req = "{\"cmd\":\"lb.conns\"}\n";
  ASSERT_EQ(write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));

  for (int i = 0; i < 200 && listing.waiting() == 0; ++i) (*server)->poll(10);
  ASSERT_EQ(listing.waiting(), 1u) << "the request waits for the round";
  EXPECT_EQ((*server)->counters().deferred, 1u);
  listing.poll(monotonic_us(), nullptr, **server);
  EXPECT_EQ(listing.waiting(), 0u);

  std::string reply;
  for (int i = 0; i < 200 && reply.find('\n') == std::string::npos; ++i) {
    (*server)->poll(10);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) == 1) {
      char buf[256];
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n > 0) reply.append(buf, static_cast<size_t>(n));
    }
  }
  EXPECT_EQ(reply, "{\"ok\":true,\"result\":{\"connections\":[]}}\n");
  close(fd);
  server->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vsgate
