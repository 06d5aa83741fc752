# Control socket protocol/server/client and vsgatectl.
vsgate_unit_test(ctrl_tests
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/protocol_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/control_server_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/vsgatectl_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/ipvsadm_test.cc
  LIBS vsgate_ctrl vsgatectl_lib vsgate_lb_model_json)
# The "daemon not running" test runs the real binary.
target_compile_definitions(ctrl_tests PRIVATE VSGATECTL_BINARY="$<TARGET_FILE:vsgatectl>")
add_dependencies(ctrl_tests vsgatectl)
