#pragma once
// Trace ids: one per operation a user or a daemon starts (a file written, a
// file read, a namespace call, a chunk repaired). Every request made for the
// operation carries it in its frame header (docs/wire_format.md), daemons
// pass it on to the calls they make for that request, and every log line
// about the request shows it as `trace=` and 8 hex digits, so one grep over
// the logs of client, metad and chunk servers finds every step.
//
// 32 random bits: enough to tell apart the operations of one log window
// (a collision needs ~65k operations around the same moment), and it fits
// the header without making frames larger.

#include <cstdint>
#include <string>

#include "common/proto/granary.pb.h"
#include "common/status.h"

namespace granary::net {

using TraceId = uint32_t;

// A random non-zero id (0 means "no trace"). Thread-safe.
TraceId NewTraceId();

// "1a2b3c4d"; "-" for 0.
std::string TraceHex(TraceId trace);

// Whether `code` is part of a normal conversation (a lookup of a missing
// name, a second writer refused) rather than trouble worth following in the
// logs (an I/O error, a timeout, a checksum mismatch).
bool IsExpectedAnswer(proto::ErrorCode code);

// `st` with " [trace 1a2b3c4d]" appended to its message when it reports
// trouble (see IsExpectedAnswer); unchanged otherwise.
Status WithTrace(Status st, TraceId trace);

}  // namespace granary::net
