// vsgated: the vsgate data-plane daemon.
#include <csignal>
#include <cstdio>

#include "app/app.h"
#include "common/log.h"
#include "config/config.h"
#include "config/options.h"

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }
}  // namespace

int main(int argc, char** argv) {
  using namespace vsgate;
  auto opts = parse_daemon_options(argc, argv);
  if (!opts) {
    std::fprintf(stderr, "vsgated: %s\nTry 'vsgated --help'.\n", opts.message().c_str());
    return 2;
  }
  if (opts->help) {
    std::fputs(daemon_usage().c_str(), stdout);
    return 0;
  }
  if (opts->version) {
    std::printf("vsgated %s\n", VSGATE_VERSION);
    return 0;
  }
  auto loaded = load_config(opts->config_path);
  if (opts->check) {
    for (const auto& w : loaded.warnings) std::printf("warning: %s\n", w.c_str());
    if (loaded.ok()) {
      std::puts("OK");
      return 0;
    }
    for (const auto& e : loaded.errors) std::printf("%s\n", e.c_str());
    return 1;
  }
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) VSG_LOG(error, "%s", e.c_str());
    return 1;
  }
  set_log_level(loaded.config.global.log_level);
  for (const auto& w : loaded.warnings) VSG_LOG(warning, "%s", w.c_str());

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  int rc = 0;
  {
    App app(std::move(loaded.config));
    if (auto st = app.start(opts->eal_extra); !st) {
      VSG_LOG(error, "%s", st.message().c_str());
      rc = 1;
    } else {
      app.run(g_stop);
    }
  }
  VSG_LOG(info, "exited");
  return rc;
}
