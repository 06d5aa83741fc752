#include "app/worker_messages.h"

namespace vsgate {

void WorkerMessages::poll() {
  for (size_t i = 0; i < from_workers_.size(); ++i) {
    ToMain msgs[32];
    const unsigned n = from_workers_[i]->receive(msgs, 32);
    for (unsigned k = 0; k < n; ++k) {
      const ToMain& m = msgs[k];
      switch (m.kind) {
        case ToMain::Kind::neighbour_request:
          resolver_.request(m.ip_be);
          break;
        case ToMain::Kind::list_done:
          listing_.on_list_done(static_cast<unsigned>(i), m.request, m.rows);
          break;
      }
    }
  }
}

}  // namespace vsgate
