#include "engine/steps/steps.h"

namespace rollgate {

void AddPlaybookSteps(StepTypeTable& table) {
  // Distinct names by construction: Add cannot fail here.
  (void)table.Add(MakeReachableStep());
  (void)table.Add(MakePlaceFileStep());
}

}  // namespace rollgate
