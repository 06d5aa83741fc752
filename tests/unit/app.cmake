# vsgated's command modules (daemon/app/commands/) through the real dispatch, over real
# control-plane modules (LbControl, HostStackMirror); no EAL. port.* and lcore.stats need
# ethdev ports and workers: tests/e2e (foundation_test, lb_test) cover them.
vsgate_unit_test(app_command_tests
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/app/lb_commands_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/app/host_commands_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/app/daemon_commands_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/app/debug_commands_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/app/fib_input_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/app/fib_status_test.cc
  LIBS vsgate_app)
target_include_directories(app_command_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR})
