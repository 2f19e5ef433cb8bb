// The admin gRPC API through the generated stubs: a real AdminServer on 127.0.0.1 over the
// in-memory TestBackend.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>

#include <thread>

#include "admin_support.h"
#include "vigil/v1/admin.grpc.pb.h"
#include "vigil/v1/alerts.grpc.pb.h"
#include "vigil/v1/ingest.grpc.pb.h"
#include "vigil/v1/rules.grpc.pb.h"

namespace vigil::edge::testing {
namespace {

using Strings = std::vector<std::string>;

template <typename List>
Strings ToStrings(const List& list) {
  return Strings(list.begin(), list.end());
}

TEST_CASE("Admin API: Rules validate, apply, list, get, enable, disable and delete") {
  TestBackend backend;
  auto server = StartAdmin(&backend);
  auto rules = v1::Rules::NewStub(PlainChannel(*server));

  // Validate: errors with their real position in the document.
  v1::ValidateRulesRequest vreq;
  vreq.set_yaml(kBadRule);
  vreq.set_name("bad.yaml");
  v1::ValidateRulesResponse vrep;
  REQUIRE(rules->Validate(Context().get(), vreq, &vrep).ok());
  CHECK_FALSE(vrep.valid());
  REQUIRE(vrep.errors_size() >= 1);
  CHECK(vrep.errors(0).position().file() == "bad.yaml");
  CHECK(vrep.errors(0).position().line() == 4);
  CHECK(vrep.errors(0).position().column() == 5);
  CHECK(vrep.errors(0).text().rfind("bad.yaml:4:5: ", 0) == 0);
  CHECK_THAT(vrep.errors(0).message(), Catch::Contains("severty"));

  vreq.set_yaml(kTwoRules);
  vreq.set_name("");  // defaults to "api"
  REQUIRE(rules->Validate(Context().get(), vreq, &vrep).ok());
  CHECK(vrep.valid());
  CHECK(ToStrings(vrep.rule_ids()) == Strings{"login-failure", "root-login"});

  // Apply, then apply a new version of the same document.
  v1::ApplyRulesRequest areq;
  areq.set_yaml(kTwoRules);
  areq.set_name("auth");
  v1::ApplyRulesResponse arep;
  REQUIRE(rules->Apply(Context().get(), areq, &arep).ok());
  CHECK(ToStrings(arep.added()) == Strings{"login-failure", "root-login"});

  areq.set_yaml(std::string(kTwoRulesV2));
  REQUIRE(rules->Apply(Context().get(), areq, &arep).ok());
  CHECK(ToStrings(arep.added()).empty());
  CHECK(ToStrings(arep.changed()) == Strings{"login-failure"});
  CHECK(ToStrings(arep.unchanged()) == Strings{"root-login"});

  areq.set_yaml(R"(rules:
  - id: root-login
    title: Root logged in
    severity: critical
    where: 'user.name == "root"'
)");
  REQUIRE(rules->Apply(Context().get(), areq, &arep).ok());
  CHECK(ToStrings(arep.removed()) == Strings{"login-failure"});
  areq.set_yaml(kTwoRules);
  REQUIRE(rules->Apply(Context().get(), areq, &arep).ok());

  // Apply errors: an invalid document (positions in the message), no name.
  areq.set_yaml(kBadRule);
  areq.set_name("broken.yaml");
  grpc::Status s = rules->Apply(Context().get(), areq, &arep);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(s.error_message(), Catch::Contains("broken.yaml:4:5: "));
  areq.set_name("");
  s = rules->Apply(Context().get(), areq, &arep);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(s.error_message(), Catch::StartsWith("name: required"));

  // List and Get.
  v1::ListRulesResponse list;
  REQUIRE(rules->List(Context().get(), v1::ListRulesRequest(), &list).ok());
  REQUIRE(list.rules_size() == 2);
  CHECK(list.rules(0).id() == "login-failure");
  CHECK(list.rules(0).kind() == "single_event");
  CHECK(list.rules(0).severity() == "high");
  CHECK(ToStrings(list.rules(0).key()) == Strings{"source.ip"});
  CHECK(list.rules(0).source_file() == "api:auth");
  CHECK(list.rules(0).enabled());

  v1::GetRuleRequest get;
  get.set_id("root-login");
  v1::Rule rule;
  REQUIRE(rules->Get(Context().get(), get, &rule).ok());
  CHECK(rule.title() == "Root logged in");
  CHECK_THAT(rule.yaml(), Catch::Contains("id: root-login"));
  get.set_id("nope");
  s = rules->Get(Context().get(), get, &rule);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(s.error_message() == "no rule 'nope'");

  // Disable and Enable: the verb decides, whatever `enabled` says.
  v1::SetRuleEnabledRequest en;
  en.set_id("root-login");
  en.set_enabled(true);
  v1::SetRuleEnabledResponse enrep;
  REQUIRE(rules->Disable(Context().get(), en, &enrep).ok());
  get.set_id("root-login");
  REQUIRE(rules->Get(Context().get(), get, &rule).ok());
  CHECK_FALSE(rule.enabled());
  REQUIRE(rules->Enable(Context().get(), en, &enrep).ok());
  REQUIRE(rules->Get(Context().get(), get, &rule).ok());
  CHECK(rule.enabled());
  en.set_id("nope");
  CHECK(rules->Enable(Context().get(), en, &enrep).error_code() == grpc::StatusCode::NOT_FOUND);
  en.set_id("");
  CHECK(rules->Enable(Context().get(), en, &enrep).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  // Delete.
  v1::DeleteRuleRequest del;
  del.set_id("login-failure");
  v1::DeleteRuleResponse delrep;
  REQUIRE(rules->Delete(Context().get(), del, &delrep).ok());
  CHECK(rules->Delete(Context().get(), del, &delrep).error_code() == grpc::StatusCode::NOT_FOUND);
  REQUIRE(rules->List(Context().get(), v1::ListRulesRequest(), &list).ok());
  REQUIRE(list.rules_size() == 1);
  CHECK(list.rules(0).id() == "root-login");

  CHECK(server->stats().requests >= 20);
  CHECK(server->stats().refused == 0);
}

TEST_CASE("Admin API: Status, Checkpoint and Health") {
  TestBackend backend;
  auto server = StartAdmin(&backend);
  auto admin = v1::Admin::NewStub(PlainChannel(*server));

  v1::StatusResponse status;
  REQUIRE(admin->Status(Context().get(), v1::StatusRequest(), &status).ok());
  CHECK(status.node_id() == "test-node");
  REQUIRE(status.streams_size() == 1);
  CHECK(status.streams(0).name() == "events");
  CHECK(status.sinks(0).type() == "stdout");

  v1::CheckpointResponse cp;
  REQUIRE(admin->Checkpoint(Context().get(), v1::CheckpointRequest(), &cp).ok());
  CHECK(cp.checkpoint() == 1);
  REQUIRE(admin->Checkpoint(Context().get(), v1::CheckpointRequest(), &cp).ok());
  CHECK(cp.checkpoint() == 2);
  REQUIRE(admin->Status(Context().get(), v1::StatusRequest(), &status).ok());
  CHECK(status.checkpoints() == 2);

  v1::HealthResponse health;
  REQUIRE(admin->Health(Context().get(), v1::HealthRequest(), &health).ok());
  CHECK(health.live());
  CHECK(health.ready());
  backend.set_ready(false);
  REQUIRE(admin->Health(Context().get(), v1::HealthRequest(), &health).ok());
  CHECK_FALSE(health.ready());
  CHECK(health.detail() == "recovering state");
  CHECK(server->stats().requests == 6);
}

TEST_CASE("Admin API: Alerts Recent filters, Tail sends the backlog then live alerts") {
  TestBackend backend;
  auto server = StartAdmin(&backend);
  auto alerts = v1::Alerts::NewStub(PlainChannel(*server));
  backend.Raise(MakeAlert("login-failure", "high", 1, "10.0.0.1"));
  backend.Raise(MakeAlert("root-login", "critical", 2, "10.0.0.2"));
  backend.Raise(MakeAlert("login-failure", "low", 3, "10.0.0.3"));

  v1::RecentAlertsRequest rreq;
  v1::RecentAlertsResponse rrep;
  REQUIRE(alerts->Recent(Context().get(), rreq, &rrep).ok());
  CHECK(rrep.alerts_size() == 3);
  rreq.mutable_filter()->add_rule_ids("login-failure");
  REQUIRE(alerts->Recent(Context().get(), rreq, &rrep).ok());
  REQUIRE(rrep.alerts_size() == 2);
  CHECK(rrep.alerts(0).key_json() == R"({"source.ip":"10.0.0.1"})");
  rreq.mutable_filter()->set_min_severity("high");
  REQUIRE(alerts->Recent(Context().get(), rreq, &rrep).ok());
  REQUIRE(rrep.alerts_size() == 1);
  CHECK(rrep.alerts(0).id() == "login-failure-01");
  rreq.clear_filter();
  rreq.set_limit(1);
  REQUIRE(alerts->Recent(Context().get(), rreq, &rrep).ok());
  REQUIRE(rrep.alerts_size() == 1);
  CHECK(rrep.alerts(0).id() == "login-failure-03");

  // Tail: the backlog (filtered), then live alerts, in order.
  v1::TailAlertsRequest treq;
  treq.set_backlog(10);
  treq.mutable_filter()->set_min_severity("high");
  grpc::ClientContext tctx;
  auto reader = alerts->Tail(&tctx, treq);
  v1::Alert a;
  REQUIRE(reader->Read(&a));
  CHECK(a.id() == "login-failure-01");
  REQUIRE(reader->Read(&a));
  CHECK(a.id() == "root-login-02");
  backend.Raise(MakeAlert("root-login", "medium", 4, "10.0.0.4"));  // filtered out
  backend.Raise(MakeAlert("root-login", "critical", 5, "10.0.0.5"));
  REQUIRE(reader->Read(&a));
  CHECK(a.id() == "root-login-05");
  CHECK(server->stats().tails_open == 1);

  // The appliance stopping ends the stream cleanly, with the dropped count.
  backend.StopAlerts();
  CHECK_FALSE(reader->Read(&a));
  grpc::Status s = reader->Finish();
  CHECK(s.ok());
  auto dropped = tctx.GetServerTrailingMetadata().find("vigil-alerts-dropped");
  REQUIRE(dropped != tctx.GetServerTrailingMetadata().end());
  CHECK(std::string(dropped->second.data(), dropped->second.size()) == "0");
  REQUIRE(backend.WaitForSubscribers(0, std::chrono::seconds(30)));
}

TEST_CASE("Admin API: a Tail the client cancels ends and unsubscribes") {
  TestBackend backend;
  auto server = StartAdmin(&backend);
  auto alerts = v1::Alerts::NewStub(PlainChannel(*server));
  grpc::ClientContext ctx;
  auto reader = alerts->Tail(&ctx, v1::TailAlertsRequest());
  REQUIRE(backend.WaitForSubscribers(1, std::chrono::seconds(30)));
  ctx.TryCancel();
  v1::Alert a;
  CHECK_FALSE(reader->Read(&a));
  CHECK(reader->Finish().error_code() == grpc::StatusCode::CANCELLED);
  REQUIRE(backend.WaitForSubscribers(0, std::chrono::seconds(30)));
  server->Shutdown(std::chrono::seconds(30));
  CHECK(server->stats().tails_open == 0);
}

TEST_CASE("Admin API: open Tails end with OK when the server shuts down, before its deadline") {
  TestBackend backend;
  auto server = StartAdmin(&backend);
  auto alerts = v1::Alerts::NewStub(PlainChannel(*server));
  grpc::ClientContext c1, c2;
  auto r1 = alerts->Tail(&c1, v1::TailAlertsRequest());
  auto r2 = alerts->Tail(&c2, v1::TailAlertsRequest());
  REQUIRE(backend.WaitForSubscribers(2, std::chrono::seconds(30)));
  // A generous deadline: had the handlers not ended by themselves, gRPC would cancel them
  // when it passes and the clients would see CANCELLED, not OK.
  server->Shutdown(std::chrono::seconds(60));
  v1::Alert a;
  CHECK_FALSE(r1->Read(&a));
  CHECK_FALSE(r2->Read(&a));
  grpc::Status s1 = r1->Finish(), s2 = r2->Finish();
  INFO(s1.error_message() << " / " << s2.error_message());
  CHECK(s1.ok());
  CHECK(s2.ok());
  CHECK(backend.subscribers() == 0);
  CHECK(server->stats().tails_open == 0);
  server->Shutdown(std::chrono::seconds(1));  // idempotent
}

TEST_CASE("Admin API: Ingest Publish acknowledges every record, or says how many went in") {
  TestBackend backend;
  auto server = StartAdmin(&backend);
  auto ingest = v1::Ingest::NewStub(PlainChannel(*server));

  auto publish = [&](const std::vector<std::pair<std::string, Strings>>& batches,
                     v1::PublishResponse* reply) {
    auto ctx = Context();
    auto writer = ingest->Publish(ctx.get(), reply);
    for (const auto& [stream, records] : batches) {
      v1::PublishRequest req;
      req.set_stream(stream);
      for (const std::string& r : records)
        req.add_records(r);
      if (!writer->Write(req)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  };

  v1::PublishResponse reply;
  grpc::Status s =
      publish({{"events", {R"({"a":1})", R"({"a":2})"}}, {"events", {R"({"a":3})"}}}, &reply);
  REQUIRE(s.ok());
  CHECK(reply.accepted() == 3);
  CHECK(backend.published() == Strings{R"({"a":1})", R"({"a":2})", R"({"a":3})"});

  s = publish({{"nope", {"{}"}}}, &reply);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK_THAT(s.error_message(), Catch::Contains("no stream 'nope'"));
  s = publish({{"files", {"{}"}}}, &reply);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  s = publish({{"", {"{}"}}}, &reply);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(s.error_message(), Catch::StartsWith("stream: required"));

  // The log fails after 5 records in all: the first batch (2) goes in, the second (2) is
  // refused, and the error says how many were accepted before it.
  backend.FailPublishAfter(5);
  s = publish({{"events", {"{}", "{}"}}, {"events", {"{}", "{}"}}, {"events", {"{}"}}}, &reply);
  CHECK(s.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK_THAT(s.error_message(), Catch::Contains("the ingest log cannot be written"));
  CHECK_THAT(s.error_message(), Catch::Contains("(2 records accepted before this batch)"));
  CHECK(backend.published().size() == 5);
}

TEST_CASE("Admin API: a token is required when configured, refused calls are counted") {
  TestBackend backend;
  AdminServerOptions options;
  options.token = "s3cret-token";
  auto server = StartAdmin(&backend, options);
  auto admin = v1::Admin::NewStub(PlainChannel(*server));
  v1::HealthResponse health;

  grpc::Status s = admin->Health(Context().get(), v1::HealthRequest(), &health);
  CHECK(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK_THAT(s.error_message(), Catch::Contains("missing authorization"));
  CHECK(server->stats().refused == 1);

  s = admin->Health(Context("s3cret-tokeX").get(), v1::HealthRequest(), &health);
  CHECK(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(s.error_message() == "wrong bearer token");
  s = admin->Health(Context("s3cret").get(), v1::HealthRequest(), &health);
  CHECK(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  auto basic = Context();
  basic->AddMetadata("authorization", "Basic czNjcmV0");
  s = admin->Health(basic.get(), v1::HealthRequest(), &health);
  CHECK(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(server->stats().refused == 4);
  CHECK(server->stats().requests == 0);  // none reached a handler
  CHECK(backend.publish_calls() == 0);

  s = admin->Health(Context("s3cret-token").get(), v1::HealthRequest(), &health);
  REQUIRE(s.ok());
  CHECK(health.live());
  auto lower = std::make_unique<grpc::ClientContext>();
  lower->AddMetadata("authorization", "bearer s3cret-token");  // the scheme is case-insensitive
  CHECK(admin->Health(lower.get(), v1::HealthRequest(), &health).ok());
  CHECK(server->stats().requests == 2);
  CHECK(server->stats().refused == 4);

  // A refused Tail never subscribes.
  auto alerts = v1::Alerts::NewStub(PlainChannel(*server));
  auto tctx = Context("wrong");
  auto reader = alerts->Tail(tctx.get(), v1::TailAlertsRequest());
  v1::Alert a;
  CHECK_FALSE(reader->Read(&a));
  CHECK(reader->Finish().error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(backend.subscribers() == 0);
  CHECK(server->stats().refused == 5);
}

TEST_CASE("Admin API: only loopback addresses may go without a token") {
  CHECK(IsLoopbackAddress("127.0.0.1:7070"));
  CHECK(IsLoopbackAddress("127.3.2.1:0"));
  CHECK(IsLoopbackAddress("localhost:7070"));
  CHECK(IsLoopbackAddress("[::1]:7070"));
  CHECK(IsLoopbackAddress("ipv4:127.0.0.1:7070"));
  CHECK(IsLoopbackAddress("unix:/run/vigil/admin.sock"));
  CHECK_FALSE(IsLoopbackAddress("0.0.0.0:7070"));
  CHECK_FALSE(IsLoopbackAddress(":7070"));
  CHECK_FALSE(IsLoopbackAddress("[::]:7070"));
  CHECK_FALSE(IsLoopbackAddress("10.0.0.5:7070"));
  CHECK_FALSE(IsLoopbackAddress("128.0.0.1:7070"));
  CHECK_FALSE(IsLoopbackAddress("gateway.local:7070"));
  CHECK_FALSE(IsLoopbackAddress("127.0.0.1"));  // no port

  TestBackend backend;
  AdminServerOptions options;
  options.listen = "0.0.0.0:0";
  Result<std::unique_ptr<AdminServer>> r = AdminServer::Start(&backend, options);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kInvalidArgument);
  CHECK_THAT(r.status().message(),
             Catch::StartsWith("api.grpc.token: required to listen on '0.0.0.0:0'"));

  options.listen = "127.0.0.1";
  r = AdminServer::Start(&backend, options);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() ==
        "api.grpc.listen: '127.0.0.1' has no port (host:port, [v6]:port or unix:/path)");

  // Taken from the configuration as it was read.
  ApiConfig api;
  api.grpc_listen = "10.1.2.3:7070";
  r = AdminServer::Start(&backend, AdminServerOptions::FromConfig(api));
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("not a loopback address"));

  // A port in use is an error naming the address.
  auto first = StartAdmin(&backend);
  options.listen = first->address();
  r = AdminServer::Start(&backend, options);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Status::Code::kUnavailable);
  CHECK_THAT(r.status().message(), Catch::Contains("cannot listen on '" + first->address() + "'"));
}

TEST_CASE("Admin API: listens on localhost, IPv6 loopback and unix sockets without a token") {
  TestBackend backend;
  vigil::testing::TempDir dir;
  for (const std::string& listen :
       Strings{"localhost:0", "[::1]:0", "unix:" + dir.path() + "/admin.sock"}) {
    AdminServerOptions options;
    options.listen = listen;
    Result<std::unique_ptr<AdminServer>> r = AdminServer::Start(&backend, options);
    INFO(listen << ": " << (r.ok() ? "" : r.status().message()));
    REQUIRE(r.ok());
    AdminServer& server = *r.value();
    if (listen.rfind("unix:", 0) == 0) {
      CHECK(server.address() == listen);
      CHECK(server.port() == 0);
    } else {
      CHECK(server.port() > 0);
      CHECK(server.address() ==
            listen.substr(0, listen.size() - 1) + std::to_string(server.port()));
    }
    // localhost is dialled as 127.0.0.1: gRPC's c-ares resolver leaks a few bytes resolving
    // "localhost" (c-ares 1.18's ares_getaddrinfo), which LeakSanitizer reports.
    std::string dial = listen.rfind("localhost", 0) == 0
                           ? "127.0.0.1:" + std::to_string(server.port())
                           : server.address();
    auto admin = v1::Admin::NewStub(grpc::CreateChannel(dial, grpc::InsecureChannelCredentials()));
    v1::HealthResponse health;
    grpc::Status s = admin->Health(Context().get(), v1::HealthRequest(), &health);
    INFO(s.error_message());
    CHECK(s.ok());
  }
}

TEST_CASE("Admin API: api.grpc.tls errors name the key") {
  TestBackend backend;
  vigil::testing::TempDir dir;
  AdminServerOptions options;
  options.listen = "127.0.0.1:0";

  options.tls = cep::ConfigNode::Map(7, 5);
  options.tls.Set("cert_file", cep::ConfigNode::Scalar(dir.path() + "/missing.crt", 7, 16));
  Result<std::unique_ptr<AdminServer>> r = AdminServer::Start(&backend, options);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("api.grpc.tls.key_file: required"));

  options.tls.Set("key_file", cep::ConfigNode::Scalar(dir.path() + "/missing.key"));
  r = AdminServer::Start(&backend, options);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::StartsWith("7:16: api.grpc.tls.cert_file: cannot read '" +
                                                     dir.path() + "/missing.crt'"));

  options.tls.Set("client_ca_fle", cep::ConfigNode::Scalar("x"));
  r = AdminServer::Start(&backend, options);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("api.grpc.tls.client_ca_fle"));
  CHECK_THAT(r.status().message(), Catch::Contains("client_ca_file"));

  std::string not_pem = dir.Write("notpem.crt", "hello\n");
  cep::ConfigNode tls = cep::ConfigNode::Map();
  tls.Set("cert_file", cep::ConfigNode::Scalar(not_pem));
  tls.Set("key_file", cep::ConfigNode::Scalar(not_pem));
  options.tls = tls;
  r = AdminServer::Start(&backend, options);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(),
             Catch::Contains("api.grpc.tls.cert_file: '" + not_pem + "' is not a PEM file"));
}

TEST_CASE("Admin API: TLS with a self-signed certificate, plaintext to it fails") {
  TestBackend backend;
  vigil::testing::TempDir dir;
  TestCert cert = MakeCert(dir, "server");
  AdminServerOptions options;
  options.tls = TlsNode(cert);
  auto server = StartAdmin(&backend, options);
  CHECK(server->tls());

  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadAll(cert.cert_file);
  auto tls = v1::Admin::NewStub(grpc::CreateChannel(server->address(), grpc::SslCredentials(ssl)));
  v1::HealthResponse health;
  grpc::Status s = tls->Health(Context().get(), v1::HealthRequest(), &health);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(health.live());

  auto plain = v1::Admin::NewStub(PlainChannel(*server));
  s = plain->Health(Context().get(), v1::HealthRequest(), &health);
  CHECK(s.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(server->stats().requests == 1);
}

TEST_CASE("Admin API: with client_ca_file, clients must present a certificate it signed") {
  TestBackend backend;
  vigil::testing::TempDir dir;
  TestCert server_cert = MakeCert(dir, "server");
  TestCert client_cert = MakeCert(dir, "client");
  TestCert stranger = MakeCert(dir, "stranger");
  AdminServerOptions options;
  options.tls = TlsNode(server_cert, client_cert.cert_file);
  options.token = "t0ken";
  auto server = StartAdmin(&backend, options);

  auto call = [&](const TestCert* as) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadAll(server_cert.cert_file);
    if (as) {
      ssl.pem_cert_chain = ReadAll(as->cert_file);
      ssl.pem_private_key = ReadAll(as->key_file);
    }
    auto stub =
        v1::Admin::NewStub(grpc::CreateChannel(server->address(), grpc::SslCredentials(ssl)));
    v1::HealthResponse health;
    return stub->Health(Context("t0ken").get(), v1::HealthRequest(), &health);
  };
  grpc::Status s = call(&client_cert);
  INFO(s.error_message());
  CHECK(s.ok());
  CHECK(call(nullptr).error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(call(&stranger).error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(server->stats().requests == 1);
}

// The services the server's reflection lists, asked through grpc.reflection.v1alpha with
// messages built from the descriptors grpc++_reflection registers (it ships no headers).
Strings ReflectedServices(const std::shared_ptr<grpc::Channel>& channel, const std::string& token,
                          grpc::Status* status) {
  namespace pb = google::protobuf;
  const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
  const pb::Descriptor* req_type =
      pool->FindMessageTypeByName("grpc.reflection.v1alpha.ServerReflectionRequest");
  const pb::Descriptor* rep_type =
      pool->FindMessageTypeByName("grpc.reflection.v1alpha.ServerReflectionResponse");
  REQUIRE(req_type != nullptr);
  REQUIRE(rep_type != nullptr);
  pb::DynamicMessageFactory factory(pool);
  std::unique_ptr<pb::Message> req(factory.GetPrototype(req_type)->New());
  std::unique_ptr<pb::Message> rep(factory.GetPrototype(rep_type)->New());
  req->GetReflection()->SetString(req.get(), req_type->FindFieldByName("list_services"), "*");

  auto ctx = Context(token);
  grpc::internal::RpcMethod method("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                   grpc::internal::RpcMethod::BIDI_STREAMING);
  std::unique_ptr<grpc::ClientReaderWriter<pb::Message, pb::Message>> stream(
      grpc::internal::ClientReaderWriterFactory<pb::Message, pb::Message>::Create(
          channel.get(), method, ctx.get()));
  Strings names;
  if (stream->Write(*req) && stream->Read(rep.get())) {
    const pb::FieldDescriptor* list_field = rep_type->FindFieldByName("list_services_response");
    REQUIRE(list_field != nullptr);
    const pb::Message& list = rep->GetReflection()->GetMessage(*rep, list_field);
    const pb::FieldDescriptor* service_field = list.GetDescriptor()->FindFieldByName("service");
    int n = list.GetReflection()->FieldSize(list, service_field);
    for (int i = 0; i < n; ++i) {
      const pb::Message& svc = list.GetReflection()->GetRepeatedMessage(list, service_field, i);
      names.push_back(
          svc.GetReflection()->GetString(svc, svc.GetDescriptor()->FindFieldByName("name")));
    }
  }
  stream->WritesDone();
  *status = stream->Finish();
  std::sort(names.begin(), names.end());
  return names;
}

TEST_CASE("Admin API: server reflection lists the four services, behind the token") {
  TestBackend backend;
  AdminServerOptions options;
  options.token = "reflect";
  auto server = StartAdmin(&backend, options);
  grpc::Status s;
  Strings names = ReflectedServices(PlainChannel(*server), "reflect", &s);
  INFO(s.error_message());
  CHECK(s.ok());
  CHECK(names == Strings{"grpc.reflection.v1alpha.ServerReflection", "vigil.v1.Admin",
                         "vigil.v1.Alerts", "vigil.v1.Ingest", "vigil.v1.Rules"});
  names = ReflectedServices(PlainChannel(*server), "", &s);
  CHECK(names.empty());
  CHECK(s.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(server->stats().refused == 1);
}

}  // namespace
}  // namespace vigil::edge::testing
