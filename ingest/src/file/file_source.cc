// The file source: reads a file line by line and, with `follow: true`, keeps reading as it
// grows (tail -F), across rotations.
//
// Positions. A record's position is its byte offset counted across every file the path
// has named since the first start (a rotation starts a new "generation" whose positions
// continue where the old file's ended), so positions only grow and alert identities are
// never reused. A checkpoint stores the file's device and inode, the byte offset and line
// number within it, and that cumulative position.
//
// Rotation. rename + create: the path names a new inode; the old file is read to its end,
// and is switched away from once the new file has data (the writer has reopened) or after
// rotate_wait. copytruncate: the same inode shrinks below the read offset; reading starts
// again at 0 (lines written between the copy and the truncation are lost: that is
// copytruncate's nature). Rotated while Vigil was stopped: the old inode is looked for
// next to the path (auth.log.1, ...) and its rest read first.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "sources/line_splitter.h"
#include "sources/source_types.h"
#include "sources/wakeup.h"
#include "vigil/ingest/dead_letter.h"
#include "vigil/ingest/record_queue.h"

namespace vigil::ingest {

namespace {

struct FileSettings {
  std::string path;
  bool follow = true;
  std::string start_at = "beginning";
  cep::Duration poll_interval = 250 * cep::kMillisecond;
  cep::Duration rotate_wait = 5 * cep::kSecond;
  uint64_t max_line = 16u << 20;
};

std::string PositiveDuration(FileSettings& s, cep::Duration FileSettings::*m,
                             const cep::OptionValue& v) {
  if (v.duration <= 0) return "must be positive";
  s.*m = v.duration;
  return {};
}

const std::vector<cep::Option<FileSettings>>& FileOptions() {
  using cep::OptionType;
  static const std::vector<cep::Option<FileSettings>> t = {
      {"path",
       OptionType::kString,
       "",
       true,
       "The file to read.",
       {},
       cep::Member(&FileSettings::path)},
      {"follow",
       OptionType::kBool,
       "true",
       false,
       "Keep reading as the file grows, across rotations (rename + create, copytruncate). "
       "`false`: read to the end, then the stream ends.",
       {},
       cep::Member(&FileSettings::follow)},
      {"start_at",
       OptionType::kEnum,
       "beginning",
       false,
       "Where to start a file no checkpoint has a position for. A stored position always wins.",
       {"beginning", "end"},
       cep::Member(&FileSettings::start_at)},
      {"poll_interval",
       OptionType::kDuration,
       "250ms",
       false,
       "How often a followed file is checked for new lines and rotation.",
       {},
       [](FileSettings& s, const cep::OptionValue& v) {
         return PositiveDuration(s, &FileSettings::poll_interval, v);
       }},
      {"rotate_wait",
       OptionType::kDuration,
       "5s",
       false,
       "After a rename, how long the old file is still read if the new one stays empty "
       "(a writer that has not reopened yet still appends to the old one).",
       {},
       [](FileSettings& s, const cep::OptionValue& v) {
         return PositiveDuration(s, &FileSettings::rotate_wait, v);
       }},
      {"max_line",
       OptionType::kBytes,
       "16MiB",
       false,
       "Longer lines are dead-lettered (counted, logged with their line number), not loaded.",
       {},
       cep::Member(&FileSettings::max_line)},
  };
  return t;
}

struct FileId {
  uint64_t dev = 0, ino = 0;
  bool operator==(const FileId& o) const { return dev == o.dev && ino == o.ino; }
  bool operator!=(const FileId& o) const { return !(*this == o); }
};

// Where one generation's positions start.
struct Generation {
  uint64_t base = 0;  // cumulative position of the file's byte 0
  FileId id;
};

// What a checkpoint stores.
struct Resume {
  bool valid = false;
  FileId id;
  uint64_t offset = 0;  // in the file, a line start
  uint64_t line = 0;    // lines before `offset`
  uint64_t pos = 0;     // cumulative position of `offset`
};

class FileSource final : public Source {
 public:
  FileSource(const FileSettings& s, const SourceContext& ctx)
      : Source("file", ctx.stream), s_(s), ctx_(ctx), splitter_(s.max_line) {}
  ~FileSource() override { Stop(); }

  Status Seek(const cep::StateStore& store) override {
    std::string value;
    auto found = store.Get(cep::StateFamily::kPositions, PositionKey(stream(), 0), &value);
    if (!found.ok()) return found.status();
    if (!*found) return Status::Ok();
    Resume r;
    if (!DecodePositionField(value, "dev", &r.id.dev) ||
        !DecodePositionField(value, "ino", &r.id.ino) ||
        !DecodePositionField(value, "offset", &r.offset) ||
        !DecodePositionField(value, "line", &r.line) ||
        !DecodePositionField(value, "pos", &r.pos)) {
      return Status::Corruption("streams." + stream() + ": stored position '" + value +
                                "' is not a file position");
    }
    r.valid = true;
    stored_ = r;
    std::lock_guard<std::mutex> lock(mu_);
    processed_ = r;
    return Status::Ok();
  }

