#include "engine/steps/steps.h"

namespace rollgate {

void AddPlaybookSteps(StepTypeTable& table) {
  // Distinct names by construction: Add cannot fail here.
  (void)table.Add(MakeReachableStep());
  // Backups, database and restore steps.
  (void)table.Add(MakeBackupFilesStep());
  (void)table.Add(MakeRestoreFilesStep());
}

}  // namespace rollgate
