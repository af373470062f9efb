# SPDX-License-Identifier: Apache-2.0
# The HTTP adapter's libraries: libwebsockets 4.1 (HTTP/1.1, HTTP/2, WebSocket) on the
# broker's libuv loop. Included by the root CMakeLists.txt for target gn_adapter_http.
pkg_check_modules(LWS REQUIRED IMPORTED_TARGET libwebsockets)
target_link_libraries(gn_adapter_http PUBLIC PkgConfig::LWS)
# Where the console's static files are found at run time (GANGLION_WEB_DIR overrides).
target_compile_definitions(gn_adapter_http PRIVATE GN_WEB_DIR="${CMAKE_SOURCE_DIR}/web")
