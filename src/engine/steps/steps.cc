#include "engine/steps/steps.h"

namespace rollgate {

void AddPlaybookSteps(StepTypeTable& table) {
  // Distinct names by construction: Add cannot fail here.
  (void)table.Add(MakeReachableStep());
  (void)table.Add(MakePlaceFileStep());

  // Verification and hook steps.
  (void)table.Add(MakeSmokeTestStep());
  (void)table.Add(MakeLogScanStep());
  (void)table.Add(MakeRegressionStep());
  (void)table.Add(MakeMetricsStep());
  (void)table.Add(MakeHookStep());

  // Backups, database and restore steps.
  (void)table.Add(MakeBackupFilesStep());
  (void)table.Add(MakeBackupPostgresStep());
  (void)table.Add(MakePostgresMigrateStep());
  (void)table.Add(MakeDataIntegrityStep());
  (void)table.Add(MakeRestoreFilesStep());
  (void)table.Add(MakeRestorePostgresStep());
  (void)table.Add(MakeSchemaVersionStep());
  (void)table.Add(MakeVerifyBackupPostgresStep());
  (void)table.Add(MakeVerifyBackupFilesStep());

  // Host, service and package steps.
  (void)table.Add(MakeDiskSpaceStep());
  (void)table.Add(MakeTcpCheckStep());
  (void)table.Add(MakeHttpCheckStep());
  (void)table.Add(MakeServiceStep());
  (void)table.Add(MakeExtractSwitchStep());

  // Measurements after a deployment (the rollback triggers of §6.1).
  (void)table.Add(MakeObserveStep());
}

}  // namespace rollgate
