#include "engine/steps/junit.h"

#include <fmt/format.h>

#include <charconv>
#include <pugixml.hpp>

#include "common/strings.h"

namespace rollgate {

namespace {

bool IsElement(const pugi::xml_node& node, std::string_view name) {
  return node.type() == pugi::node_element && std::string_view(node.name()) == name;
}

std::string SuiteName(const pugi::xml_node& suite) {
  const char* name = suite.attribute("name").value();
  return *name == '\0' ? std::string("(unnamed)") : EscapeForDisplay(name);
}

// The whole-number attribute `name` of `suite`; 0 when absent.
Result<int64_t> Count(const pugi::xml_node& suite, const char* name) {
  pugi::xml_attribute attribute = suite.attribute(name);
  if (!attribute) return int64_t{0};
  std::string_view text = Trim(attribute.value());
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 0) {
    return InvalidArgument(fmt::format("testsuite {}: attribute {}='{}' is not a whole number",
                                       SuiteName(suite), name,
                                       EscapeForDisplay(attribute.value())));
  }
  return value;
}

void AddCase(const pugi::xml_node& testcase, bool count, JUnitSummary& summary) {
  bool failure = static_cast<bool>(testcase.child("failure"));
  bool error = static_cast<bool>(testcase.child("error"));
  bool skipped = static_cast<bool>(testcase.child("skipped"));
  if (count) {
    ++summary.tests;
    if (error) {
      ++summary.errors;
    } else if (failure) {
      ++summary.failures;
    } else if (skipped) {
      ++summary.skipped;
    }
  }
  if (failure || error) {
    std::string classname = testcase.attribute("classname").value();
    std::string name = testcase.attribute("name").value();
    summary.failed_cases.push_back(classname.empty() ? name : classname + "." + name);
  }
}

Result<JUnitSummary> ParseSuite(const pugi::xml_node& suite, int depth) {
  if (depth > 64) return InvalidArgument("testsuite elements nested more than 64 deep");
  JUnitSummary summary;
  bool nested = false;
  for (const pugi::xml_node& child : suite.children()) {
    if (IsElement(child, "testsuite")) nested = true;
  }
  bool use_attributes = !nested && static_cast<bool>(suite.attribute("tests"));
  for (const pugi::xml_node& child : suite.children()) {
    if (IsElement(child, "testsuite")) {
      ASSIGN_OR_RETURN(JUnitSummary inner, ParseSuite(child, depth + 1));
      summary.Add(inner);
    } else if (IsElement(child, "testcase")) {
      AddCase(child, !use_attributes, summary);
    }
  }
  if (use_attributes) {
    ASSIGN_OR_RETURN(summary.tests, Count(suite, "tests"));
    ASSIGN_OR_RETURN(summary.failures, Count(suite, "failures"));
    ASSIGN_OR_RETURN(summary.errors, Count(suite, "errors"));
    // "skip" is nose's spelling.
    const char* skipped_name =
        suite.attribute("skipped") || !suite.attribute("skip") ? "skipped" : "skip";
    ASSIGN_OR_RETURN(summary.skipped, Count(suite, skipped_name));
    if (summary.failures + summary.errors + summary.skipped > summary.tests) {
      return InvalidArgument(fmt::format(
          "testsuite {}: failures ({}) + errors ({}) + skipped ({}) exceed tests ({})",
          SuiteName(suite), summary.failures, summary.errors, summary.skipped, summary.tests));
    }
  }
  return summary;
}

}  // namespace

void JUnitSummary::Add(const JUnitSummary& other) {
  tests += other.tests;
  failures += other.failures;
  errors += other.errors;
  skipped += other.skipped;
  failed_cases.insert(failed_cases.end(), other.failed_cases.begin(), other.failed_cases.end());
}

double JUnitSummary::PassRate() const {
  int64_t ran = tests - skipped;
  if (ran <= 0) return 0;
  int64_t passed = ran - failures - errors;
  if (passed < 0) passed = 0;
  return static_cast<double>(passed) * 100.0 / static_cast<double>(ran);
}

Result<JUnitSummary> ParseJUnit(std::string_view xml) {
  pugi::xml_document document;
  // parse_default without DTD handling: no external entities, no entity expansion.
  pugi::xml_parse_result parsed =
      document.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_auto);
  if (!parsed) {
    return InvalidArgument(
        fmt::format("malformed XML at byte {}: {}", parsed.offset, parsed.description()));
  }
  pugi::xml_node root = document.document_element();
  if (!root) return InvalidArgument("malformed XML: no root element");
  std::string_view root_name = root.name();
  if (root_name == "testsuite") return ParseSuite(root, 0);
  if (root_name != "testsuites") {
    return InvalidArgument(fmt::format("root element is <{}>, expected <testsuites> or <testsuite>",
                                       EscapeForDisplay(root_name)));
  }
  JUnitSummary summary;
  for (const pugi::xml_node& child : root.children()) {
    if (!IsElement(child, "testsuite")) continue;
    ASSIGN_OR_RETURN(JUnitSummary suite, ParseSuite(child, 0));
    summary.Add(suite);
  }
  return summary;
}

}  // namespace rollgate
