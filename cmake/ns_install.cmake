# SPDX-License-Identifier: MIT
# `cmake --install`: the public headers, the static libraries, ns_serve, a CMake package
# (find_package(network_server CONFIG) → network_server::network_server, and
# network_server::redis for the Redis cluster engine) and network_server.pc.
#
# The library is installed as the per-layer static archives it is built from (libnetwork_server.a
# plus libns_io.a, libns_tls.a, libns_http.a, libns_http2.a, libns_ws.a, libns_proxy.a,
# libns_handover.a and libns_llhttp.a) rather than merged into one: CMake consumers never name them (the exported
# network_server::network_server target links them in order), and pkg-config users get them from
# `pkg-config --libs network_server`.
# Keeping them separate keeps the link graph — and so the layering — visible after install.
include(CMakePackageConfigHelpers)

set(NS_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/network_server"
    CACHE STRING "Where network_serverConfig.cmake is installed")
set(ns_layer_libs ns_io ns_tls ns_http ns_http2 ns_ws ns_proxy ns_handover ns_llhttp ns_cluster)

# A static library built with sanitizers needs their runtime in every program that links it.
if(NS_SANITIZE)
  target_link_options(network_server INTERFACE
    $<INSTALL_INTERFACE:-fsanitize=address,undefined>)
  set(NS_PC_EXTRA_LIBS "-fsanitize=address,undefined")
elseif(NS_TSAN)
  target_link_options(network_server INTERFACE $<INSTALL_INTERFACE:-fsanitize=thread>)
  set(NS_PC_EXTRA_LIBS "-fsanitize=thread")
else()
  set(NS_PC_EXTRA_LIBS "")
endif()

# The Redis engine links the library (and hiredis); the library does not link it. Its exported
# name is network_server::redis, as in the build tree.
set_target_properties(ns_redis PROPERTIES EXPORT_NAME redis)
install(TARGETS network_server ns_redis ns_headers ${ns_layer_libs}
  EXPORT network_serverTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/network_server"
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp")
install(EXPORT network_serverTargets
  NAMESPACE network_server::
  DESTINATION ${NS_INSTALL_CMAKEDIR})

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/network_serverConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/network_serverConfig.cmake"
  INSTALL_DESTINATION ${NS_INSTALL_CMAKEDIR})
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/network_serverConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)  # 0.x: a minor release may change the API
install(FILES
  "${PROJECT_BINARY_DIR}/network_serverConfig.cmake"
  "${PROJECT_BINARY_DIR}/network_serverConfigVersion.cmake"
  DESTINATION ${NS_INSTALL_CMAKEDIR})

# Relocatable: the prefix is found from the .pc file's own place, so `cmake --install --prefix`
# (any prefix chosen at install time) gives a working file.
file(RELATIVE_PATH ns_pc_up "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
string(REGEX REPLACE "/$" "" ns_pc_up "${ns_pc_up}")
set(NS_PC_PREFIX "\${pcfiledir}/${ns_pc_up}")
# pkg-config: static archives, so the dependencies' flags are public (Requires, not .private).
configure_file("${PROJECT_SOURCE_DIR}/cmake/network_server.pc.in"
  "${PROJECT_BINARY_DIR}/network_server.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/network_server.pc"
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
