// The demo's story: the commands `rollgate demo` runs, with the exit code each must give.
// Pure: times are computed from `now` and the starter configuration's calendar, so the story
// holds on any date (lead times, windows and freezes included).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/time.h"

namespace rollgate::cli {

struct DemoStep {
  std::string chapter;    // a heading printed before the step, when non-empty
  std::string narration;  // what the step shows, in the playbook's words
  std::vector<std::string> args;
  int expected_exit = 0;
};

struct DemoStory {
  std::map<std::string, std::string> files;  // written into the workspace first
  std::vector<DemoStep> steps;
  std::string cr_id;
};

// `lab`: the lab directory whose patches the story deploys (its hosts are the system "demo").
DemoStory BuildGovernanceStory(Timestamp now, const TimeZone& zone,
                               const std::filesystem::path& workspace,
                               const std::filesystem::path& lab);

}  // namespace rollgate::cli
