// The admin gRPC server: options, credentials, the token check, start and shutdown.
#include "vigil/edge/admin_server.h"

#include <arpa/inet.h>
#include <grpc/grpc_security.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>
#include <vector>

#include "admin/services.h"

namespace vigil::edge {

namespace {

struct TlsSettings {
  std::string cert_file, key_file, client_ca_file;
};

const std::vector<cep::Option<TlsSettings>>& TlsTable() {
  static const std::vector<cep::Option<TlsSettings>> t = {
      {"cert_file",
       cep::OptionType::kString,
       "",
       true,
       "PEM certificate chain the server presents.",
       {},
       cep::Member(&TlsSettings::cert_file)},
      {"key_file",
       cep::OptionType::kString,
       "",
       true,
       "PEM private key of `cert_file`.",
       {},
       cep::Member(&TlsSettings::key_file)},
      {"client_ca_file",
       cep::OptionType::kString,
       "",
       false,
       "PEM CA certificates; when set, clients must present a certificate signed by one of them.",
       {},
       cep::Member(&TlsSettings::client_ca_file)},
  };
  return t;
}

Status ReadPem(const cep::ConfigNode& tls, const std::string& key, const std::string& path,
               std::string* out) {
  const cep::ConfigNode* at = tls.Find(key);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return cep::OptionError(at, "api.grpc.tls." + key,
                            "cannot read '" + path + "': " + std::strerror(errno));
  }
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  if (out->find("-----BEGIN ") == std::string::npos) {
    return cep::OptionError(at, "api.grpc.tls." + key, "'" + path + "' is not a PEM file");
  }
  return Status::Ok();
}

// The host part of a gRPC listen address; `ok` false when there is no ":port".
std::string ListenHost(const std::string& listen, bool* ok) {
  *ok = false;
  std::string a = listen;
  for (const char* scheme : {"dns:", "ipv4:", "ipv6:"}) {
    if (a.rfind(scheme, 0) == 0) a = a.substr(std::strlen(scheme));
  }
  size_t colon = a.rfind(':');
  if (colon == std::string::npos) return a;
  *ok = colon + 1 < a.size();
  std::string host = a.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

// Compares in time that depends only on the lengths, so a caller cannot find the token
// byte by byte from response times.
bool ConstantTimeEquals(const char* a, size_t a_len, const std::string& b) {
  unsigned char diff = a_len == b.size() ? 0 : 1;
  for (size_t i = 0; i < b.size(); ++i) {
    unsigned char x = i < a_len ? static_cast<unsigned char>(a[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ static_cast<unsigned char>(b[i]));
  }
  return diff == 0;
}

bool StartsWithBearer(const char* v, size_t n) {
  static const char kBearer[] = "bearer ";
  if (n < sizeof kBearer - 1) return false;
  for (size_t i = 0; i + 1 < sizeof kBearer; ++i) {
    char c = v[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kBearer[i]) return false;
  }
  return true;
}

// Runs in gRPC core's server auth filter, before any handler (reflection included), for
// every call: a call without `authorization: Bearer <token>` ends there, UNAUTHENTICATED.
// The header is consumed, so handlers never see the token.
struct TokenCheck {
  std::string token;
  admin::ServiceState* state = nullptr;

  static void Process(void* self, grpc_auth_context*, const grpc_metadata* md, size_t num_md,
                      grpc_process_auth_metadata_done_cb done, void* user_data) {
    auto* check = static_cast<TokenCheck*>(self);
    const char* why = "missing authorization metadata (expected 'authorization: Bearer <token>')";
    for (size_t i = 0; i < num_md; ++i) {
      const grpc_slice& key = md[i].key;
      if (GRPC_SLICE_LENGTH(key) != 13 ||
          std::memcmp(GRPC_SLICE_START_PTR(key), "authorization", 13) != 0) {
        continue;
      }
      const char* v = reinterpret_cast<const char*>(GRPC_SLICE_START_PTR(md[i].value));
      size_t n = GRPC_SLICE_LENGTH(md[i].value);
      if (!StartsWithBearer(v, n)) {
        why = "authorization metadata is not 'Bearer <token>'";
        break;
      }
      if (ConstantTimeEquals(v + 7, n - 7, check->token)) {
        done(user_data, &md[i], 1, nullptr, 0, GRPC_STATUS_OK, nullptr);
        return;
      }
      why = "wrong bearer token";
      break;
    }
    check->state->refused.fetch_add(1, std::memory_order_relaxed);
    done(user_data, nullptr, 0, nullptr, 0, GRPC_STATUS_UNAUTHENTICATED, why);
  }
};

// Server credentials made in gRPC core, so that the token check also guards plaintext
// listeners: the C++ InsecureServerCredentials() refuses an AuthMetadataProcessor, while
// core's insecure credentials run the same server auth filter as TLS ones. Server calls
// AddPortToServer (private in the base, overridable) once per listening port.
class CoreServerCredentials final : public grpc::ServerCredentials {
 public:
  CoreServerCredentials(grpc_server_credentials* creds, TokenCheck* check) : creds_(creds) {
    if (check) {
      grpc_server_credentials_set_auth_metadata_processor(
          creds_, grpc_auth_metadata_processor{&TokenCheck::Process, nullptr, check});
    }
  }
  ~CoreServerCredentials() override { grpc_server_credentials_release(creds_); }
  void SetAuthMetadataProcessor(const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {}

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    return grpc_server_add_http2_port(server, addr.c_str(), creds_);
  }
  grpc_server_credentials* creds_;
};

}  // namespace

AdminServerOptions AdminServerOptions::FromConfig(const ApiConfig& api) {
  AdminServerOptions o;
  o.listen = api.grpc_listen;
  o.token = api.grpc_token;
  o.tls = api.grpc_tls;
  return o;
}

std::string AdminTlsOptionsMarkdown() {
  return cep::OptionsMarkdown(TlsTable());
}

bool IsLoopbackAddress(const std::string& listen) {
  if (listen.rfind("unix:", 0) == 0 || listen.rfind("unix-abstract:", 0) == 0) return true;
  bool has_port = false;
  std::string host = ListenHost(listen, &has_port);
  if (!has_port) return false;
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  return false;
}

struct AdminServer::Impl {
  admin::ServiceState state;
  TokenCheck check;
  admin::RulesService rules{&state};
  admin::AlertsService alerts{&state};
  admin::IngestService ingest{&state};
  admin::AdminService admin{&state};
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::string listen;
  bool unix_socket = false;
  bool tls = false;
  std::mutex shutdown_mu;
  bool shut_down = false;
};

AdminServer::AdminServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AdminServer::~AdminServer() {
  Shutdown(std::chrono::milliseconds(0));
}

Result<std::unique_ptr<AdminServer>> AdminServer::Start(AdminBackend* backend,
                                                        const AdminServerOptions& options) {
  if (options.listen.empty()) return Status::InvalidArgument("api.grpc.listen: required");
  if (options.listen.rfind("unix", 0) != 0) {
    bool has_port = false;
    ListenHost(options.listen, &has_port);
    if (!has_port) {
      return Status::InvalidArgument("api.grpc.listen: '" + options.listen +
                                     "' has no port (host:port, [v6]:port or unix:/path)");
    }
  }
  bool loopback = IsLoopbackAddress(options.listen);
  if (!loopback && options.token.empty()) {
    return Status::InvalidArgument(
        "api.grpc.token: required to listen on '" + options.listen +
        "', which is not a loopback address (set token_env or token_file, or listen on "
        "127.0.0.1)");
  }

  // TLS first: its errors are about the configuration and should come before a bind error.
  grpc_server_credentials* creds = nullptr;
  if (!options.tls.is_null()) {
    if (!options.tls.is_map()) {
      return cep::OptionError(&options.tls, "api.grpc.tls",
                              "must be a map {cert_file, key_file, client_ca_file}");
    }
    TlsSettings tls;
    if (Status s = cep::ApplyOptions(TlsTable(), options.tls, "api.grpc.tls", &tls); !s.ok()) {
      return s;
    }
    std::string cert, key, ca;
    if (Status s = ReadPem(options.tls, "cert_file", tls.cert_file, &cert); !s.ok()) return s;
    if (Status s = ReadPem(options.tls, "key_file", tls.key_file, &key); !s.ok()) return s;
    if (!tls.client_ca_file.empty()) {
      if (Status s = ReadPem(options.tls, "client_ca_file", tls.client_ca_file, &ca); !s.ok()) {
        return s;
      }
    }
    grpc_ssl_pem_key_cert_pair pair{key.c_str(), cert.c_str()};
    creds = grpc_ssl_server_credentials_create_ex(
        ca.empty() ? nullptr : ca.c_str(), &pair, 1,
        ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                   : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY,
        nullptr);
    if (!creds) {
      return cep::OptionError(
          &options.tls, "api.grpc.tls",
          "gRPC refused the certificate or key (does key_file match cert_file?)");
    }
  } else {
    creds = grpc_insecure_server_credentials_create();
  }

  auto impl = std::make_unique<Impl>();
  impl->state.backend = backend;
  impl->state.tail_poll =
      options.tail_poll.count() > 0 ? options.tail_poll : std::chrono::milliseconds(100);
  impl->check.token = options.token;
  impl->check.state = &impl->state;
  impl->tls = !options.tls.is_null();
  impl->listen = options.listen;
  impl->unix_socket = options.listen.rfind("unix", 0) == 0;
  auto credentials = std::make_shared<CoreServerCredentials>(
      creds, options.token.empty() ? nullptr : &impl->check);

  static std::once_flag reflection_once;
  std::call_once(reflection_once,
                 [] { grpc::reflection::InitProtoReflectionServerBuilderPlugin(); });

  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: a second vigil on the same port would then share it
  // silently instead of failing to start.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(options.listen, credentials, &impl->port);
  builder.RegisterService(&impl->rules);
  builder.RegisterService(&impl->alerts);
  builder.RegisterService(&impl->ingest);
  builder.RegisterService(&impl->admin);
  impl->server = builder.BuildAndStart();
  if (!impl->server || (!impl->unix_socket && impl->port == 0)) {
    if (impl->server) impl->server->Shutdown();
    return Status::Unavailable("api.grpc.listen: cannot listen on '" + options.listen +
                               "' (address in use, not local, or not an address)");
  }
  if (impl->unix_socket) impl->port = 0;
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(impl)));
}

int AdminServer::port() const {
  return impl_->port;
}

std::string AdminServer::address() const {
  if (impl_->unix_socket) return impl_->listen;
  bool has_port = false;
  std::string host = ListenHost(impl_->listen, &has_port);
  // A wildcard address is reachable on loopback; name other hosts as they were given.
  if (host.empty() || host == "0.0.0.0" || host == "::") host = "127.0.0.1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return host + ":" + std::to_string(impl_->port);
}

bool AdminServer::tls() const {
  return impl_->tls;
}

void AdminServer::Shutdown(std::chrono::milliseconds deadline) {
  std::lock_guard<std::mutex> lock(impl_->shutdown_mu);
  if (impl_->shut_down) return;
  impl_->shut_down = true;
  impl_->state.stopping.store(true);
  impl_->server->Shutdown(std::chrono::system_clock::now() + deadline);
  impl_->server->Wait();
}

AdminServerStats AdminServer::stats() const {
  AdminServerStats s;
  s.requests = impl_->state.requests.load();
  s.refused = impl_->state.refused.load();
  s.tails_open = impl_->state.tails_open.load();
  return s;
}

}  // namespace vigil::edge
