#include "matcher/search.h"

#include <algorithm>

#include "matcher/matcher.h"

namespace rrto {

namespace {

// See TemplateReport::before_boundary; `boundaries`: which ops were.
uint64_t copies_before(const Template& t, std::span<const Op> ops, const std::vector<bool>& boundaries) {
  const uint64_t length = t.length();
  uint64_t copies = 0;
  for (uint64_t end = t.boundary(); end >= length && !boundaries[end - length]; end -= length, ++copies) {
    for (uint32_t i = 0; i < length; ++i)
      if (ops[end - length + i].structural_sig != t.op(i).structural_sig) return copies;
  }
  return copies;
}

void fill_from(const Template& t, TemplateReport& r) {
  r.occurrences = t.occurrences();
  r.broken = t.times_broken();
  r.variables.clear();
  for (const VariableArg& v : t.variables()) {
    const Template::Entry& e = t.op(v.position);
    r.variables.push_back({v, e.kind, e.kernel});
  }
}

}  // namespace

SearchResult search(std::span<const Op> ops, const MatcherConfig& config) {
  Matcher matcher(config);
  SearchResult result;
  result.ops = ops.size();
  std::vector<bool> boundaries(ops.size());
  for (const Op& op : ops) {
    const MatchEvent ev = matcher.feed(op);
    boundaries[matcher.ops_fed() - 1] = matcher.fed_boundary();
    switch (ev.kind) {
      case MatchEventKind::None: break;
      case MatchEventKind::Matched: ++result.matched_ops; break;
      case MatchEventKind::Broken: ++result.broken_events; break;
      case MatchEventKind::Confirmed: {
        // The confirming occurrences were matched too, just not known yet.
        const Template* t = matcher.find_template(ev.tmpl);
        TemplateReport r;
        r.id = ev.tmpl;
        r.length = t->length();
        r.boundary = t->boundary();
        r.confirmed_at = ev.op_index;
        r.ops_consumed = ev.op_index + 1;
        r.confirming = t->occurrences();
        r.before_boundary = copies_before(*t, ops, boundaries);
        result.matched_ops += uint64_t{t->length()} * t->occurrences();
        fill_from(*t, r);  // refreshed at the end unless it was evicted by then
        result.templates.push_back(std::move(r));
        break;
      }
    }
  }
  for (TemplateReport& r : result.templates) {
    if (const Template* t = matcher.find_template(r.id)) fill_from(*t, r);
  }

  result.prefix_length = ops.size();
  uint64_t best_cover = 0;
  for (const TemplateReport& r : result.templates) {
    result.prefix_length = std::min(result.prefix_length, r.boundary);
    const uint64_t cover = r.occurrences * r.length;
    if (cover > best_cover) {
      best_cover = cover;
      result.iteration = r.id;
      result.iteration_length = r.length;
      result.boundary = r.boundary;
    }
  }
  return result;
}

}  // namespace rrto
