// gtest main for tests that need the DPDK EAL (mempools, rte_lpm, rte_hash): one EAL per process,
// no hugepages, no PCI, no shared files, so tests run anywhere and in parallel.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const std::string prefix = "--file-prefix=vsgtest" + std::to_string(getpid());
  std::vector<std::string> args{"packet_tests", "--no-huge",     "--no-pci", "-m", "512",
                                "--no-shconf",  "--log-level=3", "-l",       "0",  prefix};
  std::vector<char*> eal_argv;
  for (auto& a : args) eal_argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "rte_eal_init failed\n");
    return 1;
  }
  const int rc = RUN_ALL_TESTS();
  rte_eal_cleanup();
  return rc;
}
