// The playbook's step types (issue "procedures"): one type per file, each a ScriptStep
// (engine/steps/script_step.h) unless it needs more. AddPlaybookSteps puts them all in the one
// table of step types (engine/step_type.h DefaultStepTypes, STYLE.md 4).
//
// Names, params and facts of every type are listed in docs/step-types.md.
#pragma once

#include <memory>

#include "engine/step_type.h"

namespace rollgate {

// Readiness (§2.3) and host state.
std::unique_ptr<StepType> MakeReachableStep();  // "reachable"
std::unique_ptr<StepType> MakePlaceFileStep();  // "place-file"

// Verification and hook steps.
std::unique_ptr<StepType> MakeSmokeTestStep();   // "smoke-test"
std::unique_ptr<StepType> MakeLogScanStep();     // "log-scan"
std::unique_ptr<StepType> MakeRegressionStep();  // "regression"
std::unique_ptr<StepType> MakeMetricsStep();     // "metrics"
std::unique_ptr<StepType> MakeHookStep();        // "hook"

// Backups, database and restore steps.
std::unique_ptr<StepType> MakeBackupFilesStep();      // "backup-files"
std::unique_ptr<StepType> MakeBackupPostgresStep();   // "backup-postgres"
std::unique_ptr<StepType> MakePostgresMigrateStep();  // "postgres-migrate"
std::unique_ptr<StepType> MakeDataIntegrityStep();    // "data-integrity"
std::unique_ptr<StepType> MakeRestoreFilesStep();     // "restore-files"
std::unique_ptr<StepType> MakeRestorePostgresStep();  // "restore-postgres"
std::unique_ptr<StepType> MakeSchemaVersionStep();    // "schema-version"
// Backups known to restore (§2.4 step 3): restored into scratch copies, checked, timed.
std::unique_ptr<StepType> MakeVerifyBackupPostgresStep();  // "verify-backup-postgres"
std::unique_ptr<StepType> MakeVerifyBackupFilesStep();     // "verify-backup-files"

// Host, service and package steps.
std::unique_ptr<StepType> MakeDiskSpaceStep();      // "disk-space"
std::unique_ptr<StepType> MakeTcpCheckStep();       // "tcp-check"
std::unique_ptr<StepType> MakeHttpCheckStep();      // "http-check"
std::unique_ptr<StepType> MakeServiceStep();        // "service"
std::unique_ptr<StepType> MakeExtractSwitchStep();  // "extract-switch"

// Measurements after a deployment (the rollback triggers of §6.1).
std::unique_ptr<StepType> MakeObserveStep();  // "observe"

// Adds every step type declared here to `table`.
void AddPlaybookSteps(StepTypeTable& table);

}  // namespace rollgate
