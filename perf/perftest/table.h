// ucx_perftest's output: a box describing the test, then a table with one
// row per second and a "Final:" row. rrto-perftest adds the 99th percentile
// column after the chosen percentile; everything else is placed as
// ucx_perftest places it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "perf/perftest/measurement.h"

namespace rrto::perf {

class TablePrinter {
 public:
  // `final_only`: -f, one header for all runs and a named row per run.
  TablePrinter(bool final_only, bool bandwidth, double rank);

  // Key-value lines ("Test", "Mode", ...) in a box; nothing with -f.
  void box(const std::vector<std::pair<std::string, std::string>>& lines);
  // The column headings: before each run, once in all with -f.
  void header();
  void progress(const Summary& interval);
  void final_row(const std::string& run_name, const Summary& total);
  // A named row before a run's Final: row (a --clients run's clients);
  // nothing with -f.
  void named_row(const std::string& label, const Summary& s);
  // In place of the rows of a run that could not run.
  void unavailable(const std::string& run_name, const std::string& reason);
  // A line of counts under a run's rows; nothing with -f.
  void note(const std::string& text);

 private:
  void row(const std::string& label, const Summary& s);

  bool final_only_;
  bool bandwidth_;
  double rank_;
  bool header_printed_ = false;
};

}  // namespace rrto::perf
