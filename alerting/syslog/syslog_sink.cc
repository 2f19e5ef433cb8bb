// syslog: RFC 5424 messages over UDP (RFC 5426), TCP with octet counting (RFC 6587) or
// TLS (RFC 5425, same framing); the message is CEF or the alert JSON.
#include <unistd.h>

#include <algorithm>

#include "formats/formats.h"
#include "sink_types.h"
#include "syslog/transport.h"

namespace vigil::alerting {

namespace {

struct SyslogSettings {
  std::string address;
  std::string format = "cef";
  std::string body_template;
  std::string facility = "local0";
  std::string app_name = "vigil";
  std::string hostname;
  cep::Duration timeout = 10 * cep::kSecond;
  SyslogTlsSettings tls;
};

// In code order (kern = 0 ... local7 = 23).
const std::vector<std::string>& Facilities() {
  static const std::vector<std::string> names = {
      "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
      "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4", "local5", "local6",
      "local7"};
  return names;
}

int FacilityCode(const std::string& name) {
  const auto& all = Facilities();
  auto it = std::find(all.begin(), all.end(), name);
  return it == all.end() ? 16 : static_cast<int>(it - all.begin());
}

const std::vector<cep::Option<SyslogTlsSettings>>& SyslogTlsOptions() {
  static const std::vector<cep::Option<SyslogTlsSettings>> table = {
      {"ca_file", cep::OptionType::kString, "", false, "PEM file of CAs to trust.", {},
       cep::Member(&SyslogTlsSettings::ca_file)},
      {"verify", cep::OptionType::kBool, "true", false, "Verify the server certificate and name.", {},
       cep::Member(&SyslogTlsSettings::verify)},
      {"cert_file", cep::OptionType::kString, "", false, "Client certificate (mTLS).", {},
       cep::Member(&SyslogTlsSettings::cert_file)},
      {"key_file", cep::OptionType::kString, "", false, "Its private key.", {}, cep::Member(&SyslogTlsSettings::key_file)},
      {"server_name", cep::OptionType::kString, "", false,
       "Name to verify and send as SNI (default: the address's host).", {},
       cep::Member(&SyslogTlsSettings::server_name)},
  };
  return table;
}

const std::vector<cep::Option<SyslogSettings>>& SyslogOptions() {
  static const std::vector<cep::Option<SyslogSettings>> table = Concat(
      std::vector<cep::Option<SyslogSettings>>{
          {"address", cep::OptionType::kString, "", true, "udp://host:port, or tcp://host:port (add tls: for TLS).", {},
           cep::Member(&SyslogSettings::address)},
          {"format", cep::OptionType::kEnum, "cef", false, "The message: CEF or the alert JSON.", {"cef", "json"},
           cep::Member(&SyslogSettings::format)},
          {"template", cep::OptionType::kString, "", false,
           "A message template instead of the default CEF/JSON; values are escaped for the format (CEF header "
           "or extension, or JSON).",
           {}, cep::Member(&SyslogSettings::body_template)},
          {"facility", cep::OptionType::kEnum, "local0", false, "The syslog facility.", Facilities(),
           cep::Member(&SyslogSettings::facility)},
          {"app_name", cep::OptionType::kString, "vigil", false, "APP-NAME of the header.", {},
           cep::Member(&SyslogSettings::app_name)},
          {"hostname", cep::OptionType::kString, "", false, "HOSTNAME of the header (default: node.id).", {},
           cep::Member(&SyslogSettings::hostname)},
          {"timeout", cep::OptionType::kDuration, "10s", false, "Connect and send timeout.", {},
           cep::Member(&SyslogSettings::timeout)},
      },
      cep::PartOptions(&SyslogSettings::tls, SyslogTlsOptions(), "tls."));
  return table;
}

// RFC 5424 header fields are printable US-ASCII without spaces, of bounded length.
std::string HeaderField(std::string_view s, size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() == max) break;
    out.push_back(c > 32 && c < 127 ? c : '_');
  }
  return out.empty() ? "-" : out;
}

// Syslog severities: 2 crit, 3 err, 4 warning, 5 notice, 6 info.
int SyslogSeverity(std::string_view s) {
  switch (SeverityRank(s)) {
    case 4: return 2;
    case 3: return 3;
    case 2: return 4;
    case 1: return 5;
    default: return 6;
  }
}

class SyslogSink final : public Sink {
 public:
  SyslogSink(SyslogSettings s, SyslogTransport::Kind kind, std::unique_ptr<SyslogTransport> transport,
             std::optional<BodyTemplate> tmpl, SinkContext context)
      : s_(std::move(s)),
        kind_(kind),
        transport_(std::move(transport)),
        template_(std::move(tmpl)),
        context_(std::move(context)),
        facility_(FacilityCode(s_.facility)),
        hostname_(HeaderField(s_.hostname.empty() ? context_.node_id : s_.hostname, 255)),
        app_(HeaderField(s_.app_name, 48)),
        procid_(std::to_string(::getpid())) {}

