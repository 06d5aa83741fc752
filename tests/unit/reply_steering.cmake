# RSS-aware local-port choice (lb core; rte_softrss is header-only, no EAL).
vsgate_unit_test(reply_steering_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/reply_steering_test.cc
  LIBS vsgate_lb_core)
