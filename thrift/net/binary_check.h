// thrift/net/binary_check.h — structural validation of Thrift binary-
// protocol bytes before the generated code decodes them.
//
// Walks the encoding (field headers, lengths, container counts, nesting)
// with bounds checks and refuses unknown type codes, lengths past the end
// and nesting deeper than 64. Decoding only checked bytes keeps hostile
// input away from code paths that would otherwise load out-of-range enum
// values or attempt huge allocations. Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sb::wire {

// `data` holds exactly one struct. False + *why otherwise.
bool CheckBinaryStruct(const uint8_t* data, size_t len, std::string* why);

// `data` holds exactly one strict binary-protocol message (version word,
// name, sequence id) followed by its argument struct.
bool CheckBinaryMessage(const uint8_t* data, size_t len, std::string* why);

}  // namespace sb::wire