  std::string Message(const AlertView& a) const {
    std::string msg;
    if (template_) msg = template_->Render(a);
    else if (s_.format == "json") msg = a.json();
    else msg = CefMessage(a, context_);
    std::string frame = "<" + std::to_string(facility_ * 8 + SyslogSeverity(a.severity())) + ">1 ";
    cep::AppendRfc3339Millis(a.detected_at() ? a.detected_at() : a.time(), &frame);
    frame += " " + hostname_ + " " + app_ + " " + procid_ + " " + HeaderField(a.rule_id(), 32) + " - ";
    frame += msg;
    return frame;
  }

  DeliveryResult Deliver(const AlertView& alert) override {
    std::string msg = Message(alert);
    std::string frame;
    if (kind_ == SyslogTransport::Kind::kUdp) {
      // One datagram per message; the largest a UDP datagram can carry.
      if (msg.size() > 65000) msg.resize(65000);
      frame = std::move(msg);
    } else {
      frame = std::to_string(msg.size()) + " " + msg;  // RFC 6587 octet counting
    }
    Status st = transport_->Send(frame);
    if (!st.ok()) return DeliveryResult::Retry(st.message());
    return DeliveryResult::Delivered();
  }

 private:
  SyslogSettings s_;
  SyslogTransport::Kind kind_;
  std::unique_ptr<SyslogTransport> transport_;
  std::optional<BodyTemplate> template_;
  SinkContext context_;
  int facility_;
  std::string hostname_, app_, procid_;
};

}  // namespace

SinkType SyslogSinkType() {
  SinkType t;
  t.name = "syslog";
  t.summary =
      "Sends RFC 5424 messages, `<PRI>1 <detected_at> <hostname> vigil <pid> <rule id> - <msg>`, "
      "over UDP (one datagram each), TCP with octet counting (`<length> <message>`) or TLS "
      "(`tcp://` with `tls:`). The message is CEF, `CEF:0|Vigil|Vigil|<version>|<rule id>|<rule "
      "title>|<severity 0-10>|rt=<ms> dvchost=<node> externalId=<alert id> cat=<tags> "
      "cs1Label=<key field> cs1=<value> ... msg=<summary>` with CEF escaping (severity info=1 "
      "low=3 medium=5 high=8 critical=10; the first six key fields as cs1..cs6), or the alert "
      "JSON. PRI's severity: critical=2, high=3, medium=4, low=5, info=6. Plain TCP syslog "
      "has no acknowledgements: a frame written just before the receiver dies can be lost "
      "(a closed connection is detected before each write); prefer TLS or an HTTP sink where "
      "that matters.";
  t.options_markdown = cep::OptionsMarkdown(SyslogOptions());
  t.example =
      "sinks:\n"
      "  siem-syslog:\n"
      "    type: syslog\n"
      "    address: tcp://siem:6514\n"
      "    format: cef\n"
      "    tls: {ca_file: /etc/vigil/siem-ca.pem}\n";
  t.create = [](const cep::ConfigNode& c, const std::string& path, const SinkContext& ctx,
                const cep::SecretSource& secrets) -> Result<std::unique_ptr<Sink>> {
    SyslogSettings s;
    if (Status st = cep::ApplyOptions(SyslogOptions(), c, path, &s, secrets, CommonSinkKeys()); !st.ok()) return st;
    std::string scheme, host, port;
    if (!ParseSyslogAddress(s.address, &scheme, &host, &port) || (scheme != "udp" && scheme != "tcp")) {
      return cep::OptionError(c.Find("address"), path + ".address",
                              "'" + s.address + "' is not udp://host:port or tcp://host:port");
    }
    const cep::ConfigNode* tls = c.Find("tls");
    if (tls && scheme == "udp") return cep::OptionError(tls, path + ".tls", "TLS needs a tcp:// address");
    SyslogTransport::Kind kind = scheme == "udp" ? SyslogTransport::Kind::kUdp
                                 : tls           ? SyslogTransport::Kind::kTls
                                                 : SyslogTransport::Kind::kTcp;
    std::optional<BodyTemplate> tmpl;
    if (!s.body_template.empty()) {
      auto p = BodyTemplate::Parse(s.body_template,
                                   s.format == "json" ? TemplateContext::kJson : TemplateContext::kCef,
                                   path + ".template");
      if (!p.ok()) return Located(c.Find("template"), p.status());
      tmpl = std::move(p).value();
    }
    auto transport = NewSyslogTransport(kind, host, port, s.timeout, s.tls);
    return std::unique_ptr<Sink>(new SyslogSink(std::move(s), kind, std::move(transport), std::move(tmpl), ctx));
  };
  return t;
}

}  // namespace vigil::alerting
