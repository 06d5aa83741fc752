vsgate_unit_test(scheduler_tests SOURCES ${CMAKE_CURRENT_LIST_DIR}/scheduler_test.cc LIBS vsgate_lb_core)
