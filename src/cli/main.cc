#include "cli/app.h"

int main(int argc, char** argv) { return rollgate::cli::Main(argc, argv); }