  Status Start(RecordQueue* queue, uint32_t index) override {
    queue_ = queue;
    index_ = index;
    thread_ = std::thread([this] { Run(); });
    return Status::Ok();
  }

  void Stop() override {
    if (stop_.exchange(true)) return;
    wake_.Signal();
    if (queue_) queue_->WakeProducers();
    if (thread_.joinable()) thread_.join();
    CloseFd();
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != SourceState::kFinished) state_ = SourceState::kStopped;
  }

  void Processed(const Record& r) override {
    if (r.kind != RecordKind::kData) return;
    std::lock_guard<std::mutex> lock(mu_);
    while (gens_.size() > 1 && gens_[1].base <= r.position)
      gens_.pop_front();
    if (gens_.empty()) return;
    processed_.valid = true;
    processed_.id = gens_.front().id;
    processed_.offset = r.end - gens_.front().base;
    processed_.line = r.line;
    processed_.pos = r.end;
  }

  void AddPositions(cep::StateBatch* batch) override {
    Resume r;
    {
      std::lock_guard<std::mutex> lock(mu_);
      r = processed_;
    }
    if (!r.valid) return;
    batch->Put(cep::StateFamily::kPositions, PositionKey(stream(), 0),
               EncodePosition({{"dev", r.id.dev},
                               {"ino", r.id.ino},
                               {"offset", r.offset},
                               {"line", r.line},
                               {"pos", r.pos}}));
  }

  void OnCheckpointed() override {}

  SourceStatus status() const override {
    SourceStatus s;
    std::lock_guard<std::mutex> lock(mu_);
    s.state = state_;
    s.message = message_;
    s.records = records_;
    s.bytes = bytes_;
    s.dead_letters = dead_letters_;
    s.backpressure_waits = waits_;
    PartitionStatus p;
    p.next = next_pos_;
    p.processed = processed_.pos;
    s.partitions = {p};
    return s;
  }

