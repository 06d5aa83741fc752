# vsgate-snmp: snapshot parsing, stable indexes, discontinuity, settings (snmp_tests) and the
# SNMP values the table handlers produce, Counter64 above 2^32 included (snmp_agent_tests).
if(TARGET vsgate_snmp_agent)
  vsgate_unit_test(snmp_tests
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/snmp_test.cc
    LIBS vsgate_snmp_core)
  vsgate_unit_test(snmp_agent_tests
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/snmp_agent_test.cc
    LIBS vsgate_snmp_agent)
  target_compile_definitions(snmp_agent_tests PRIVATE
    VSGATE_SNMP_BINARY="$<TARGET_FILE:vsgate-snmp>")
  add_dependencies(snmp_agent_tests vsgate-snmp)
endif()

# VSGATE-MIB: smilint -l 6 silent, loads in snmptranslate, root as the subagent serves it.
set(VSGATE_SHARED_MIBS "${CMAKE_SOURCE_DIR}/../shared/mibs" CACHE PATH
    "Directory with the base MIB modules (SNMPv2-SMI, INET-ADDRESS-MIB, ...) for the SNMP tests")
add_test(NAME mib_lint
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/mib_lint.sh ${CMAKE_SOURCE_DIR}/snmp/VSGATE-MIB.txt
    ${VSGATE_SHARED_MIBS} ${CMAKE_SOURCE_DIR}/snmp/mib.h)
set_tests_properties(mib_lint PROPERTIES LABELS unit SKIP_RETURN_CODE 77)
