vsgate_unit_test(eal_args_tests SOURCES ${CMAKE_CURRENT_LIST_DIR}/eal_args_test.cc LIBS vsgate_eal_args)
