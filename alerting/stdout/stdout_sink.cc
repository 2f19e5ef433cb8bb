// stdout: one alert per line on standard output (the embedded default of `vigil run`).
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "formats/formats.h"
#include "sink_types.h"

namespace vigil::alerting {

namespace {

struct StdoutSettings {
  JsonBodySettings body;
};

const std::vector<cep::Option<StdoutSettings>>& StdoutOptions() {
  static const std::vector<cep::Option<StdoutSettings>> table =
      cep::PartOptions(&StdoutSettings::body, JsonBodyOptions());
  return table;
}

// Writes all of `line` to `fd`, through short writes and EINTR.
bool WriteAll(int fd, const std::string& line, std::string* error) {
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = std::strerror(errno);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

class StdoutSink final : public Sink {
 public:
  StdoutSink(JsonBody body, SinkContext context) : body_(std::move(body)), context_(std::move(context)) {}
  DeliveryResult Deliver(const AlertView& alert) override {
    std::string line = body_.Render(alert, context_);
    line.push_back('\n');
    std::string error;
    if (!WriteAll(STDOUT_FILENO, line, &error)) return DeliveryResult::Retry("stdout: " + error);
    return DeliveryResult::Delivered();
  }

 private:
  JsonBody body_;
  SinkContext context_;
};

}  // namespace

SinkType StdoutSinkType() {
  SinkType t;
  t.name = "stdout";
  t.summary = "Writes each alert as one line of JSON to standard output.";
  t.options_markdown = cep::OptionsMarkdown(StdoutOptions());
  t.example =
      "sinks:\n"
      "  console: {type: stdout, default: true}\n";
  t.create = [](const cep::ConfigNode& c, const std::string& path, const SinkContext& ctx,
                const cep::SecretSource& secrets) -> Result<std::unique_ptr<Sink>> {
    StdoutSettings s;
    if (Status st = cep::ApplyOptions(StdoutOptions(), c, path, &s, secrets, CommonSinkKeys()); !st.ok()) return st;
    auto body = JsonBody::Make(s.body, path);
    if (!body.ok()) return Located(c.Find("template"), body.status());
    return std::unique_ptr<Sink>(new StdoutSink(std::move(body).value(), ctx));
  };
  return t;
}

}  // namespace vigil::alerting
