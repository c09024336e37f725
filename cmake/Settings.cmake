# One settings target (STYLE.md 12): warnings, sanitizers and fuzzing options for our own code.
add_library(rollgate_settings INTERFACE)
target_compile_features(rollgate_settings INTERFACE cxx_std_20)
target_compile_options(rollgate_settings INTERFACE -Wall -Wextra -Werror -Wno-missing-field-initializers)
target_include_directories(rollgate_settings INTERFACE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})

option(ROLLGATE_SANITIZE "Build with address and undefined-behaviour sanitizers" OFF)
if(ROLLGATE_SANITIZE)
  target_compile_options(rollgate_settings INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                                     -fno-sanitize-recover=undefined)
  target_link_options(rollgate_settings INTERFACE -fsanitize=address,undefined)
endif()

option(ROLLGATE_FUZZ "Build libFuzzer targets (needs clang)" OFF)
if(ROLLGATE_FUZZ)
  # Instrument all of our code, so the fuzzers learn from the parsers they call.
  target_compile_options(rollgate_settings INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                                                     -fno-omit-frame-pointer)
  target_link_options(rollgate_settings INTERFACE -fsanitize=address,undefined)
endif()

# `unit_tests` builds exactly what `ctest -L unit` runs, so the sanitizer stage of
# scripts/test.sh builds no end-to-end tests, benchmarks or lab tools it would not run.
add_custom_target(unit_tests)

# Adds a GoogleTest executable registered with CTest; with label unit, also to `unit_tests`.
#   rollgate_test(NAME name SOURCES a_test.cc ... LIBS lib ... [LABELS label ...])
function(rollgate_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} rollgate_settings GTest::gtest_main GTest::gmock)
  gtest_discover_tests(${T_NAME} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${T_LABELS}")
  if("unit" IN_LIST T_LABELS)
    add_dependencies(unit_tests ${T_NAME})
  endif()
endfunction()
