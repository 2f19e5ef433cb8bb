# Every dependency comes from a Debian 12 package (scripts/install-deps.sh) and is found
# through pkg-config or the package's own CMake config. Targets are IMPORTED so their
# headers are system headers and our -Werror does not apply to them.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
# libhs is Hyperscan on x86 and Vectorscan (same API) on ARM.
pkg_check_modules(LIBHS REQUIRED IMPORTED_TARGET libhs)
# PCRE2 runs `extract:` regexes (ingest/src/extract): see README, Dependencies.
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(ROCKSDB REQUIRED IMPORTED_TARGET rocksdb)
pkg_check_modules(YAMLCPP REQUIRED IMPORTED_TARGET yaml-cpp)
pkg_check_modules(SIMDJSON REQUIRED IMPORTED_TARGET simdjson)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(OPENSSL REQUIRED IMPORTED_TARGET openssl)
pkg_check_modules(GRPCPP REQUIRED IMPORTED_TARGET grpc++)
pkg_check_modules(PROTOBUF REQUIRED IMPORTED_TARGET protobuf)
# gRPC server reflection for the admin API (grpcurl, grpc_cli): part of libgrpc++-dev, which
# ships no pkg-config file for it.
find_library(GRPCPP_REFLECTION_LIBRARY grpc++_reflection REQUIRED)
find_package(PahoMqttCpp REQUIRED)
find_program(PROTOC protoc REQUIRED)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
if(VIGIL_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
  include(Catch)
endif()
