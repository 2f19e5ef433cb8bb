// JSON objects (one per record) decoded with simdjson On-Demand: only the registered
// fields are materialised; the text itself is kept as the event's raw bytes.
#pragma once

#include <memory>

#include "vigil/cep/event.h"
#include "vigil/ingest/decoder.h"

namespace vigil::ingest {

// `fields` must hold every path rules read before the decoder is built; the decoder adds
// the timestamp fields and then works from a snapshot of it.
std::unique_ptr<Decoder> NewJsonDecoder(cep::FieldRegistry* fields,
                                        const TimestampOptions& timestamp);

// The simdjson kernel the decoder uses on this CPU ("haswell", "westmere", "fallback"...).
const char* JsonKernelName();

}  // namespace vigil::ingest