  std::string DescribePosition(const Record& r) const override {
    uint64_t base = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const Generation& g : gens_) {
        if (g.base <= r.position) base = g.base;
      }
    }
    return "line " + std::to_string(r.line) + " of " + s_.path + " (byte " +
           std::to_string(r.position - base) + ")";
  }

 private:
  void Log(LogLevel level, const std::string& msg) const {
    std::string line = "streams." + stream() + " (file " + s_.path + "): " + msg;
    if (ctx_.log)
      ctx_.log(level, line);
    else
      LogToStderr(level, line);
  }

  void SetState(SourceState st, std::string msg) {
    bool changed;
    {
      std::lock_guard<std::mutex> lock(mu_);
      changed = st != state_ || msg != message_;
      state_ = st;
      message_ = msg;
    }
    if (changed && st == SourceState::kError) Log(LogLevel::kError, msg);
  }

  void CloseFd() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  static bool StatPath(const std::string& path, FileId* id, uint64_t* size) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return false;
    id->dev = static_cast<uint64_t>(st.st_dev);
    id->ino = static_cast<uint64_t>(st.st_ino);
    *size = static_cast<uint64_t>(st.st_size);
    return true;
  }

  // Opens `path` at `offset` as a new generation whose byte 0 has cumulative position `base`.
  bool OpenAt(const std::string& path, uint64_t offset, uint64_t line, uint64_t base) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st;
    fstat(fd, &st);
    if (offset > 0 && lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
      close(fd);
      return false;
    }
    CloseFd();
    fd_ = fd;
    id_ = {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
    base_ = base;
    line_ = line;
    read_offset_ = offset;
    splitter_.Reset(offset);
    std::lock_guard<std::mutex> lock(mu_);
    gens_.push_back({base, id_});
    next_pos_ = base + offset;
    return true;
  }

  // Looks next to the path for the file with inode `id` (a rotated copy).
  std::string FindRotated(const FileId& id) const {
    std::string dir = ".", name = s_.path;
    size_t slash = s_.path.rfind('/');
    if (slash != std::string::npos) {
      dir = slash == 0 ? "/" : s_.path.substr(0, slash);
      name = s_.path.substr(slash + 1);
    }
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return {};
    std::string found;
    while (dirent* e = readdir(d)) {
      std::string entry = e->d_name;
      if (entry.rfind(name, 0) != 0 || entry == name) continue;
      std::string full = dir + "/" + entry;
      FileId fid;
      uint64_t size;
      if (StatPath(full, &fid, &size) && fid == id) {
        found = full;
        break;
      }
    }
    closedir(d);
    return found;
  }

  // Opens the file where the stored position (or start_at) says. Returns false while the
  // path does not exist yet.
  bool OpenFirst() {
    FileId now;
    uint64_t size = 0;
    if (!StatPath(s_.path, &now, &size)) return false;
    if (!stored_.valid) {
      // start_at end: after the last complete line, so a line being written is read whole.
      uint64_t offset = s_.start_at == "end" ? LastLineStart(s_.path, size) : 0;
      return OpenAt(s_.path, offset, 0, 0);
    }
    const Resume& r = stored_;
    if (now == r.id) {
      if (size >= r.offset) return OpenAt(s_.path, r.offset, r.line, r.pos - r.offset);
      Log(LogLevel::kWarning,
          "the file is shorter than the stored position (truncated while stopped): reading from "
          "its start");
      return OpenAt(s_.path, 0, 0, r.pos);
    }
    std::string rotated = FindRotated(r.id);
    if (!rotated.empty()) {
      Log(LogLevel::kInfo, "rotated while stopped: reading the rest of " + rotated + " first");
      if (OpenAt(rotated, r.offset, r.line, r.pos - r.offset)) {
        pending_switch_ = true;  // to the path, once the old file is read
        return true;
      }
    }
    Log(LogLevel::kWarning, "rotated while stopped and the old file (inode " +
                                std::to_string(r.id.ino) +
                                ") is gone: lines after the stored position in it are lost");
    return OpenAt(s_.path, 0, 0, r.pos);
  }

  // The offset just after the last newline before `size` (0 if none within max_line).
  uint64_t LastLineStart(const std::string& path, uint64_t size) const {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[4096];
    uint64_t end = size, result = 0;
    while (end > 0 && size - end <= s_.max_line) {
      uint64_t begin = end > sizeof buf ? end - sizeof buf : 0;
      ssize_t n = pread(fd, buf, static_cast<size_t>(end - begin), static_cast<off_t>(begin));
      if (n <= 0) break;
      const void* nl = memrchr(buf, '\n', static_cast<size_t>(n));
      if (nl != nullptr) {
        result = begin + static_cast<uint64_t>(static_cast<const char*>(nl) - buf) + 1;
        break;
      }
      end = begin;
    }
    close(fd);
    return result;
  }

  // Reads what is there; queues complete lines. Returns false at end of file (or error).
  bool ReadSome(std::vector<char>& buf) {
    ssize_t n = read(fd_, buf.data(), buf.size());
    if (n <= 0) {
      if (n < 0 && errno != EINTR) {
        SetState(SourceState::kError, "cannot read: " + std::string(std::strerror(errno)));
      }
      return false;
    }
    read_offset_ += static_cast<uint64_t>(n);
    splitter_.Feed(std::string_view(buf.data(), static_cast<size_t>(n)),
                   [&](const LineSplitter::Line& l) { OnLine(l); });
    return true;
  }

  void OnLine(const LineSplitter::Line& l) {
    ++line_;
    if (stop_) return;
    if (l.too_long) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++dead_letters_;
      }
      std::string where = "line " + std::to_string(line_) + " of " + s_.path;
      if (ctx_.dead_letters)
        ctx_.dead_letters->Add(stream(), where, "line longer than max_line", {});
      else
        Log(LogLevel::kWarning, where + " is longer than max_line: skipped");
      return;
    }
    Record r;
    r.position = base_ + l.offset;
    r.end = base_ + l.next;
    r.line = line_;
    r.data.assign(l.text);
    const uint64_t bytes = r.data.size();
    auto pushed = queue_->Push(index_, r, &stop_, 0);
    if (pushed == RecordQueue::PushResult::kTimedOut) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++waits_;
      }
      pushed = queue_->Push(index_, r, &stop_);
    }
    if (pushed != RecordQueue::PushResult::kOk) return;
    std::lock_guard<std::mutex> lock(mu_);
    ++records_;
    bytes_ += bytes;
    next_pos_ = base_ + l.next;
  }

  // Switches to the file the path names now, as a new generation.
  void SwitchToPath() {
    splitter_.Finish([&](const LineSplitter::Line& l) { OnLine(l); });
    uint64_t base = base_ + read_offset_;
    pending_switch_ = false;
    rotation_seen_ = 0;
    Log(LogLevel::kInfo, "rotated: reading the new file");
    if (!OpenAt(s_.path, 0, 0, base)) {
      CloseFd();
      waiting_for_path_ = true;
      next_base_ = base;
    }
  }

  void Run() {
    std::vector<char> buf(64 << 10);
    const int poll_ms =
        static_cast<int>(std::max<cep::Duration>(1, s_.poll_interval / cep::kMillisecond));
    const cep::Clock* clock = ctx_.clock ? ctx_.clock : cep::SystemClock::Default();
    while (!stop_ && fd_ < 0) {
      if (OpenFirst()) break;
      SetState(SourceState::kError,
               "cannot open: " + std::string(std::strerror(errno)) + "; waiting for it");
      if (!s_.follow) {
        SetState(SourceState::kError, "cannot open: " + std::string(std::strerror(errno)));
        return;
      }
      bool woken;
      wake_.Wait(-1, poll_ms, &woken);
    }
    if (stop_) return;
    SetState(SourceState::kRunning, "reading");
    while (!stop_) {
      if (fd_ >= 0 && ReadSome(buf)) continue;
      if (stop_) return;
      // At the end of what is there.
      if (pending_switch_) {
        SwitchToPath();
        continue;
      }
      if (!s_.follow) {
        splitter_.Finish([&](const LineSplitter::Line& l) { OnLine(l); });
        queue_->PushControl(index_, ControlRecord(RecordKind::kEnd));
        SetState(SourceState::kFinished, "read to the end (follow: false)");
        return;
      }
      if (waiting_for_path_) {
        if (OpenAt(s_.path, 0, 0, next_base_)) {
          waiting_for_path_ = false;
          SetState(SourceState::kRunning, "reading");
          continue;
        }
      } else {
        FileId now;
        uint64_t size = 0;
        if (StatPath(s_.path, &now, &size)) {
          if (now != id_) {
            // Renamed away and a new file created: switch once the writer uses the new one.
            if (rotation_seen_ == 0) rotation_seen_ = clock->Now();
            if (size > 0 || clock->Now() - rotation_seen_ >= s_.rotate_wait) {
              SwitchToPath();
              continue;
            }
          } else if (size < read_offset_) {
            // Truncated in place (copytruncate): the same inode starts again at 0.
            splitter_.Finish([&](const LineSplitter::Line& l) { OnLine(l); });
            uint64_t base = base_ + read_offset_;
            lseek(fd_, 0, SEEK_SET);
            base_ = base;
            line_ = 0;
            read_offset_ = 0;
            splitter_.Reset(0);
            std::lock_guard<std::mutex> lock(mu_);
            gens_.push_back({base, id_});
            continue;
          }
        } else if (rotation_seen_ == 0) {
          rotation_seen_ = clock->Now();  // renamed, not yet re-created: keep reading the old one
        } else if (clock->Now() - rotation_seen_ >= s_.rotate_wait) {
          SwitchToPath();
          continue;
        }
      }
      bool woken;
      wake_.Wait(-1, poll_ms, &woken);
    }
  }

  const FileSettings s_;
  const SourceContext ctx_;
  RecordQueue* queue_ = nullptr;
  uint32_t index_ = 0;
  Resume stored_;

  // Reader thread only.
  LineSplitter splitter_;
  int fd_ = -1;
  FileId id_;
  uint64_t base_ = 0;         // cumulative position of the open file's byte 0
  uint64_t line_ = 0;         // lines read from the open file
  uint64_t read_offset_ = 0;  // bytes of the open file read
  bool pending_switch_ = false;
  bool waiting_for_path_ = false;
  uint64_t next_base_ = 0;
  cep::Timestamp rotation_seen_ = 0;

  std::atomic<bool> stop_{false};
  Wakeup wake_;
  std::thread thread_;

  mutable std::mutex mu_;
  std::deque<Generation> gens_;
  Resume processed_;
  SourceState state_ = SourceState::kStarting;
  std::string message_;
  uint64_t records_ = 0, bytes_ = 0, dead_letters_ = 0, waits_ = 0, next_pos_ = 0;
};

}  // namespace

SourceType FileSourceType() {
  return MakeSourceType<FileSettings>(
      "file",
      "Lines of a file, one record each; with `follow: true` (the default) it is tailed "
      "across rotations (rename + create, and copytruncate). A checkpoint stores the "
      "file's inode, byte offset and line number, so a restart resumes at the first line "
      "not yet covered, also when the file was rotated meanwhile (the rotated file is "
      "looked for next to the path). Records are not copied into the ingest log: the file "
      "itself is the log.",
      &FileOptions,
      [](const FileSettings& s, const std::string&,
         const SourceContext& ctx) -> Result<std::unique_ptr<Source>> {
        return std::unique_ptr<Source>(new FileSource(s, ctx));
      });
}

}  // namespace vigil::ingest
