# The host-stack mirror (kni/mirror/): /proc/net/arp parsing, rtnetlink decoding, the mirror.
vsgate_unit_test(kni_tests
  SOURCES proc_arp_test.cc netlink_test.cc host_stack_test.cc
  LIBS vsgate_host_mirror vsgate_kni_host)
# Against the real kernel, inside a private network namespace; skips unless root.
vsgate_unit_test(kni_kernel_tests
  SOURCES kni_kernel_test.cc
  LIBS vsgate_host_mirror vsgate_kni_host)
