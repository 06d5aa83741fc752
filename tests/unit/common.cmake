vsgate_unit_test(common_tests SOURCES ${CMAKE_CURRENT_LIST_DIR}/net_types_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/log_limiter_test.cc LIBS vsgate_common)
