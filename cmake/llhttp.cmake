# SPDX-License-Identifier: MIT
# llhttp 8.1 is built from the C sources Debian ships in `node-llhttp`; we do not vendor a copy.
set(NS_LLHTTP_SOURCE_DIR "/usr/share/llhttp" CACHE PATH "Directory holding llhttp's api.c, http.c, llhttp.c")
set(NS_LLHTTP_INCLUDE_DIR "/usr/share/include/llhttp" CACHE PATH "Directory holding llhttp.h")

foreach(f api.c http.c llhttp.c)
  if(NOT EXISTS "${NS_LLHTTP_SOURCE_DIR}/${f}")
    message(FATAL_ERROR "llhttp source ${NS_LLHTTP_SOURCE_DIR}/${f} not found: install Debian's "
                        "'node-llhttp' package (sudo apt-get install node-llhttp) or set NS_LLHTTP_SOURCE_DIR.")
  endif()
endforeach()
if(NOT EXISTS "${NS_LLHTTP_INCLUDE_DIR}/llhttp.h")
  message(FATAL_ERROR "llhttp.h not found in ${NS_LLHTTP_INCLUDE_DIR}: install Debian's 'node-llhttp' "
                      "package or set NS_LLHTTP_INCLUDE_DIR.")
endif()

add_library(ns_llhttp STATIC
  "${NS_LLHTTP_SOURCE_DIR}/api.c"
  "${NS_LLHTTP_SOURCE_DIR}/http.c"
  "${NS_LLHTTP_SOURCE_DIR}/llhttp.c")
target_include_directories(ns_llhttp SYSTEM PUBLIC "$<BUILD_INTERFACE:${NS_LLHTTP_INCLUDE_DIR}>")
set_target_properties(ns_llhttp PROPERTIES C_STANDARD 99 POSITION_INDEPENDENT_CODE ON)
# Third-party code: no -Werror, no coverage instrumentation.
target_compile_options(ns_llhttp PRIVATE -w)
