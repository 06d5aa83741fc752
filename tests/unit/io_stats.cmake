vsgate_unit_test(io_stats_tests SOURCES ${CMAKE_CURRENT_LIST_DIR}/io_stats_test.cc LIBS vsgate_common)
