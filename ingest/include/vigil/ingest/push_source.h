// The `grpc` source: records pushed by the admin API's Ingest.Publish call (edge/ owns the
// gRPC server; this is what its handler calls). Pushed records cannot be asked for again,
// so Publish returns only once they are in the stream's ingest log (durable per
// `state.durability`: with `sync`, fsync'd, one fsync shared by every call in flight) and
// queued for the engine: the handler acknowledges the client after that.
#pragma once

#include <string>
#include <vector>

#include "vigil/cep/status.h"
#include "vigil/ingest/source.h"

namespace vigil::ingest {

class PushSource : public Source {
 public:
  // Logs and queues `records` (one record each, in order), waiting while the queue is
  // full (back-pressure reaches the client as a slow call). Returns the position of the
  // first record. Fails (kUnavailable) when the source is not started or is stopping, and
  // with the store's error when the log cannot be written; then nothing was acknowledged.
  // Thread safety: any number of threads at once.
  virtual Result<uint64_t> Publish(std::vector<std::string> records) = 0;

 protected:
  using Source::Source;
};

// The source of a `grpc` stream as a PushSource, or null for other types.
PushSource* AsPushSource(Source* source);

}  // namespace vigil::ingest
