#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "vsgatectl/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  int status = vsgate::vsgatectl::run(args, std::getenv(vsgate::vsgatectl::kSocketEnv), std::cout,
                                      std::cerr);
  std::cout.flush();
  return status;
}
