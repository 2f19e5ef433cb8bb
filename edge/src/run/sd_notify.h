// Internal: systemd's notify protocol (sd_notify(3)) without libsystemd: one datagram to the
// unix socket named by $NOTIFY_SOCKET ("@name" is an abstract socket).
#pragma once

#include <string>

#include "vigil/cep/time.h"

namespace vigil::edge {

// Sends `state` ("READY=1", "STOPPING=1", "WATCHDOG=1", "STATUS=..."). Returns false when
// there is no $NOTIFY_SOCKET (not run by systemd) or the send failed.
bool SdNotify(const std::string& state);

// The watchdog interval systemd asks for ($WATCHDOG_USEC, for this process per
// $WATCHDOG_PID), or 0 when none.
cep::Duration SdWatchdogInterval();

}  // namespace vigil::edge
