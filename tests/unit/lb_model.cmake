# The load-balancer model (lb/model.h): one table of specs through the config loader (--check)
# and through the lb.* control commands, which must accept and refuse the same things.
vsgate_unit_test(lb_model_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/lb_model_test.cc
  LIBS vsgate_config vsgate_lb_model_json)
