// Byte transports for syslog: UDP datagrams, TCP streams and TLS over TCP (OpenSSL).
#pragma once

#include <memory>
#include <string>

#include "vigil/cep/status.h"
#include "vigil/cep/time.h"

namespace vigil::alerting {

struct SyslogTlsSettings {
  std::string ca_file;
  bool verify = true;
  std::string cert_file, key_file;
  std::string server_name;  // for SNI and certificate checks; default: the address's host
};

// Thread safety: one thread at a time.
class SyslogTransport {
 public:
  enum class Kind { kUdp, kTcp, kTls };
  virtual ~SyslogTransport() = default;
  // Sends one frame (connecting first if needed). On failure the connection is dropped,
  // so the next Send reconnects.
  virtual Status Send(const std::string& frame) = 0;
};

std::unique_ptr<SyslogTransport> NewSyslogTransport(SyslogTransport::Kind kind, std::string host,
                                                    std::string port, cep::Duration timeout,
                                                    SyslogTlsSettings tls);

// Splits "udp://host:port" / "tcp://[::1]:6514". Returns false if malformed.
bool ParseSyslogAddress(const std::string& address, std::string* scheme, std::string* host,
                        std::string* port);

}  // namespace vigil::alerting
