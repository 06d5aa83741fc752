# Data-plane targets (DPDK): the vsgated executable and the library the packet tests link.
add_library(vsgate_eal_args STATIC eal/eal_args.cc)
target_link_libraries(vsgate_eal_args PUBLIC vsgate_config)

add_library(vsgate_dataplane STATIC
  ipv4/fib.cc
  ipv4/fib_builder.cc
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

# vsgated's control plane (daemon/app/, daemon/README.md): its modules, composed by App, and
# the command modules of the control socket (app/commands/). The unit tests link it too.
add_library(vsgate_app STATIC
  app/app.cc
  app/conn_listing.cc
  app/dataplane.cc
  app/exception_path_io.cc
  app/fib_publisher.cc
  app/lb_control.cc
  app/lb_publisher.cc
  app/neighbour_resolver.cc
  app/systemd_notify.cc
  app/systemd_status.cc
  app/worker_messages.cc
  app/commands/daemon_commands.cc
  app/commands/debug_commands.cc
  app/commands/host_commands.cc
  app/commands/lb_commands.cc
  app/commands/lb_json.cc
  app/commands/lcore_commands.cc
  app/commands/port_commands.cc)
target_link_libraries(vsgate_app PUBLIC vsgate_dataplane vsgate_eal_args vsgate_kni_host
  vsgate_ctrl vsgate_lb_model_json PkgConfig::SYSTEMD)

add_executable(vsgated main.cc)
target_link_libraries(vsgated PRIVATE vsgate_app)
install(TARGETS vsgated RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR} COMPONENT vsgate)
