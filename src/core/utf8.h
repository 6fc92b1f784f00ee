// UTF-8 helpers (tokenizer, detokenizer, chat templates, Python formatting): validity and
// how much of a byte string ends in a complete character.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace minke::utf8 {

// Length of the sequence a lead byte starts (1-4), or 0 for a continuation or
// invalid byte.
int sequence_length(uint8_t lead);

// Length of the longest prefix of `s` that does not end inside an incomplete (but
// possibly still valid) multi-byte sequence. Invalid bytes count as complete: they
// can never become valid, so holding them back would stall a stream forever.
size_t complete_prefix(std::string_view s);

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points
// above U+10FFFF).
bool is_valid(std::string_view s);

// `s` with every ill-formed sequence replaced by U+FFFD, as Python's
// bytes.decode("utf-8", errors="replace") does (one U+FFFD per maximal subpart).
std::string sanitize(std::string_view s);

// The code point at s[i] of well-formed UTF-8 and its length in bytes (`*len`); for an
// ill-formed byte, U+FFFD with length 1.
uint32_t decode_at(std::string_view s, size_t i, size_t* len);

// The offset where the character ending at s[end] (exclusive) starts, for well-formed UTF-8.
size_t previous_boundary(std::string_view s, size_t end);

// Appends the UTF-8 encoding of code point `cp` (which must be <= U+10FFFF).
void append(std::string& out, uint32_t cp);

}  // namespace minke::utf8
