#include "app/lb_publisher.h"

#include "common/log.h"

namespace vsgate {

LbPublisher::LbPublisher(Snapshot<LbSnapshot>& services, QsbrDomain& qsbr,
                         std::vector<Mailbox<ToWorker>*> to_workers)
    : services_(services),
      qsbr_(qsbr),
      to_workers_(std::move(to_workers)),
      timeouts_delivered_(to_workers_.size(), 0) {}

void LbPublisher::publish(LbRegistry& registry) {
  if (registry.generation() == published_generation_) return;
  auto snap = registry.snapshot();
  if (!snap) {
    VSG_LOG(error, "services not published: %s", snap.message().c_str());
    published_generation_ = registry.generation();  // retried on the next change
    return;
  }
  services_.publish(std::move(snap.value()));
  published_generation_ = registry.generation();
  publications_.push_back({published_generation_, qsbr_.start()});
}

void LbPublisher::poll(LbRegistry& registry) {
  publish(registry);
  services_.reclaim();
  while (!publications_.empty() && qsbr_.passed(publications_.front().token)) {
    safe_generation_ = publications_.front().generation;
    publications_.pop_front();
  }
  send_timeouts(registry.timeouts());
}

void LbPublisher::send_timeouts(const Timeouts& timeouts) {
  if (timeouts_generation_ == 0 || timeouts != timeouts_sent_) {
    timeouts_sent_ = timeouts;
    ++timeouts_generation_;
  }
  for (size_t i = 0; i < to_workers_.size(); ++i)
    if (timeouts_delivered_[i] != timeouts_generation_ &&
        to_workers_[i]->send(ToWorker::set_timeouts_msg(timeouts_generation_, timeouts_sent_)))
      timeouts_delivered_[i] = timeouts_generation_;
}

}  // namespace vsgate
