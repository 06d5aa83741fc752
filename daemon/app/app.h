// vsgated as a whole: the modules of the control plane, constructed and started in order, and
// the main-lcore loop that polls each of them. Everything here runs on the main lcore; the
// workers run lcore/worker.cc. daemon/README.md says what each module owns.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "app/conn_listing.h"
#include "app/dataplane.h"
#include "app/exception_path_io.h"
#include "app/fib_publisher.h"
#include "app/lb_control.h"
#include "app/lb_publisher.h"
#include "app/neighbour_resolver.h"
#include "app/systemd_status.h"
#include "app/worker_messages.h"
#include "common/result.h"
#include "config/config.h"
#include "ctrl/control_server.h"

namespace vsgate {

class App {
 public:
  explicit App(Config config);
  // Stops the workers; the modules are then destroyed in reverse order, the EAL last.
  ~App();

  // Brings everything up; on error, what was created is torn down by the destructor.
  Status start(const std::vector<std::string>& eal_extra);
  // Main-lcore loop until stop is requested (SIGTERM/SIGINT).
  void run(const std::atomic<bool>& stop_requested);

 private:
  Status start_control();
  void register_commands();

  Config config_;
  uint64_t started_mono_us_ = 0, started_unix_us_ = 0;
  // Declared (so constructed) in start-up order; destroyed in reverse.
  NeighbourResolver resolver_;
  LbControl lb_;  // its registry outlives the workers' load balancers (in dataplane_)
  DataPlane dataplane_;
  SystemdStatus status_;
  std::unique_ptr<ExceptionPathIo> exception_path_;
  std::unique_ptr<FibPublisher> fib_;
  std::unique_ptr<LbPublisher> lb_publisher_;
  std::unique_ptr<ConnListing> conn_listing_;
  std::unique_ptr<WorkerMessages> worker_messages_;
  std::unique_ptr<ControlServer> control_;
};

}  // namespace vsgate
