# Connection table and TCP state machine (lb core, no EAL).
vsgate_unit_test(conn_table_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/conn_table_test.cc ${CMAKE_CURRENT_LIST_DIR}/tcp_state_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/sweep_pacer_test.cc
  LIBS vsgate_lb_core)
