// The admin gRPC API (proto/vigil/v1/*.proto): the Rules, Alerts, Ingest and Admin services
// over an AdminBackend, with gRPC server reflection, bearer-token authentication and TLS.
//
// Security (architecture.md, "The admin API"): a loopback address (127.0.0.0/8, ::1,
// localhost, unix:) needs no token; any other address refuses to start without one. When a
// token is configured, every call (reflection included) must carry the metadata
// `authorization: Bearer <token>`; others get UNAUTHENTICATED and are counted as refused.
// `tls` (cert_file, key_file, optional client_ca_file) serves TLS; with a client CA, clients
// must present a certificate it signed.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "vigil/cep/options.h"
#include "vigil/cep/status.h"
#include "vigil/edge/admin_backend.h"
#include "vigil/edge/config.h"

namespace vigil::edge {

struct AdminServerOptions {
  // gRPC address: "127.0.0.1:7070", "[::1]:7070", "0.0.0.0:7070", "unix:/run/vigil.sock".
  // Port 0 picks a free port (AdminServer::port() tells which).
  std::string listen = "127.0.0.1:7070";
  // The bearer token; empty: none (only allowed on loopback).
  std::string token;
  // `api.grpc.tls` as written ({cert_file, key_file, client_ca_file}); null: plaintext.
  // Checked by Start, errors naming `api.grpc.tls.<key>`.
  cep::ConfigNode tls;
  // How long Alerts.Tail waits on its subscription before looking again whether the call
  // was cancelled or the server is shutting down: bounds how late Shutdown sees a tail.
  std::chrono::milliseconds tail_poll{100};

  static AdminServerOptions FromConfig(const ApiConfig& api);
};

// The options `api.grpc.tls` takes, as the reference Markdown (docs/config.md).
std::string AdminTlsOptionsMarkdown();

// True for addresses only this machine can reach: 127.0.0.0/8, [::1], localhost, unix:.
bool IsLoopbackAddress(const std::string& listen);

struct AdminServerStats {
  uint64_t requests = 0;    // calls that reached a service of the admin API
  uint64_t refused = 0;     // calls refused for a missing or wrong token
  uint64_t tails_open = 0;  // Alerts.Tail streams open now
};

class AdminServer {
 public:
  // Checks the options, binds `listen` and starts serving on gRPC's own threads. Fails
  // (kInvalidArgument, naming the key: "api.grpc.token: required ...",
  // "api.grpc.tls.cert_file: cannot read ...") on bad options, and (kUnavailable) when the
  // address cannot be bound. REQUIRES: `backend` outlives the server.
  static Result<std::unique_ptr<AdminServer>> Start(AdminBackend* backend,
                                                    const AdminServerOptions& options);

  // Shutdown(0) if not done yet: calls in flight are cancelled at once.
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // The bound TCP port (the one picked for port 0); 0 for unix: addresses.
  int port() const;
  // An address clients on this machine can dial: the listen host with the bound port
  // ("127.0.0.1:<port>" for a wildcard host), or the unix: address.
  std::string address() const;
  bool tls() const;

  // Stops accepting calls, ends open Alerts.Tail streams within about `tail_poll` (after
  // sending the alerts already queued for them; status OK), and waits up to `deadline` for
  // calls in flight, then cancels what is left. Returns when every handler has returned (a
  // handler blocked in the backend holds it until the backend answers). Idempotent. Thread
  // safety: any thread, but not from a handler. Call it before the backend stops serving.
  void Shutdown(std::chrono::milliseconds deadline);

  AdminServerStats stats() const;

 private:
  struct Impl;
  explicit AdminServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::edge
