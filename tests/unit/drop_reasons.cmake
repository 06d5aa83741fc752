vsgate_unit_test(drop_reasons_tests SOURCES ${CMAKE_CURRENT_LIST_DIR}/drop_reasons_test.cc LIBS vsgate_common)
