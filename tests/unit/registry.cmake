# The load balancer's registry: snapshots, real-server slots and their counters (no EAL).
vsgate_unit_test(registry_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/registry_test.cc
  LIBS vsgate_lb_core)
