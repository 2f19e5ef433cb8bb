// Test support for the admin API: a started AdminServer over a TestBackend, channels to it,
// and certificates made with the openssl command.
#pragma once

#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "admin_test_backend.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "vigil/edge/admin_server.h"

namespace vigil::edge::testing {

inline std::unique_ptr<AdminServer> StartAdmin(AdminBackend* backend,
                                               AdminServerOptions options = {}) {
  if (options.listen == "127.0.0.1:7070") options.listen = "127.0.0.1:0";
  Result<std::unique_ptr<AdminServer>> r = AdminServer::Start(backend, options);
  INFO((r.ok() ? std::string() : r.status().message()));
  REQUIRE(r.ok());
  REQUIRE(r.value()->port() > 0);
  return std::move(r).value();
}

inline std::shared_ptr<grpc::Channel> PlainChannel(const AdminServer& server) {
  return grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
}

inline std::unique_ptr<grpc::ClientContext> Context(const std::string& token = "") {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return ctx;
}

// A self-signed certificate for localhost and 127.0.0.1 (its own CA), made by openssl.
struct TestCert {
  std::string cert_file, key_file;
};

inline TestCert MakeCert(const vigil::testing::TempDir& dir, const std::string& name) {
  TestCert c{dir.path() + "/" + name + ".crt", dir.path() + "/" + name + ".key"};
  vigil::testing::ProcessResult r =
      vigil::testing::RunProcess({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                  "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", c.key_file,
                                  "-out", c.cert_file, "-days", "2", "-subj", "/CN=" + name,
                                  "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return c;
}

inline cep::ConfigNode TlsNode(const TestCert& cert, const std::string& client_ca = "") {
  cep::ConfigNode n = cep::ConfigNode::Map();
  n.Set("cert_file", cep::ConfigNode::Scalar(cert.cert_file));
  n.Set("key_file", cep::ConfigNode::Scalar(cert.key_file));
  if (!client_ca.empty()) n.Set("client_ca_file", cep::ConfigNode::Scalar(client_ca));
  return n;
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Rule documents for Validate and Apply.
inline constexpr char kTwoRules[] = R"(rules:
  - id: login-failure
    title: Failed login
    severity: high
    key: [source.ip]
    where: 'event.outcome == "failure"'
  - id: root-login
    title: Root logged in
    severity: critical
    where: 'user.name == "root"'
)";

// login-failure changed (its condition), root-login unchanged apart from its title,
// a new rule added; applied under the same name as kTwoRules.
inline constexpr char kTwoRulesV2[] = R"(rules:
  - id: login-failure
    title: Failed login
    severity: high
    key: [source.ip]
    where: 'event.outcome == "failure" and user.name != "svc"'
  - id: root-login
    title: Root logged in (renamed)
    severity: critical
    where: 'user.name == "root"'
)";

// An unknown field in a rule: an error at line 4, column 5.
inline constexpr char kBadRule[] = R"(rules:
  - id: broken
    title: Broken
    severty: high
    where: 'event.outcome == "failure"'
)";

}  // namespace vigil::edge::testing
