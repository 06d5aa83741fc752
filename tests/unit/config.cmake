# Configuration file loader and vsgated command line.
vsgate_unit_test(config_tests
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/config_test.cc ${CMAKE_CURRENT_SOURCE_DIR}/options_test.cc
  LIBS vsgate_config)
