// Syslog lines (RFC 5424, RFC 3164 / BSD, and the RFC 3339-stamped BSD form rsyslog writes
// to files) and raw lines, decoded into events.
//
// Fields (each materialised only when some rule, key or template reads it):
//   @timestamp  the event time, as RFC 3339 text
//   host        HOSTNAME
//   app         the program: APP-NAME (5424), the TAG without "[pid]" (3164)
//   pid         PROCID / the TAG's [pid]: an integer when it is one, else text
//   msgid       RFC 5424 MSGID
//   message     the text after "app[pid]: " (3164) or after the structured data (5424)
//   facility, severity            numeric codes from PRI, when a PRI is present
//   facility_name, severity_name  their keywords ("auth", "err", ...)
//   sd.<SD-ID>.<PARAM-NAME>       RFC 5424 structured data parameters
//
// Year rule for RFC 3164 timestamps, which carry neither year nor zone: the current year
// (the clock's, in `timezone`) is used, or the previous year when that would put the event
// more than a day in the future (a December line read in January). A fixed `year`
// overrides it, for replaying old files deterministically.
#pragma once

#include <memory>
#include <string>

#include "vigil/cep/event.h"
#include "vigil/cep/status.h"
#include "vigil/cep/time.h"
#include "vigil/ingest/decoder.h"

namespace vigil::ingest {

struct SyslogOptions {
  // "UTC" (default) or a fixed offset "+02:00" / "-0530": the zone of RFC 3164 timestamps.
  std::string timezone = "UTC";
  // 0: the year rule above; otherwise the year of every RFC 3164 timestamp.
  int year = 0;
  // The current time for the year rule; null = the system clock. Must outlive the decoder.
  const cep::Clock* clock = nullptr;
};

// Parses "UTC", "Z", "+02:00", "+0200", "-05:30" into an offset from UTC in seconds.
bool ParseUtcOffset(std::string_view text, int* seconds);

// Fails if options.timezone does not parse.
Result<std::unique_ptr<Decoder>> NewSyslogDecoder(cep::FieldRegistry* fields,
                                                  const SyslogOptions& options);

// Every line is one event: the line (without its line break) as `message`, event time from
// the clock (processing time: raw lines carry no timestamp Vigil could trust).
std::unique_ptr<Decoder> NewRawDecoder(cep::FieldRegistry* fields, const cep::Clock* clock);

}  // namespace vigil::ingest
