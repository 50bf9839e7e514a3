#include "perf/perftest/table.h"

#include <cstdio>

#include <fmt/format.h>

namespace rrto::perf {
namespace {

// Widths of ucx_perftest's columns, with a 99th-percentile column added.
constexpr int kTableWidth = 119;
constexpr const char* kRule =
    "+--------------+--------------+----------+----------+---------+---------+----------+----------+-----------+"
    "-----------+";

std::string centred(const std::string& text, size_t width) {
  if (text.size() >= width) return text;
  const size_t left = (width - text.size()) / 2;
  return std::string(left, ' ') + text + std::string(width - text.size() - left, ' ');
}

}  // namespace

TablePrinter::TablePrinter(bool final_only, bool bandwidth, double rank)
    : final_only_(final_only), bandwidth_(bandwidth), rank_(rank) {}

void TablePrinter::box(const std::vector<std::pair<std::string, std::string>>& lines) {
  if (final_only_) return;
  const std::string border = "+" + std::string(kTableWidth - 2, '-') + "+";
  fmt::print("{}\n", border);
  const size_t value_width = kTableWidth - 4 - 14;
  for (const auto& [key, value] : lines) {
    std::string rest = value;
    std::string label = key + ":";
    do {
      std::string chunk = rest.substr(0, value_width);
      rest = rest.size() > value_width ? rest.substr(value_width) : std::string();
      fmt::print("| {:<14}{:<{}} |\n", label, chunk, value_width);
      label.clear();
    } while (!rest.empty());
  }
  std::fflush(stdout);
}

void TablePrinter::header() {
  if (final_only_ && header_printed_) return;
  header_printed_ = true;
  const std::string latency = centred(bandwidth_ ? "overhead (usec)" : "latency (usec)", 41);
  fmt::print("+--------------+--------------+-----------------------------------------+---------------------+"
             "-----------------------+\n");
  fmt::print("|              |              |{}|   bandwidth (MB/s)  |  message rate (msg/s) |\n", latency);
  fmt::print("{}\n", kRule);
  fmt::print("|{}| # iterations | {:4.1f}%ile | 99.0%ile | average | overall |  average |  overall |  average  |  "
             "overall  |\n",
             final_only_ ? "     Test     " : "    Stage     ", rank_);
  fmt::print("{}\n", kRule);
  std::fflush(stdout);
}

void TablePrinter::row(const std::string& label, const Summary& s) {
  fmt::print("{:<14}{:14.0f} {:10.3f} {:10.3f} {:9.3f} {:9.3f} {:11.2f} {:10.2f} {:11.0f} {:11.0f}\n", label,
             static_cast<double>(s.iterations), s.percentile_us, s.p99_us, s.average_us, s.overall_us,
             s.bandwidth_average, s.bandwidth_overall, s.rate_average, s.rate_overall);
  std::fflush(stdout);
}

void TablePrinter::progress(const Summary& interval) {
  if (!final_only_) row("[thread 0]", interval);
}

void TablePrinter::final_row(const std::string& run_name, const Summary& total) {
  row(final_only_ ? run_name : "Final:", total);
}

void TablePrinter::named_row(const std::string& label, const Summary& s) {
  if (!final_only_) row(label, s);
}

void TablePrinter::unavailable(const std::string& run_name, const std::string& reason) {
  fmt::print("{:<14}{:>14} {}\n", final_only_ ? run_name : "Final:", "-", "not available: " + reason);
  std::fflush(stdout);
}

void TablePrinter::note(const std::string& text) {
  if (final_only_) return;
  fmt::print("{}\n", text);
  std::fflush(stdout);
}

}  // namespace rrto::perf
