// What feeding one op to the matcher tells the caller.
#pragma once

#include <cstdint>

#include "matcher/template.h"

namespace rrto {

enum class MatchEventKind : uint8_t {
  None,       // the op is not part of a known template occurrence
  Confirmed,  // this op completed the repeat that confirmed template `tmpl`
  Matched,    // the op is position `position` of template `tmpl`
  Broken,     // the op differs from what template `tmpl` expected at `position`
};

const char* match_event_name(MatchEventKind kind);

struct MatchEvent {
  MatchEventKind kind = MatchEventKind::None;
  TemplateId tmpl = kNoTemplate;
  // Confirmed / Matched: the op's index in the template. Broken: the index
  // the template expected next; equal to its length when an occurrence had
  // ended and the op started no new one.
  uint32_t position = 0;
  uint64_t op_index = 0;  // the op's index in the stream (ops fed before it)
  // Confirmed / Matched: this op is the last of an occurrence.
  bool iteration_end = false;
  // Matched: the op's full signature differs from the template's reference.
  bool args_changed = false;
  // Matched: bytes outside the known variable arguments changed; they are
  // variable from now on (the template's variables() grew).
  bool widened = false;
};

}  // namespace rrto
