// Binary encoding of engine events for the write-ahead log and snapshots: little-endian
// fixed-width integers, strings as a 16-bit length and bytes. docs/wal-format.md lists
// the layout of every event. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "engine/partition.h"
#include "engine/types.h"

namespace thunder::engine {

void EncodeEvent(const Event& e, std::string& out);
// kCorruption on anything that is not a whole, well-formed event.
Result<Event> DecodeEvent(std::string_view bytes);

// Events that rebuild `p`'s drops and orders exactly when replayed into an empty
// partition: what a snapshot holds. Ordered by id, so the output is deterministic.
std::vector<Event> SnapshotEvents(const Partition& p);

}  // namespace thunder::engine
