#include "lcore/snapshot.h"

#include <rte_errno.h>
#include <rte_malloc.h>

#include <string>

namespace vsgate {

Result<std::unique_ptr<QsbrDomain>> QsbrDomain::create(unsigned num_readers) {
  const size_t sz = rte_rcu_qsbr_get_memsize(num_readers);
  auto* qs = static_cast<rte_rcu_qsbr*>(rte_zmalloc("vsg_qsbr", sz, RTE_CACHE_LINE_SIZE));
  if (!qs) return make_error("rte_zmalloc for the RCU domain failed");
  if (rte_rcu_qsbr_init(qs, num_readers) != 0) {
    rte_free(qs);
    return make_error(std::string("rte_rcu_qsbr_init: ") + rte_strerror(rte_errno));
  }
  for (unsigned r = 0; r < num_readers; ++r) rte_rcu_qsbr_thread_register(qs, r);
  return std::unique_ptr<QsbrDomain>(new QsbrDomain(qs, num_readers));
}

QsbrDomain::QsbrDomain(rte_rcu_qsbr* qs, unsigned n) : qs_(qs), num_readers_(n) {}

QsbrDomain::~QsbrDomain() {
  for (unsigned r = 0; r < num_readers_; ++r) rte_rcu_qsbr_thread_unregister(qs_, r);
  rte_free(qs_);
}

}  // namespace vsgate
