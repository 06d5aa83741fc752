// The mailboxes between the main lcore and a worker (lcore/mailbox.h, lcore/messages.h), and
// what LbWorker::serve_control() does with them: timeouts applied once per generation, and the
// connection listing done in bounded steps, one per loop turn.
#include "lcore/mailbox.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "lab_topology.h"
#include "lcore/messages.h"

namespace vsgate {
namespace {

using test::real;
using test::svc;

TEST(Mailbox, FifoAndAFullMailboxIsACountedFailure) {
  auto mb = Mailbox<ToMain>::create("mbx_fifo", 4, RingDiscipline::spsc);
  ASSERT_TRUE(mb.ok()) << mb.message();
  Mailbox<ToMain>& m = **mb;
  EXPECT_EQ(m.capacity(), 4u);
  for (uint32_t i = 1; i <= 4; ++i) EXPECT_TRUE(m.send(ToMain::neighbour_request_msg(i)));
  EXPECT_FALSE(m.send(ToMain::neighbour_request_msg(5)));
  EXPECT_EQ(m.full(), 1u);
  ToMain out[8];
  ASSERT_EQ(m.receive(out, 8), 4u);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(out[i].ip_be, i + 1);
  EXPECT_EQ(m.receive(out, 8), 0u);
  // Names are unique, as rte_ring wants: a second one of the same name is an error, not a crash.
  auto dup = Mailbox<ToMain>::create("mbx_fifo", 4, RingDiscipline::mpsc);
  EXPECT_FALSE(dup.ok());
}

// One worker of the shared test topology (lab_topology.h) with a single DR service, so that
// real-server slot 0 is 10.0.1.2:80.
class ServeControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::lab::LbWorldOptions o;
    o.conn_capacity = kCapacity;
    o.lab_services = false;
    world_ = std::make_unique<test::lab::LbWorld>(o);
    ASSERT_EQ(world_->error, "");
    ASSERT_TRUE(
        world_->reg->add_service({svc(Proto::tcp, "10.0.0.100", 80), SchedulerKind::rr, 0}).ok());
    ASSERT_TRUE(
        world_->reg->add_real(svc(Proto::tcp, "10.0.0.100", 80), real("10.0.1.2", 80, FwdMode::dr))
            .ok());
    to_main_ = world_->to_main.get();
    inbox_ = world_->to_worker.get();
    worker_ = world_->worker.get();
  }
  // Connection i: client 10.1.x.y:i -> VIP, DR (no out key).
  void add_conns(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
      const ConnTuple t{0x0a010000u + i, test::ip("10.0.0.100").be, static_cast<uint16_t>(1024 + i),
                        80, IPPROTO_TCP};
      Conn* c = worker_->conns().insert(t, nullptr, kNow);
      ASSERT_NE(c, nullptr);
      c->fwd = FwdMode::dr;
      c->real_server = 0;
    }
  }
  std::vector<ToMain> from_worker() {
    std::vector<ToMain> v(64);
    v.resize(to_main_->receive(v.data(), 64));
    return v;
  }

  static constexpr size_t kCapacity = 4096;
  static constexpr uint32_t kNow = 1000;
  std::unique_ptr<test::lab::LbWorld> world_;
  Mailbox<ToMain>* to_main_ = nullptr;
  Mailbox<ToWorker>* inbox_ = nullptr;
  LbWorker* worker_ = nullptr;
};

