#pragma once
// Process-wide settings every Granary executable applies first thing in main().

namespace granary {

// 1. SIGPIPE is ignored: a peer that hangs up while we send (sendfile cannot
//    pass MSG_NOSIGNAL) must be an EPIPE error, not the death of a daemon.
// 2. glibc malloc keeps multi-megabyte buffers (chunk pieces, read replies)
//    mapped for reuse instead of mmapping and trimming them each time, which
//    profiles of reads showed as page faults and kernel page zeroing. Memory
//    use grows to the working set and stays there.
// Call once, before threads start.
void InitProcess();

}  // namespace granary
