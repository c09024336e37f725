// The rollgate command line: parses arguments, runs one command, returns the process exit code.
#pragma once

namespace rollgate::cli {

// Exit codes (INTERFACE.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNotFound = 3;
inline constexpr int kExitRefused = 4;
inline constexpr int kExitRolledBack = 5;

int Main(int argc, char** argv);

}  // namespace rollgate::cli
