# Data-plane targets (DPDK): the vsgated executable and the library the packet tests link.
add_library(vsgate_eal_args STATIC eal/eal_args.cc)
target_link_libraries(vsgate_eal_args PUBLIC vsgate_config)

add_library(vsgate_dataplane STATIC
  ipv4/fib.cc
  ipv4/icmp.cc
  ipv4/next_hop.cc
  lcore/snapshot.cc
  lcore/worker.cc
  netif/port.cc
  eal/eal_log.cc
  lb/lb_worker.cc
  ${PROJECT_SOURCE_DIR}/kni/exception_path.cc)
target_include_directories(vsgate_dataplane PUBLIC ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR})
target_link_libraries(vsgate_dataplane PUBLIC vsgate_config vsgate_lb_core vsgate_common PkgConfig::DPDK)

add_executable(vsgated main.cc app/app.cc app/commands.cc app/lb_control.cc app/systemd_notify.cc)
target_link_libraries(vsgated PRIVATE vsgate_dataplane vsgate_eal_args vsgate_kni_host vsgate_ctrl
  vsgate_lb_model_json
  PkgConfig::SYSTEMD)
install(TARGETS vsgated RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR} COMPONENT vsgate)