// Whatever object carries them: a generation is applied once, in order; an older or repeated
// generation changes nothing (the worker used to compare snapshot pointers, and missed a
// change when a new snapshot reused a freed address).
TEST_F(ServeControlTest, TimeoutsAreAppliedOncePerGeneration) {
  Timeouts a = Timeouts::ipvs_defaults(), b = a, c = a;
  ASSERT_TRUE(a.set_ipvsadm(100, 0, 0));
  ASSERT_TRUE(b.set_ipvsadm(200, 20, 0));
  ASSERT_TRUE(c.set_ipvsadm(300, 30, 30));
  EXPECT_EQ(worker_->timeouts_generation(), 0u);

  ASSERT_TRUE(inbox_->send(ToWorker::set_timeouts_msg(1, a)));
  EXPECT_FALSE(worker_->serve_control(*inbox_, kNow));
  EXPECT_EQ(worker_->conns().timeouts(), a);
  EXPECT_EQ(worker_->timeouts_generation(), 1u);

  // A newer generation is applied; a stale or repeated one after it is not.
  ASSERT_TRUE(inbox_->send(ToWorker::set_timeouts_msg(2, b)));
  ASSERT_TRUE(inbox_->send(ToWorker::set_timeouts_msg(1, c)));  // stale
  ASSERT_TRUE(inbox_->send(ToWorker::set_timeouts_msg(2, c)));  // repeated
  worker_->serve_control(*inbox_, kNow);
  EXPECT_EQ(worker_->conns().timeouts(), b);
  EXPECT_EQ(worker_->timeouts_generation(), 2u);

  ASSERT_TRUE(inbox_->send(ToWorker::set_timeouts_msg(3, c)));
  worker_->serve_control(*inbox_, kNow);
  EXPECT_EQ(worker_->conns().timeouts(), c);
  EXPECT_EQ(worker_->conns().timeout_of(
                *worker_->conns().insert({1, 2, 3, 4, IPPROTO_UDP}, nullptr, kNow)),
            ticks_from_seconds(30));
  EXPECT_TRUE(from_worker().empty());
}

TEST_F(ServeControlTest, ListingTakesBoundedStepsAndListsEveryConnectionOnce) {
  add_conns(3000);
  std::vector<ConnRow> rows(5000);
  ASSERT_TRUE(inbox_->send(ToWorker::list_conns_msg(7, rows.data(), 5000)));
  // One step per turn over kListSlotsPerTurn slots: the answer comes with the last one.
  const unsigned steps = kCapacity / LbWorker::kListSlotsPerTurn;
  for (unsigned turn = 1; turn < steps; ++turn) {
    EXPECT_TRUE(worker_->serve_control(*inbox_, kNow));
    EXPECT_TRUE(from_worker().empty()) << "answered after " << turn << " turns";
  }
  EXPECT_TRUE(worker_->serve_control(*inbox_, kNow));
  std::vector<ToMain> got = from_worker();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, ToMain::Kind::list_done);
  EXPECT_EQ(got[0].request, 7u);
  ASSERT_EQ(got[0].rows, 3000u);
  EXPECT_FALSE(worker_->serve_control(*inbox_, kNow));  // nothing left to do

  std::set<uint16_t> ports;
  for (uint32_t i = 0; i < 3000; ++i) {
    const ConnRow& r = rows[i];
    EXPECT_EQ(r.proto, IPPROTO_TCP);
    EXPECT_EQ(r.state, "NONE");
    EXPECT_EQ(r.in.dst_ip, test::ip("10.0.0.100").be);
    EXPECT_FALSE(r.has_out);
    EXPECT_EQ(r.fwd, FwdMode::dr);
    EXPECT_EQ(r.real_server, 0u);
    EXPECT_GT(r.expires_ticks, 0u);
    ports.insert(r.in.src_port);
  }
  EXPECT_EQ(ports.size(), 3000u);  // each connection once
}

TEST_F(ServeControlTest, ListingStopsWhenTheBufferIsFull) {
  add_conns(3000);
  std::vector<ConnRow> rows(100);
  ASSERT_TRUE(inbox_->send(ToWorker::list_conns_msg(8, rows.data(), 100)));
  EXPECT_TRUE(worker_->serve_control(*inbox_, kNow));
  std::vector<ToMain> got = from_worker();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].request, 8u);
  EXPECT_EQ(got[0].rows, 100u);
}

TEST_F(ServeControlTest, ListingAnswerWaitsForRoomInAFullMailbox) {
  add_conns(10);
  for (uint32_t i = 0; i < to_main_->capacity(); ++i)
    ASSERT_TRUE(to_main_->send(ToMain::neighbour_request_msg(i)));
  std::vector<ConnRow> rows(100);
  ASSERT_TRUE(inbox_->send(ToWorker::list_conns_msg(9, rows.data(), 100)));
  for (int turn = 0; turn < 8; ++turn) EXPECT_TRUE(worker_->serve_control(*inbox_, kNow));
  std::vector<ToMain> got = from_worker();  // room again
  EXPECT_EQ(got.size(), 64u);
  EXPECT_TRUE(worker_->serve_control(*inbox_, kNow));
  got = from_worker();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].kind, ToMain::Kind::list_done);
  EXPECT_EQ(got[0].rows, 10u);
  EXPECT_FALSE(worker_->serve_control(*inbox_, kNow));
}

}  // namespace
}  // namespace vsgate
