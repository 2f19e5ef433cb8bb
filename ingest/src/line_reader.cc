#include "vigil/ingest/line_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vigil::ingest {

LineReader::~LineReader() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

Status LineReader::Open(const std::string& path) {
  path_ = path;
  if (path == "-") {
    fd_ = STDIN_FILENO;
    owns_fd_ = false;
  } else {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return Status::IOError(path + ": " + std::strerror(errno));
    owns_fd_ = true;
  }
  buf_.resize(1 << 20);
  return Status::Ok();
}

Status LineReader::Seek(uint64_t offset, uint64_t line_number) {
  if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) {
    return Status::IOError(path_ + ": cannot seek: " + std::strerror(errno));
  }
  begin_ = end_ = 0;
  consumed_ = offset;
  line_number_ = line_number;
  eof_ = false;
  skipping_ = false;
  return Status::Ok();
}

bool LineReader::Fill(Status* status) {
  if (eof_) return false;
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) {
    // The buffer holds one unfinished line. Up to kMaxLine bytes plus the newline fit.
    if (buf_.size() > kMaxLine) {
      // The pending line is too long: drop what we have and keep skipping to its end.
      if (!skipping_) skipped_offset_ = consumed_;
      skipping_ = true;
      consumed_ += end_;
      end_ = 0;
    } else {
      buf_.resize(std::min(buf_.size() * 2, kMaxLine + 1));
    }
  }
  for (;;) {
    ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *status = Status::IOError(path_ + ": " + std::strerror(errno));
      eof_ = true;
      return false;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    end_ += static_cast<size_t>(n);
    return true;
  }
}

bool LineReader::Next(Line* line, Status* status) {
  *status = Status::Ok();
  for (;;) {
    const char* start = buf_.data() + begin_;
    const void* nl = std::memchr(start, '\n', end_ - begin_);
    // At the end, a last line without a newline (possibly one being skipped).
    if (nl != nullptr || (eof_ && (end_ > begin_ || skipping_))) {
      size_t len = nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) : end_ - begin_;
      line->number = ++line_number_;
      line->offset = skipping_ ? skipped_offset_ : consumed_;
      line->too_long = skipping_;
      line->text = skipping_ ? std::string_view() : std::string_view(start, len);
      if (line->text.size() > 0 && line->text.back() == '\r') line->text.remove_suffix(1);
      skipping_ = false;
      size_t advance = len + (nl ? 1 : 0);
      begin_ += advance;
      consumed_ += advance;
      return true;
    }
    if (!Fill(status)) {
      if (status->ok() && (end_ > begin_ || skipping_)) continue;  // a last line
      return false;
    }
  }
}

}  // namespace vigil::ingest
