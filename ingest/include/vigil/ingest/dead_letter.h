// The dead-letter path: records that cannot become events (malformed for the stream's
// format, no usable time, over-long lines, empty Kafka values) are counted per stream and
// logged with where they came from; they never stop the stream.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/ingest/source.h"

namespace vigil::ingest {

struct DeadLetter {
  std::string stream;
  std::string where;   // the source's DescribePosition ("partition 2 offset 17")
  std::string reason;  // what is wrong
  std::string sample;  // the first bytes of the record, for the operator
};

struct DeadLetterOptions {
  uint64_t log_first = 10;    // per stream: the first ones are logged one by one...
  uint64_t log_every = 1000;  // ...then every n-th, with the count so far
  size_t keep = 32;           // the most recent ones kept for status
  size_t sample_bytes = 200;
};

// Thread safety: all methods may be called from any thread.
class DeadLetters {
 public:
  explicit DeadLetters(LogFn log = nullptr, DeadLetterOptions options = DeadLetterOptions());
  DeadLetters(const DeadLetters&) = delete;
  DeadLetters& operator=(const DeadLetters&) = delete;

  void Add(std::string_view stream, std::string where, std::string reason, std::string_view data);

  uint64_t count() const;
  uint64_t count(std::string_view stream) const;
  // Newest last.
  std::vector<DeadLetter> recent() const;

 private:
  const LogFn log_;
  const DeadLetterOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, uint64_t, std::less<>> counts_;
  uint64_t total_ = 0;
  std::deque<DeadLetter> recent_;
};

}  // namespace vigil::ingest
