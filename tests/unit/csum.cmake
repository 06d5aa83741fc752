# Incremental Internet checksum updates (ipv4/csum.h, header only).
vsgate_unit_test(csum_tests SOURCES ${CMAKE_CURRENT_LIST_DIR}/csum_test.cc LIBS vsgate_common)
