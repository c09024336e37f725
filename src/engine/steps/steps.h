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

// Host, service and package steps.
std::unique_ptr<StepType> MakeDiskSpaceStep();      // "disk-space"
std::unique_ptr<StepType> MakeTcpCheckStep();       // "tcp-check"
std::unique_ptr<StepType> MakeHttpCheckStep();      // "http-check"
std::unique_ptr<StepType> MakeServiceStep();        // "service"
std::unique_ptr<StepType> MakeExtractSwitchStep();  // "extract-switch"

// Adds every step type declared here to `table`.
void AddPlaybookSteps(StepTypeTable& table);

}  // namespace rollgate
