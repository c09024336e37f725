#include "engine/steps/steps.h"

namespace rollgate {

void AddPlaybookSteps(StepTypeTable& table) {
  // Distinct names by construction: Add cannot fail here.
  (void)table.Add(MakeReachableStep());
  // Host, service and package steps.
  (void)table.Add(MakeDiskSpaceStep());
  (void)table.Add(MakeTcpCheckStep());
  (void)table.Add(MakeHttpCheckStep());
  (void)table.Add(MakeServiceStep());
  (void)table.Add(MakeExtractSwitchStep());
}

}  // namespace rollgate
