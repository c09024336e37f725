#include "config/starter.h"

namespace rollgate {

std::string StarterConfigYaml() { return "version: 1\n"; }

}  // namespace rollgate
