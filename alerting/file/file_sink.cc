// file: appends one alert per line to a file; follows rotation (a moved or deleted file
// is reopened at its path).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "formats/formats.h"
#include "sink_types.h"

namespace vigil::alerting {

namespace {

struct FileSettings {
  std::string path;
  bool fsync = false;
  JsonBodySettings body;
};

const std::vector<cep::Option<FileSettings>>& FileOptions() {
  static const std::vector<cep::Option<FileSettings>> table = Concat(
      std::vector<cep::Option<FileSettings>>{
          {"path", cep::OptionType::kString, "", true, "The file alerts are appended to.", {},
           cep::Member(&FileSettings::path)},
          {"fsync", cep::OptionType::kBool, "false", false,
           "fsync after each alert (survives power loss, costs a disk flush per alert).", {},
           cep::Member(&FileSettings::fsync)},
      },
      cep::PartOptions(&FileSettings::body, JsonBodyOptions()));
  return table;
}

class FileSink final : public Sink {
 public:
  FileSink(FileSettings s, JsonBody body, SinkContext context)
      : s_(std::move(s)), body_(std::move(body)), context_(std::move(context)) {}
  ~FileSink() override {
    if (fd_ >= 0) ::close(fd_);
  }

  DeliveryResult Deliver(const AlertView& alert) override {
    if (Status st = Open(); !st.ok()) return DeliveryResult::Retry(st.message());
    std::string line = body_.Render(alert, context_);
    line.push_back('\n');
    // One write per line: with O_APPEND, lines of concurrent writers do not interleave.
    ssize_t n;
    do n = ::write(fd_, line.data(), line.size());
    while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(line.size())) {
      std::string why = n < 0 ? std::strerror(errno) : "short write";
      ::close(fd_);
      fd_ = -1;
      return DeliveryResult::Retry(s_.path + ": " + why);
    }
    if (s_.fsync && ::fsync(fd_) != 0) return DeliveryResult::Retry(s_.path + ": fsync: " + std::strerror(errno));
    return DeliveryResult::Delivered();
  }

 private:
  Status Open() {
    struct stat st;
    if (fd_ >= 0) {
      if (::stat(s_.path.c_str(), &st) == 0 && st.st_ino == inode_ && st.st_dev == dev_) return Status::Ok();
      ::close(fd_);  // rotated away: reopen at the path
      fd_ = -1;
    }
    fd_ = ::open(s_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd_ < 0) return Status::IOError(s_.path + ": " + std::strerror(errno));
    if (::fstat(fd_, &st) == 0) {
      inode_ = st.st_ino;
      dev_ = st.st_dev;
    }
    return Status::Ok();
  }

  FileSettings s_;
  JsonBody body_;
  SinkContext context_;
  int fd_ = -1;
  ino_t inode_ = 0;
  dev_t dev_ = 0;
};

}  // namespace

SinkType FileSinkType() {
  SinkType t;
  t.name = "file";
  t.summary =
      "Appends each alert as one line of JSON to `path` (created if absent, mode 0640). A "
      "rotated file (moved or deleted) is reopened at its path at the next alert.";
  t.options_markdown = cep::OptionsMarkdown(FileOptions());
  t.example =
      "sinks:\n"
      "  archive: {type: file, path: /var/log/vigil/alerts.jsonl, format: ocsf}\n";
  t.create = [](const cep::ConfigNode& c, const std::string& path, const SinkContext& ctx,
                const cep::SecretSource& secrets) -> Result<std::unique_ptr<Sink>> {
    FileSettings s;
    if (Status st = cep::ApplyOptions(FileOptions(), c, path, &s, secrets, CommonSinkKeys()); !st.ok()) return st;
    auto body = JsonBody::Make(s.body, path);
    if (!body.ok()) return Located(c.Find("template"), body.status());
    return std::unique_ptr<Sink>(new FileSink(std::move(s), std::move(body).value(), ctx));
  };
  return t;
}

}  // namespace vigil::alerting
