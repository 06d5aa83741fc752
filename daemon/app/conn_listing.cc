#include "app/conn_listing.h"

#include <algorithm>
#include <string>

#include "app/commands/lb_json.h"

namespace vsgate {

ConnListing::ConnListing(std::vector<Mailbox<ToWorker>*> to_workers)
    : to_workers_(std::move(to_workers)), listings_(to_workers_.size()) {}

void ConnListing::request(uint64_t token, uint64_t now) {
  if (waiting_.empty()) {
    deadline_us_ = now + kDeadlineUs;
    for (WorkerListing& l : listings_) {
      l.answered = false;
      // Still busy with a request of an earlier round: its answer counts.
      if (l.state == WorkerListing::State::busy) continue;
      if (l.rows.size() < kMaxRows) l.rows.resize(kMaxRows);
      l.request = ++next_request_;
      l.filled = 0;
      l.state = WorkerListing::State::to_send;
    }
  }
  waiting_.push_back(token);
}

void ConnListing::on_list_done(unsigned worker, uint64_t request, uint32_t rows) {
  if (worker >= listings_.size()) return;
  WorkerListing& l = listings_[worker];
  if (l.state != WorkerListing::State::busy || request != l.request) return;
  l.filled = std::min<uint32_t>(rows, static_cast<uint32_t>(l.rows.size()));
  l.state = WorkerListing::State::idle;
  l.answered = true;
}

void ConnListing::poll(uint64_t now, const LbSnapshot* snapshot, ControlServer& server) {
  if (waiting_.empty()) return;
  bool all = true;
  for (size_t i = 0; i < listings_.size(); ++i) {
    WorkerListing& l = listings_[i];
    if (l.state == WorkerListing::State::to_send &&
        to_workers_[i]->send(ToWorker::list_conns_msg(l.request, l.rows.data(),
                                                      static_cast<uint32_t>(l.rows.size()))))
      l.state = WorkerListing::State::busy;
    all = all && l.answered;
  }
  if (!all && now < deadline_us_) return;
  unsigned missing = 0;
  Result<Json> reply = make_error("");
  try {
    reply = rows_json(snapshot, &missing);
  } catch (const std::exception& e) {
    reply = make_error(std::string("lb.conns: ") + e.what());
  }
  if (reply && missing) reply.value()["workers_not_answering"] = missing;
  for (const uint64_t token : waiting_) server.complete(token, reply);
  waiting_.clear();
  // A worker not reached yet is not asked any more; a busy one keeps its buffer until it
  // answers (its rows then serve the next round).
  for (WorkerListing& l : listings_)
    if (l.state == WorkerListing::State::to_send) l.state = WorkerListing::State::idle;
}

// The rows of every worker that answered the current round.
Json ConnListing::rows_json(const LbSnapshot* snapshot, unsigned* missing) const {
  Json out = Json::array();
  *missing = 0;
  for (const WorkerListing& w : listings_) {
    if (!w.answered) {
      ++*missing;
      continue;
    }
    for (uint32_t i = 0; i < w.filled; ++i) out.push_back(connection_json(w.rows[i], snapshot));
  }
  return Json{{"connections", out}};
}

}  // namespace vsgate
