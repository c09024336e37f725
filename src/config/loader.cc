#include "config/loader.h"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include "common/strings.h"
#include "config/defaults.h"
#include "config/validation.h"
#include "domain/alerts.h"
#include "domain/message_templates.h"
#include "domain/triggers.h"

namespace rollgate {
namespace {

// Collections visited (alias expansions included) before a document is refused as too large;
// this bounds the work an alias bomb can cause.
constexpr size_t kMaxConfigNodes = 200000;

struct Position {
  int line = 0;
  int column = 0;
};

Position PositionOf(const YAML::Node& node) {
  YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

std::string Quote(std::string_view value) { return "'" + DisplayValue(value) + "'"; }

// How a node looks, for "must be X, got Y".
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return Quote(node.Scalar());
    default:
      return "nothing";
  }
}

std::string Suggestion(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best = DidYouMean(word, candidates);
  return best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best);
}

// A scalar read from the file together with where it was.
struct Item {
  std::string value;
  Position position;
};

// A name that must resolve to something defined elsewhere; checked once everything is read.
enum class ReferenceKind {
  kRole,
  kEnvironment,
  kPerson,
  kChannel,
  kRecipient,          // contact group, role or person
  kEscalationContact,  // contact, person or role
};

struct Reference {
  ReferenceKind kind;
  std::string name;
  Position position;
  std::string note;  // appended to the message, e.g. why a default refers to it
};

// One entry of a `triggers:` map: only what the file says; applied over the policy it changes.
struct TriggerOverride {
  TriggerKind kind = TriggerKind::kHealth;
  std::optional<TriggerAction> action;
  std::optional<Seconds> deadline;
  std::optional<DecisionDefault> on_deadline;

  TriggerPolicy ApplyTo(TriggerPolicy policy) const {
    policy.kind = kind;
    if (action) policy.action = *action;
    if (deadline) policy.decision_deadline = *deadline;
    if (on_deadline) policy.on_deadline = *on_deadline;
    return policy;
  }
};

// Records where each YAML document starts; nothing else.
class DocumentStarts : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  std::vector<YAML::Mark> marks;
};

// Reads one document into a Config, recording every problem.
class Loader {
 public:
  Loader(std::string file, const TimeZone& zone) : file_(std::move(file)), zone_(zone) {}

  std::vector<ConfigError> TakeErrors() { return std::move(errors_); }

  // Everything for one text: byte checks, YAML, structure, values, references.
  std::optional<Config> Load(std::string_view text);

 private:
  // --- errors
  void Error(Position position, std::string message) {
    errors_.push_back({file_, position.line, position.column, std::move(message)});
  }
  void Error(const YAML::Node& at, std::string message) {
    Error(PositionOf(at), std::move(message));
  }

  // --- raw text and YAML structure
  bool CheckBytes(std::string_view text);
  bool CheckShape(const YAML::Node& node, int depth, size_t& visited);

  // --- generic readers. Each records an error and returns nullopt/false when the value is bad.
  // Checks that `map` is a mapping whose keys are plain scalars from `allowed`, without
  // duplicates; unknown keys are reported with a did-you-mean. False when `map` is not a mapping.
  bool CheckKeys(const YAML::Node& map, std::string_view what,
                 const std::vector<std::string>& allowed);
  // The value for `key` in a mapping already checked by CheckKeys, if present.
  std::optional<YAML::Node> Find(const YAML::Node& map, std::string_view key);
  // The key and value for `key`, if present.
  std::optional<std::pair<YAML::Node, YAML::Node>> FindField(const YAML::Node& map,
                                                             std::string_view key);
  // Where to report a problem with `map[key]`: the value, or the key when the value is empty,
  // or the mapping when the key is absent.
  Position PositionIn(const YAML::Node& map, std::string_view key);
  bool IsMapOrNull(const YAML::Node& node, std::string_view key);
  // The scalar value of `map[key]`; nullopt (and an error) when it is not a single value, or
  // silently when the key is absent. A key without a value is reported at the key.
  std::optional<Item> ReadScalar(const YAML::Node& map, std::string_view key);
  std::optional<Item> ReadString(const YAML::Node& map, std::string_view key, bool required,
                                 size_t max_bytes = 1024);
  std::optional<int64_t> ReadInteger(const YAML::Node& map, std::string_view key, int64_t min,
                                     int64_t max);
  std::optional<bool> ReadBool(const YAML::Node& map, std::string_view key);
  std::optional<Seconds> ReadDuration(const YAML::Node& map, std::string_view key, bool allow_zero);
  std::optional<double> ReadPercent(const YAML::Node& map, std::string_view key);
  std::optional<LeadTime> ReadLeadTime(const YAML::Node& map, std::string_view key);
  // A list of scalars; null counts as an empty list. The first form reads `map[key]` (nullopt
  // when absent), the second the node itself, `key` naming it in messages.
  std::optional<std::vector<Item>> ReadStringList(const YAML::Node& map, std::string_view key);
  std::optional<std::vector<Item>> ScalarList(const YAML::Node& node, std::string_view key);
  // A list of mappings; null counts as empty. Calls `each` for every mapping element.
  bool ForEachMap(const YAML::Node& map, std::string_view key,
                  const std::function<void(const YAML::Node&)>& each);
  // Name-checked identifiers: every element validated with ValidateIdentifier.
  std::optional<std::vector<Item>> ReadIdentifierList(const YAML::Node& map, std::string_view key,
                                                      std::string_view what);
  std::optional<Item> ReadIdentifier(const YAML::Node& map, std::string_view key,
                                     std::string_view what, bool required);
  std::optional<Timestamp> ReadTime(const YAML::Node& map, std::string_view key);
  void ReadPath(const YAML::Node& map, std::string_view key, std::string& out);
  void ReadCommand(const YAML::Node& map, std::string_view key, std::string& out);

  // Records a duplicate-name error unless `name` is new in `seen`.
  void CheckUnique(std::map<std::string, Position>& seen, const Item& name, std::string_view what);
  void AddReference(ReferenceKind kind, const Item& item, std::string note = "");
  void AddReferences(ReferenceKind kind, const std::vector<std::string>& names, Position position,
                     const std::string& note);

  // --- sections
  void ReadVersion(const YAML::Node& root);
  void ReadIdentity(const YAML::Node& node, Config& config);
  void ReadPolicy(const YAML::Node& node, Config& config);
  void ReadPackages(const YAML::Node& node, Config& config);
  void ReadWeekly(const YAML::Node& node, std::vector<std::chrono::weekday>& days,
                  Seconds& start_time, Seconds& end_time);
  void ReadServer(const YAML::Node& node, Config& config);
  void ReadRoles(const YAML::Node& root, Config& config);
  void ReadCalendar(const YAML::Node& node, Config& config);
  void ReadWindow(const YAML::Node& node, Config& config);
  void ReadFreeze(const YAML::Node& node, Config& config);
  void ReadRecurringFreeze(const YAML::Node& node, Freeze& freeze);
  void ReadOncall(const YAML::Node& node, Config& config);
  void ReadExecution(const YAML::Node& node, Config& config);
  void ReadEnvironments(const YAML::Node& root, Config& config);
  void ReadEnvironment(const YAML::Node& node, Config& config);
  void ReadApproval(const YAML::Node& node, Environment& env);
  void ReadThresholds(const YAML::Node& node, Thresholds& thresholds);
  // A `triggers:` mapping of kind -> action or {action, deadline, default}; `path` names it in
  // messages ("triggers", "triggers.PROD").
  std::vector<TriggerOverride> ReadTriggers(const YAML::Node& node, const std::string& path);
  // Every environment's policies: the playbook's defaults, then the file's `triggers:`.
  void FillTriggerPolicies(Config& config);
  void ReadSystemTriggers(const YAML::Node& node, const Config& config, System& system);
  void ReadMetrics(const YAML::Node& node, System& system);
  void ReadAlertmanager(const YAML::Node& node, System& system);
  void ReadNotification(const YAML::Node& node, std::string_view key, NotificationRule& rule,
                        Position fallback, const std::string& default_note);
  void ReadPeople(const YAML::Node& root, Config& config);
  void ReadSystems(const YAML::Node& root, Config& config);
  void ReadSystem(const YAML::Node& node, Config& config);
  void ReadDatabase(const YAML::Node& node, std::string& url, std::string& password);
  void ReadContacts(const YAML::Node& root, Config& config);
  void ReadGroups(const YAML::Node& root, Config& config);
  void ReadEscalation(const YAML::Node& root, Config& config);
  void ReadChannels(const YAML::Node& root, Config& config);
  void ReadEmergency(const YAML::Node& root, Config& config);
  void ReadNotificationDelivery(const YAML::Node& node, Config& config);
  void ReadTemplates(const YAML::Node& node, Config& config);

  // --- checks across sections
  void CheckQuorums(const Config& config);
  void ResolveReferences(const Config& config);

  std::string file_;
  const TimeZone& zone_;
  std::vector<ConfigError> errors_;
  std::vector<Reference> references_;
  Position root_position_{1, 1};
  // Where each environment's quorum was written (or its entry, when defaulted), by name.
  std::map<std::string, Position> quorum_positions_;
  std::map<std::string, Position> unix_users_;
  // Environments whose quorum value was invalid (already reported).
  std::set<std::string> bad_quorums_;
  // Each environment's `triggers:` as written, applied once every environment is known.
  std::map<std::string, std::vector<TriggerOverride>> environment_triggers_;
};

// ---------------------------------------------------------------------------------------------
// Raw text and structure

bool Loader::CheckBytes(std::string_view text) {
  int line = 1;
  int column = 1;
  size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    size_t length = 1;
    if (c >= 0x80) {
      length = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
      if (length == 0 || i + length > text.size() || !IsValidUtf8(text.substr(i, length))) {
        Error(Position{line, column},
              fmt::format("the file is not valid UTF-8 (byte 0x{:02x})", c));
        return false;
      }
    } else if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7F) {
      Error(Position{line, column},
            fmt::format("control character 0x{:02x} is not allowed in the file", c));
      return false;
    }
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    i += length;
  }
  return true;
}

bool Loader::CheckShape(const YAML::Node& node, int depth, size_t& visited) {
  if (++visited > kMaxConfigNodes) {
    Error(node, fmt::format("the document is too large: more than {} values (aliases included)",
                            kMaxConfigNodes));
    return false;
  }
  if (!node.IsMap() && !node.IsSequence()) return true;
  if (depth > kMaxConfigDepth) {
    Error(node, fmt::format("nesting deeper than {} levels", kMaxConfigDepth));
    return false;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (node.IsMap()) {
      if (!CheckShape(it->first, depth + 1, visited)) return false;
      if (!CheckShape(it->second, depth + 1, visited)) return false;
    } else if (!CheckShape(*it, depth + 1, visited)) {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Generic readers

bool Loader::CheckKeys(const YAML::Node& map, std::string_view what,
                       const std::vector<std::string>& allowed) {
  if (!map.IsMap()) {
    Error(map, fmt::format("{} must be a mapping, got {}", what, Describe(map)));
    return false;
  }
  std::map<std::string, Position> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;  // a copy: it-> is a proxy that dies here
    if (!key.IsScalar()) {
      Error(key, fmt::format("keys in {} must be plain names, got {}", what, Describe(key)));
      continue;
    }
    const std::string& name = key.Scalar();
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string hint = Suggestion(name, allowed);
      if (hint.empty()) hint = fmt::format(" (expected one of: {})", Join(allowed, ", "));
      Error(key, fmt::format("unknown key {} in {}{}", Quote(name), what, hint));
      continue;
    }
    auto [previous, inserted] = seen.emplace(name, PositionOf(key));
    if (!inserted) {
      Error(key, fmt::format("duplicate key {} (first at {}:{})", Quote(name),
                             previous->second.line, previous->second.column));
    }
  }
  return true;
}

std::optional<std::pair<YAML::Node, YAML::Node>> Loader::FindField(const YAML::Node& map,
                                                                   std::string_view key) {
  if (!map.IsMap()) return std::nullopt;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) {
      return std::pair(it->first, it->second);
    }
  }
  return std::nullopt;
}

std::optional<YAML::Node> Loader::Find(const YAML::Node& map, std::string_view key) {
  auto field = FindField(map, key);
  if (!field) return std::nullopt;
  return field->second;
}

Position Loader::PositionIn(const YAML::Node& map, std::string_view key) {
  auto field = FindField(map, key);
  if (!field) return PositionOf(map);
  return field->second.IsNull() ? PositionOf(field->first) : PositionOf(field->second);
}

bool Loader::IsMapOrNull(const YAML::Node& node, std::string_view key) {
  if (node.IsMap() || node.IsNull()) return true;
  Error(node, fmt::format("'{}' must be a mapping, got {}", key, Describe(node)));
  return false;
}

std::optional<Item> Loader::ReadScalar(const YAML::Node& map, std::string_view key) {
  auto field = FindField(map, key);
  if (!field) return std::nullopt;
  const YAML::Node& node = field->second;
  if (node.IsScalar()) return Item{node.Scalar(), PositionOf(node)};
  if (node.IsNull()) {
    Error(field->first, fmt::format("'{}' has no value", key));
  } else {
    Error(node, fmt::format("'{}' must be a single value, got {}", key, Describe(node)));
  }
  return std::nullopt;
}

std::optional<Item> Loader::ReadString(const YAML::Node& map, std::string_view key, bool required,
                                       size_t max_bytes) {
  auto node = Find(map, key);
  if (!node) {
    if (required) Error(map, fmt::format("missing required key '{}'", key));
    return std::nullopt;
  }
  auto item = ReadScalar(map, key);
  if (!item) return std::nullopt;
  Status status = ValidateText(item->value, max_bytes);
  if (!status.ok()) {
    Error(item->position, fmt::format("'{}': {}", key, status.message()));
    return std::nullopt;
  }
  return item;
}

std::optional<int64_t> Loader::ReadInteger(const YAML::Node& map, std::string_view key, int64_t min,
                                           int64_t max) {
  auto node = Find(map, key);
  if (!node) return std::nullopt;
  auto item = ReadScalar(map, key);
  if (!item) return std::nullopt;
  std::string_view text = item->value;
  int64_t value = 0;
  bool digits = !text.empty() && text.size() <= 18 &&
                std::all_of(text.begin() + (text.front() == '-' ? 1 : 0), text.end(),
                            [](char c) { return c >= '0' && c <= '9'; }) &&
                text != "-";
  if (digits) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    digits = ec == std::errc() && ptr == text.data() + text.size();
  }
  if (!digits) {
    Error(item->position, fmt::format("'{}' must be an integer, got {}", key, Quote(text)));
    return std::nullopt;
  }
  if (value < min || value > max) {
    Error(item->position,
          fmt::format("'{}' must be from {} to {}, got {}", key, min, max, Quote(text)));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> Loader::ReadBool(const YAML::Node& map, std::string_view key) {
  auto node = Find(map, key);
  if (!node) return std::nullopt;
  auto item = ReadScalar(map, key);
  if (!item) return std::nullopt;
  std::string lowered = ToLower(item->value);
  if (lowered == "true" || lowered == "yes") return true;
  if (lowered == "false" || lowered == "no") return false;
  Error(item->position, fmt::format("'{}' must be true or false, got {}", key, Quote(item->value)));
  return std::nullopt;
}

std::optional<Seconds> Loader::ReadDuration(const YAML::Node& map, std::string_view key,
                                            bool allow_zero) {
  auto node = Find(map, key);
  if (!node) return std::nullopt;
  auto item = ReadScalar(map, key);
  if (!item) return std::nullopt;
  auto duration = allow_zero ? ParseResponseTime(item->value) : ParseDuration(item->value);
  if (!duration.ok()) {
    Error(item->position,
          fmt::format("'{}' must be a duration such as 15m, 24h, 4h30m or 2d{}, got {}", key,
                      allow_zero ? " (or immediate)" : "", Quote(item->value)));
    return std::nullopt;
  }
  return *duration;
}

std::optional<double> Loader::ReadPercent(const YAML::Node& map, std::string_view key) {
  auto node = Find(map, key);
  if (!node) return std::nullopt;
  auto item = ReadScalar(map, key);
  if (!item) return std::nullopt;
  auto percent = ParsePercent(item->value);
  if (!percent.ok()) {
    Error(item->position,
          fmt::format("'{}' must be a percentage from 0 to 100, got {}", key, Quote(item->value)));
    return std::nullopt;
  }
  return *percent;
}

std::optional<LeadTime> Loader::ReadLeadTime(const YAML::Node& map, std::string_view key) {
  auto node = Find(map, key);
  if (!node) return std::nullopt;
  auto item = ReadScalar(map, key);
  if (!item) return std::nullopt;
  auto lead_time = ParseLeadTime(item->value);
  if (!lead_time.ok()) {
    Error(item->position, fmt::format("'{}': {}", key, lead_time.error().message()));
    return std::nullopt;
  }
  return *lead_time;
}

std::optional<std::vector<Item>> Loader::ReadStringList(const YAML::Node& map,
                                                        std::string_view key) {
  auto node = Find(map, key);
  if (!node) return std::nullopt;
  return ScalarList(*node, key);
}

std::optional<std::vector<Item>> Loader::ScalarList(const YAML::Node& node, std::string_view key) {
  std::vector<Item> items;
  if (node.IsNull()) return items;
  if (!node.IsSequence()) {
    Error(node, fmt::format("'{}' must be a list, got {}", key, Describe(node)));
    return std::nullopt;
  }
  bool ok = true;
  for (const YAML::Node& element : node) {
    if (!element.IsScalar()) {
      Error(element, fmt::format("each entry of '{}' must be a single value, got {}", key,
                                 Describe(element)));
      ok = false;
      continue;
    }
    items.push_back({element.Scalar(), PositionOf(element)});
  }
  if (!ok) return std::nullopt;
  return items;
}

bool Loader::ForEachMap(const YAML::Node& map, std::string_view key,
                        const std::function<void(const YAML::Node&)>& each) {
  auto node = Find(map, key);
  if (!node) return false;
  if (node->IsNull()) return true;
  if (!node->IsSequence()) {
    Error(*node, fmt::format("'{}' must be a list, got {}", key, Describe(*node)));
    return true;
  }
  for (const YAML::Node& element : *node) {
    if (!element.IsMap()) {
      Error(element,
            fmt::format("each entry of '{}' must be a mapping, got {}", key, Describe(element)));
      continue;
    }
    each(element);
  }
  return true;
}

std::optional<std::vector<Item>> Loader::ReadIdentifierList(const YAML::Node& map,
                                                            std::string_view key,
                                                            std::string_view what) {
  auto items = ReadStringList(map, key);
  if (!items) return std::nullopt;
  bool ok = true;
  for (const Item& item : *items) {
    Status status = ValidateIdentifier(item.value, what);
    if (!status.ok()) {
      Error(item.position, status.message());
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return items;
}

std::optional<Item> Loader::ReadIdentifier(const YAML::Node& map, std::string_view key,
                                           std::string_view what, bool required) {
  auto node = Find(map, key);
  if (!node) {
    if (required) Error(map, fmt::format("missing required key '{}'", key));
    return std::nullopt;
  }
  auto item = ReadScalar(map, key);
  if (!item) return std::nullopt;
  Status status = ValidateIdentifier(item->value, what);
  if (!status.ok()) {
    Error(item->position, status.message());
    return std::nullopt;
  }
  return item;
}

std::optional<Timestamp> Loader::ReadTime(const YAML::Node& map, std::string_view key) {
  auto node = Find(map, key);
  if (!node) return std::nullopt;
  auto item = ReadScalar(map, key);
  if (!item) return std::nullopt;
  auto time = ParseTime(item->value, zone_);
  if (!time.ok()) {
    Error(item->position,
          fmt::format("'{}' must be a time such as 2026-12-24T18:00:00Z or '2026-12-24 18:00' "
                      "(local), got {}",
                      key, Quote(item->value)));
    return std::nullopt;
  }
  return *time;
}

void Loader::ReadPath(const YAML::Node& map, std::string_view key, std::string& out) {
  auto item = ReadString(map, key, false, 4096);
  if (!item) return;
  Status status = ValidateAbsolutePath(item->value);
  if (!status.ok()) {
    Error(item->position, fmt::format("'{}': {}", key, status.message()));
  } else if (item->value.find_first_not_of('/') == std::string::npos) {
    Error(item->position, fmt::format("'{}' must not be the root directory", key));
  } else {
    out = item->value;
  }
}

void Loader::ReadCommand(const YAML::Node& map, std::string_view key, std::string& out) {
  auto item = ReadString(map, key, false, 4096);
  if (!item) return;
  if (Trim(item->value).empty()) {
    Error(item->position, fmt::format("'{}' is empty", key));
    return;
  }
  out = item->value;
}

void Loader::CheckUnique(std::map<std::string, Position>& seen, const Item& name,
                         std::string_view what) {
  auto [previous, inserted] = seen.emplace(name.value, name.position);
  if (!inserted) {
    Error(name.position,
          fmt::format("duplicate {} {} (first defined at {}:{})", what, Quote(name.value),
                      previous->second.line, previous->second.column));
  }
}

void Loader::AddReference(ReferenceKind kind, const Item& item, std::string note) {
  references_.push_back({kind, item.value, item.position, std::move(note)});
}

void Loader::AddReferences(ReferenceKind kind, const std::vector<std::string>& names,
                           Position position, const std::string& note) {
  for (const std::string& name : names) references_.push_back({kind, name, position, note});
}

// ---------------------------------------------------------------------------------------------
// Top level

std::optional<Config> Loader::Load(std::string_view text) {
  if (text.size() > kMaxConfigBytes) {
    Error(Position{},
          fmt::format("the file is larger than {} bytes ({} bytes)", kMaxConfigBytes, text.size()));
    return std::nullopt;
  }
  if (!CheckBytes(text)) return std::nullopt;

  // Parse events first: that reports syntax errors and finds a second document without
  // YAML::LoadAll, which loops forever on some invalid inputs in yaml-cpp 0.7 (e.g. `"a", "b"`).
  std::string copy(text);
  YAML::Node root;
  try {
    std::istringstream stream(copy);
    YAML::Parser parser(stream);
    DocumentStarts starts;
    bool any = parser.HandleNextDocument(starts);
    if (any && parser.HandleNextDocument(starts) && starts.marks.size() > 1) {
      const YAML::Mark& mark = starts.marks[1];
      bool separator = mark.pos >= 0 && copy.compare(static_cast<size_t>(mark.pos), 3, "---") == 0;
      Error(Position{mark.line + 1, mark.column + 1},
            separator ? "only one YAML document is allowed in the configuration"
                      : "unexpected text after the end of the YAML document");
      return std::nullopt;
    }
    root = YAML::Load(copy);
  } catch (const YAML::Exception& e) {
    Position position;
    if (!e.mark.is_null()) position = {e.mark.line + 1, e.mark.column + 1};
    Error(position, fmt::format("YAML syntax error: {}", EscapeForDisplay(e.msg)));
    return std::nullopt;
  }
  if (root.IsNull()) {
    Error(Position{1, 1},
          "the configuration is empty: expected a mapping starting with "
          "'version: 1'");
    return std::nullopt;
  }
  size_t visited = 0;
  if (!CheckShape(root, 1, visited)) return std::nullopt;
  if (!CheckKeys(root, "the configuration",
                 {"version", "identity", "policy", "calendar", "roles", "environments", "people",
                  "systems", "contacts", "groups", "escalation", "channels", "emergency",
                  "packages", "server", "oncall", "notifications", "templates", "execution"})) {
    return std::nullopt;
  }
  root_position_ = PositionOf(root);
  if (root_position_.line == 0) root_position_ = {1, 1};

  Config config = DefaultConfig();
  ReadVersion(root);
  if (auto node = Find(root, "identity")) ReadIdentity(*node, config);
  if (auto node = Find(root, "policy")) ReadPolicy(*node, config);
  if (auto node = Find(root, "packages")) ReadPackages(*node, config);
  if (auto node = Find(root, "server")) ReadServer(*node, config);
  if (auto node = Find(root, "execution")) ReadExecution(*node, config);
  ReadRoles(root, config);
  if (auto node = Find(root, "calendar")) ReadCalendar(*node, config);
  ReadEnvironments(root, config);
  FillTriggerPolicies(config);
  ReadPeople(root, config);
  ReadSystems(root, config);
  ReadContacts(root, config);
  ReadGroups(root, config);
  ReadEscalation(root, config);
  ReadChannels(root, config);
  ReadEmergency(root, config);
  if (auto node = Find(root, "oncall")) ReadOncall(*node, config);
  if (auto node = Find(root, "notifications")) ReadNotificationDelivery(*node, config);
  if (auto node = Find(root, "templates")) ReadTemplates(*node, config);
  CheckQuorums(config);
  ResolveReferences(config);
  if (!errors_.empty()) return std::nullopt;
  return config;
}

void Loader::ReadVersion(const YAML::Node& root) {
  if (!Find(root, "version")) {
    Error(root, "missing required key 'version' (write 'version: 1')");
    return;
  }
  auto version = ReadInteger(root, "version", 1, 1000000);
  if (version && *version != 1) {
    Error(PositionIn(root, "version"),
          fmt::format("unsupported configuration version {} (this Rollgate reads version 1)",
                      *version));
  }
}

void Loader::ReadIdentity(const YAML::Node& node, Config& config) {
  if (!IsMapOrNull(node, "identity") || node.IsNull()) return;
  if (!CheckKeys(node, "'identity'", {"allow_as"})) return;
  if (auto allow_as = ReadBool(node, "allow_as")) config.allow_as = *allow_as;
}

void Loader::ReadPolicy(const YAML::Node& node, Config& config) {
  if (!IsMapOrNull(node, "policy") || node.IsNull()) return;
  if (!CheckKeys(node, "'policy'",
                 {"separation_of_duties", "required_attachments_p1_p2",
                  "review_within_business_days", "review_closer_roles"})) {
    return;
  }
  if (auto separation = ReadBool(node, "separation_of_duties")) {
    config.separation_of_duties = *separation;
  }
  if (auto kinds = ReadIdentifierList(node, "required_attachments_p1_p2", "attachment kind")) {
    config.required_attachments_p1_p2.clear();
    for (const Item& kind : *kinds) config.required_attachments_p1_p2.push_back(kind.value);
  }
  if (auto days = ReadInteger(node, "review_within_business_days", 1, 60)) {
    config.review_within_business_days = static_cast<int>(*days);
  }
  if (auto roles = ReadStringList(node, "review_closer_roles")) {
    if (roles->empty()) {
      Error(PositionIn(node, "review_closer_roles"),
            "'review_closer_roles' must name at least one role");
    }
    config.review_closer_roles.clear();
    for (const Item& role : *roles) {
      AddReference(ReferenceKind::kRole, role);
      config.review_closer_roles.push_back(role.value);
    }
  }
}

void Loader::ReadPackages(const YAML::Node& node, Config& config) {
  if (!IsMapOrNull(node, "packages") || node.IsNull()) return;
  if (!CheckKeys(node, "'packages'",
                 {"trusted_keys", "require_signature", "max_size_mib", "allow_plain_http"})) {
    return;
  }
  if (auto keys = ReadStringList(node, "trusted_keys")) {
    for (const Item& key : *keys) {
      // A minisign public key: base64 of 42 bytes ("Ed" + 8-byte id + 32-byte key), "RW...".
      bool base64 =
          key.value.size() == 56 && key.value.compare(0, 2, "RW") == 0 &&
          std::all_of(key.value.begin(), key.value.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=';
          });
      if (!base64) {
        Error(key.position,
              "a trusted key must be a minisign public key: the 56-character base64 line "
              "starting with 'RW' from the .pub file");
        continue;
      }
      config.packages.trusted_keys.push_back(key.value);
    }
  }
  if (auto require = ReadBool(node, "require_signature")) {
    config.packages.require_signature = *require;
  }
  if (auto mib = ReadInteger(node, "max_size_mib", 1, int64_t{1024} * 1024)) {
    config.packages.max_bytes = *mib * 1024 * 1024;
  }
  if (auto plain = ReadBool(node, "allow_plain_http")) config.packages.allow_plain_http = *plain;
  if (config.packages.require_signature && config.packages.trusted_keys.empty()) {
    Error(node, "'packages.require_signature' is on but no 'trusted_keys' are listed");
  }
}

void Loader::ReadServer(const YAML::Node& node, Config& config) {
  if (!IsMapOrNull(node, "server") || node.IsNull()) return;
  if (!CheckKeys(node, "'server'",
                 {"listen", "tls_cert", "tls_key", "max_body_kib", "max_connections", "workers",
                  "read_timeout", "write_timeout", "idle_timeout", "max_page_size",
                  "token_admin_roles", "read_only_roles"})) {
    return;
  }
  ServerSettings& server = config.server;
  if (auto listen = ReadString(node, "listen", false)) {
    // HOST:PORT with a numeric port; [v6]:PORT for IPv6.
    size_t colon = listen->value.rfind(':');
    bool ok = colon != std::string::npos && colon > 0 && colon + 1 < listen->value.size() &&
              listen->value.size() - colon - 1 <= 5 &&
              std::all_of(listen->value.begin() + static_cast<std::ptrdiff_t>(colon) + 1,
                          listen->value.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
              std::stoi(listen->value.substr(colon + 1)) <= 65535;
    if (!ok) {
      Error(listen->position, fmt::format("'server.listen' must be HOST:PORT such as "
                                          "127.0.0.1:8420, got {}",
                                          Quote(listen->value)));
    } else {
      server.listen = listen->value;
    }
  }
  if (auto cert = ReadString(node, "tls_cert", false)) server.tls_cert = cert->value;
  if (auto key = ReadString(node, "tls_key", false)) server.tls_key = key->value;
  if (server.tls_cert.empty() != server.tls_key.empty()) {
    Error(node, "'server.tls_cert' and 'server.tls_key' go together: give both or neither");
  }
  if (auto kib = ReadInteger(node, "max_body_kib", 1, int64_t{1024} * 1024)) {
    server.max_body_bytes = *kib * 1024;
  }
  if (auto connections = ReadInteger(node, "max_connections", 1, 4096)) {
    server.max_connections = static_cast<int>(*connections);
  }
  if (auto workers = ReadInteger(node, "workers", 0, 256)) {
    server.workers = static_cast<int>(*workers);
  }
  if (auto t = ReadDuration(node, "read_timeout", false)) server.read_timeout = *t;
  if (auto t = ReadDuration(node, "write_timeout", false)) server.write_timeout = *t;
  if (auto t = ReadDuration(node, "idle_timeout", false)) server.idle_timeout = *t;
  if (auto size = ReadInteger(node, "max_page_size", 1, 100000)) {
    server.max_page_size = static_cast<int>(*size);
  }
  auto read_roles = [&](const char* key, std::vector<std::string>& roles) {
    if (auto list = ReadStringList(node, key)) {
      roles.clear();
      for (const Item& role : *list) {
        AddReference(ReferenceKind::kRole, role);
        roles.push_back(role.value);
      }
    }
  };
  read_roles("token_admin_roles", server.token_admin_roles);
  read_roles("read_only_roles", server.read_only_roles);
}

void Loader::ReadRoles(const YAML::Node& root, Config& config) {
  auto roles = ReadIdentifierList(root, "roles", "role");
  if (!roles) return;
  std::map<std::string, Position> seen;
  std::vector<std::string> built_in = BuiltInRoles();
  for (const Item& role : *roles) {
    if (std::find(built_in.begin(), built_in.end(), role.value) != built_in.end()) {
      Error(role.position,
            fmt::format("role {} is built in; list only your own roles here", Quote(role.value)));
      continue;
    }
    CheckUnique(seen, role, "role");
    if (std::find(config.roles.begin(), config.roles.end(), role.value) == config.roles.end()) {
      config.roles.push_back(role.value);
    }
  }
}

void Loader::ReadExecution(const YAML::Node& node, Config& config) {
  if (!IsMapOrNull(node, "execution") || node.IsNull()) return;
  if (!CheckKeys(node, "'execution'", {"command_nice"})) return;
  if (auto nice = ReadInteger(node, "command_nice", 0, 19)) {
    config.command_nice = static_cast<int>(*nice);
  }
}

// ---------------------------------------------------------------------------------------------
// Calendar

void Loader::ReadCalendar(const YAML::Node& node, Config& config) {
  if (!IsMapOrNull(node, "calendar") || node.IsNull()) return;
  if (!CheckKeys(node, "'calendar'",
                 {"weekend", "holidays", "windows", "freezes", "default_duration",
                  "freeze_override_roles"})) {
    return;
  }
  if (auto duration = ReadDuration(node, "default_duration", false)) {
    config.calendar_default_duration = *duration;
  }
  if (auto roles = ReadStringList(node, "freeze_override_roles")) {
    if (roles->empty()) {
      Error(PositionIn(node, "freeze_override_roles"),
            "'freeze_override_roles' must name at least one role");
    }
    config.freeze_override_roles.clear();
    for (const Item& role : *roles) {
      AddReference(ReferenceKind::kRole, role);
      config.freeze_override_roles.push_back(role.value);
    }
  }
  if (auto days = ReadStringList(node, "weekend")) {
    config.weekend.clear();
    for (const Item& day : *days) {
      auto weekday = ParseWeekday(day.value);
      if (!weekday.ok()) {
        Error(day.position, weekday.error().message());
      } else if (std::find(config.weekend.begin(), config.weekend.end(), *weekday) !=
                 config.weekend.end()) {
        Error(day.position, fmt::format("duplicate weekday {}", Quote(day.value)));
      } else {
        config.weekend.push_back(*weekday);
      }
    }
    if (config.weekend.size() == 7) {
      Error(PositionIn(node, "weekend"),
            "'weekend' cannot be every day: no business day would remain");
    }
  }
  if (auto dates = ReadStringList(node, "holidays")) {
    std::map<std::string, Position> seen;
    for (const Item& date : *dates) {
      auto parsed = ParseDate(date.value);
      if (!parsed.ok()) {
        Error(date.position,
              fmt::format("'holidays' entries must be dates such as 2026-12-25, got {}",
                          Quote(date.value)));
        continue;
      }
      CheckUnique(seen, Item{FormatDate(*parsed), date.position}, "holiday");
      config.holidays.push_back(*parsed);
    }
  }
  ForEachMap(node, "windows", [&](const YAML::Node& window) { ReadWindow(window, config); });
  ForEachMap(node, "freezes", [&](const YAML::Node& freeze) { ReadFreeze(freeze, config); });
}

void Loader::ReadWindow(const YAML::Node& node, Config& config) {
  if (!CheckKeys(node, "a maintenance window",
                 {"name", "environments", "days", "start", "end", "from", "until"})) {
    return;
  }
  MaintenanceWindow window;
  if (auto name = ReadString(node, "name", true, 200)) window.name = name->value;
  if (auto environments = ReadStringList(node, "environments")) {
    for (const Item& env : *environments) {
      AddReference(ReferenceKind::kEnvironment, env);
      window.environments.push_back(env.value);
    }
  }
  bool recurring = Find(node, "days") || Find(node, "start") || Find(node, "end");
  bool one_off = Find(node, "from") || Find(node, "until");
  if (recurring && one_off) {
    Error(node,
          "a maintenance window is either weekly (days, start, end) or one-off (from, "
          "until), not both");
    return;
  }
  if (!recurring && !one_off) {
    Error(node,
          "a maintenance window needs either days, start and end (weekly) or from and "
          "until (one-off)");
    return;
  }
  if (recurring) {
    ReadWeekly(node, window.days, window.start_time, window.end_time);
  } else {
    for (const char* key : {"from", "until"}) {
      if (!Find(node, key)) Error(node, fmt::format("missing required key '{}'", key));
    }
    window.from = ReadTime(node, "from");
    window.until = ReadTime(node, "until");
    if (window.from && window.until && *window.until <= *window.from) {
      Error(PositionIn(node, "until"), "'until' must be after 'from'");
    }
  }
  config.windows.push_back(std::move(window));
}

// A weekly recurrence (maintenance windows, weekly freezes): `days`, local `start` and `end`
// times, an `end` at or before `start` running past midnight; each problem named where it is.
void Loader::ReadWeekly(const YAML::Node& node, std::vector<std::chrono::weekday>& days,
                        Seconds& start_time, Seconds& end_time) {
  for (const char* key : {"days", "start", "end"}) {
    if (!Find(node, key)) Error(node, fmt::format("missing required key '{}'", key));
  }
  if (auto listed = ReadStringList(node, "days")) {
    if (listed->empty()) Error(PositionIn(node, "days"), "'days' must name at least one weekday");
    for (const Item& day : *listed) {
      auto weekday = ParseWeekday(day.value);
      if (!weekday.ok()) {
        Error(day.position, weekday.error().message());
      } else if (std::find(days.begin(), days.end(), *weekday) != days.end()) {
        Error(day.position, fmt::format("duplicate weekday {}", Quote(day.value)));
      } else {
        days.push_back(*weekday);
      }
    }
  }
  std::optional<Seconds> start, end;
  for (const char* key : {"start", "end"}) {
    auto item = ReadString(node, key, false, 16);
    if (!item) continue;
    auto time = ParseTimeOfDay(item->value);
    if (!time.ok()) {
      Error(item->position, fmt::format("'{}' must be a time of day such as 22:00, got {}", key,
                                        Quote(item->value)));
      continue;
    }
    (std::string_view(key) == "start" ? start : end) = *time;
  }
  if (start && end) {
    if (*start == *end) {
      Error(PositionIn(node, "end"),
            "'end' must differ from 'start' (use 00:00 to 24:00 for a whole day)");
    }
    start_time = *start;
    end_time = *end;
  }
}

void Loader::ReadFreeze(const YAML::Node& node, Config& config) {
  if (!CheckKeys(
          node, "a freeze",
          {"name", "environments", "from", "until", "reason", "yearly", "days", "start", "end"})) {
    return;
  }
  Freeze freeze;
  if (auto name = ReadString(node, "name", true, 200)) freeze.name = name->value;
  if (auto environments = ReadStringList(node, "environments")) {
    for (const Item& env : *environments) {
      AddReference(ReferenceKind::kEnvironment, env);
      freeze.environments.push_back(env.value);
    }
  }
  if (auto reason = ReadString(node, "reason", false, 1000)) freeze.reason = reason->value;
  bool yearly = Find(node, "yearly").has_value();
  bool weekly = Find(node, "days") || Find(node, "start") || Find(node, "end");
  bool once = Find(node, "from") || Find(node, "until");
  if (int(yearly) + int(weekly) + int(once) > 1) {
    Error(node,
          "a freeze is either one-off (from, until), yearly (yearly: {from: MM-DD, until: "
          "MM-DD}) or weekly (days, start, end), not several of them");
    return;
  }
  if (yearly || weekly) {
    ReadRecurringFreeze(node, freeze);
    config.freezes.push_back(std::move(freeze));
    return;
  }
  for (const char* key : {"from", "until"}) {
    if (!Find(node, key)) Error(node, fmt::format("missing required key '{}'", key));
  }
  auto from = ReadTime(node, "from");
  auto until = ReadTime(node, "until");
  if (from) freeze.from = *from;
  if (until) freeze.until = *until;
  if (from && until && *until <= *from)
    Error(PositionIn(node, "until"), "'until' must be after 'from'");
  config.freezes.push_back(std::move(freeze));
}

// A month and day "12-15" (Feb 29 allowed: in a common year it falls on Mar 1).
static std::optional<std::chrono::month_day> ParseMonthDay(std::string_view text) {
  if (text.size() != 5 || text[2] != '-') return std::nullopt;
  for (size_t i : {0u, 1u, 3u, 4u}) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  }
  unsigned month = static_cast<unsigned>((text[0] - '0') * 10 + (text[1] - '0'));
  unsigned day = static_cast<unsigned>((text[3] - '0') * 10 + (text[4] - '0'));
  std::chrono::month_day md{std::chrono::month{month}, std::chrono::day{day}};
  if (!md.ok()) return std::nullopt;
  return md;
}

void Loader::ReadRecurringFreeze(const YAML::Node& node, Freeze& freeze) {
  if (auto yearly = Find(node, "yearly")) {
    freeze.recurrence = Freeze::Recurrence::kYearly;
    if (!IsMapOrNull(*yearly, "yearly") || yearly->IsNull() ||
        !CheckKeys(*yearly, "'yearly'", {"from", "until"})) {
      if (yearly->IsNull()) Error(*yearly, "'yearly' needs from and until (MM-DD)");
      return;
    }
    for (const char* key : {"from", "until"}) {
      if (!Find(*yearly, key)) {
        Error(*yearly, fmt::format("missing required key '{}'", key));
        continue;
      }
      auto item = ReadString(*yearly, key, true, 16);
      if (!item) continue;
      auto md = ParseMonthDay(item->value);
      if (!md) {
        Error(item->position, fmt::format("'{}' must be a month and day such as 12-15, got {}", key,
                                          Quote(item->value)));
        continue;
      }
      (std::string_view(key) == "from" ? freeze.yearly_from : freeze.yearly_until) = *md;
    }
    return;
  }
  freeze.recurrence = Freeze::Recurrence::kWeekly;
  ReadWeekly(node, freeze.days, freeze.start_time, freeze.end_time);
}

void Loader::ReadOncall(const YAML::Node& node, Config& config) {
  if (!IsMapOrNull(node, "oncall") || node.IsNull()) return;
  if (!CheckKeys(node, "'oncall'", {"channels"})) return;
  if (auto channels = ReadStringList(node, "channels")) {
    config.page_channels.clear();
    for (const Item& channel : *channels) {
      AddReference(ReferenceKind::kChannel, channel);
      config.page_channels.push_back(channel.value);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Environments

void Loader::ReadEnvironments(const YAML::Node& root, Config& config) {
  auto node = Find(root, "environments");
  if (!node) {
    // The playbook's three environments; their references must resolve against the file's
    // people, groups and channels like any other.
    for (const Environment& env : config.environments) {
      std::string note = fmt::format(" (the playbook's default for {})", env.name);
      AddReferences(ReferenceKind::kRole, env.approval.approver_roles, root_position_, note);
      for (const auto& signoff : env.signoffs) {
        AddReferences(ReferenceKind::kRole, signoff.roles, root_position_, note);
      }
      AddReferences(ReferenceKind::kRole, env.rollback_approver_roles, root_position_, note);
      AddReferences(ReferenceKind::kRecipient, env.notification.notify, root_position_, note);
      AddReferences(ReferenceKind::kChannel, env.notification.channels, root_position_, note);
      quorum_positions_[env.name] = root_position_;
    }
    return;
  }
  config.environments.clear();
  if (node->IsNull() || (node->IsSequence() && node->size() == 0)) {
    Error(PositionIn(root, "environments"),
          "'environments' must list at least one environment (or be left out for the "
          "playbook's DEV, TEST and PROD)");
    return;
  }
  if (!node->IsSequence()) {
    Error(*node, fmt::format("'environments' must be a list, got {}", Describe(*node)));
    return;
  }
  ForEachMap(root, "environments", [&](const YAML::Node& env) { ReadEnvironment(env, config); });
  std::map<std::string, Position> seen;
  for (auto it = node->begin(); it != node->end(); ++it) {
    if (!it->IsMap()) continue;
    auto name = Find(*it, "name");
    if (name && name->IsScalar())
      CheckUnique(seen, {name->Scalar(), PositionOf(*name)}, "environment");
  }
}

void Loader::ReadEnvironment(const YAML::Node& node, Config& config) {
  if (!CheckKeys(node, "an environment",
                 {"name", "approval", "signoffs", "rollback_approvers", "thresholds", "notify",
                  "requires_maintenance_window", "requires_rollback_tested", "rolling", "batch",
                  "allow_emergency_skip", "triggers", "backup_verification"})) {
    return;
  }
  auto name = ReadIdentifier(node, "name", "environment", true);
  if (!name) return;
  Environment env = DefaultEnvironment(name->value);
  env.order = static_cast<int>(config.environments.size());
  Position here = PositionOf(node);
  std::string note =
      fmt::format(" (the playbook's default for {}; set it in this environment)", name->value);

  auto approval = Find(node, "approval");
  if (approval) {
    if (IsMapOrNull(*approval, "approval") && approval->IsMap()) ReadApproval(*approval, env);
  }
  if (!approval || !approval->IsMap() || !Find(*approval, "roles")) {
    AddReferences(ReferenceKind::kRole, env.approval.approver_roles, here, note);
  }
  if (!approval || !approval->IsMap() || !Find(*approval, "quorum")) {
    quorum_positions_[env.name] = here;
  }
  if (env.approval.approver_roles.empty()) {
    Error(approval && approval->IsMap() && Find(*approval, "roles") ? *Find(*approval, "roles")
                                                                    : node,
          fmt::format("environment {} has no approver role: set 'approval: {{roles: [...]}}'",
                      Quote(env.name)));
  }

  if (Find(node, "signoffs")) {
    env.signoffs.clear();
    std::map<std::string, Position> kinds;
    ForEachMap(node, "signoffs", [&](const YAML::Node& signoff) {
      if (!CheckKeys(signoff, "a sign-off", {"kind", "roles"})) return;
      SignoffRequirement requirement;
      auto kind = ReadIdentifier(signoff, "kind", "sign-off kind", true);
      if (kind) {
        CheckUnique(kinds, *kind, "sign-off kind");
        requirement.kind = kind->value;
      }
      if (!Find(signoff, "roles")) Error(signoff, "missing required key 'roles'");
      if (auto roles = ReadStringList(signoff, "roles")) {
        if (roles->empty())
          Error(PositionIn(signoff, "roles"), "'roles' must name at least one role");
        for (const Item& role : *roles) {
          AddReference(ReferenceKind::kRole, role);
          requirement.roles.push_back(role.value);
        }
      }
      env.signoffs.push_back(std::move(requirement));
    });
  } else {
    for (const auto& signoff : env.signoffs) {
      AddReferences(ReferenceKind::kRole, signoff.roles, here, note);
    }
  }

  if (auto roles = ReadStringList(node, "rollback_approvers")) {
    env.rollback_approver_roles.clear();
    for (const Item& role : *roles) {
      AddReference(ReferenceKind::kRole, role);
      env.rollback_approver_roles.push_back(role.value);
    }
  } else if (!Find(node, "rollback_approvers")) {
    AddReferences(ReferenceKind::kRole, env.rollback_approver_roles, here, note);
  }

  if (auto thresholds = Find(node, "thresholds")) {
    if (IsMapOrNull(*thresholds, "thresholds") && thresholds->IsMap()) {
      ReadThresholds(*thresholds, env.thresholds);
    }
  }
  ReadNotification(node, "notify", env.notification, here, note);
  if (auto triggers = Find(node, "triggers")) {
    environment_triggers_[env.name] = ReadTriggers(*triggers, "triggers");
  }

  if (auto value = ReadBool(node, "requires_maintenance_window")) {
    env.requires_maintenance_window = *value;
  }
  if (auto value = ReadBool(node, "requires_rollback_tested")) {
    env.requires_rollback_tested = *value;
  }
  if (auto value = ReadBool(node, "rolling")) env.rolling = *value;
  if (auto value = ReadBool(node, "allow_emergency_skip")) env.allow_emergency_skip = *value;
  if (auto mode = ReadString(node, "backup_verification", false, 16)) {
    if (auto parsed = ParseBackupVerification(mode->value)) {
      env.backup_verification = *parsed;
    } else {
      Error(mode->position,
            fmt::format("'backup_verification' must be required, optional or off, got {}{}",
                        Quote(mode->value),
                        Suggestion(mode->value, {"required", "optional", "off"})));
    }
  }
  if (auto batch = ReadString(node, "batch", false, 16)) {
    Status status = ValidateBatch(batch->value);
    if (!status.ok()) {
      Error(batch->position, status.message());
    } else {
      env.batch = batch->value;
    }
  }
  config.environments.push_back(std::move(env));
}

void Loader::ReadApproval(const YAML::Node& node, Environment& env) {
  if (!CheckKeys(
          node, "'approval'",
          {"roles", "quorum", "lead_time", "emergency_lead_time", "verbal_confirmation_within"})) {
    return;
  }
  if (auto roles = ReadStringList(node, "roles")) {
    env.approval.approver_roles.clear();
    for (const Item& role : *roles) {
      AddReference(ReferenceKind::kRole, role);
      env.approval.approver_roles.push_back(role.value);
    }
  }
  if (auto quorum_node = Find(node, "quorum")) {
    quorum_positions_[env.name] = PositionOf(*quorum_node);
    if (auto quorum = ReadInteger(node, "quorum", 1, 100)) {
      env.approval.quorum = static_cast<int>(*quorum);
    } else {
      bad_quorums_.insert(env.name);
    }
  }
  if (auto lead_time = ReadLeadTime(node, "lead_time")) env.approval.lead_time = *lead_time;
  if (auto lead_time = ReadLeadTime(node, "emergency_lead_time")) {
    env.approval.emergency_lead_time = *lead_time;
  }
  if (auto within = ReadDuration(node, "verbal_confirmation_within", false)) {
    env.approval.verbal_confirmation_within = *within;
  }
}

void Loader::ReadThresholds(const YAML::Node& node, Thresholds& thresholds) {
  const std::vector<std::pair<std::string, double Thresholds::*>> percents = {
      {"smoke_pass_rate_percent", &Thresholds::smoke_pass_rate_percent},
      {"regression_pass_rate_percent", &Thresholds::regression_pass_rate_percent},
      {"min_free_disk_percent", &Thresholds::min_free_disk_percent},
      {"min_availability_percent", &Thresholds::min_availability_percent},
      {"max_users_affected_percent", &Thresholds::max_users_affected_percent},
      {"max_performance_degradation_percent", &Thresholds::max_performance_degradation_percent},
  };
  const std::vector<std::pair<std::string, Seconds Thresholds::*>> durations = {
      {"max_rollback_duration", &Thresholds::max_rollback_duration},
      {"enhanced_monitoring", &Thresholds::enhanced_monitoring},
      {"log_check_after", &Thresholds::log_check_after},
      {"availability_window", &Thresholds::availability_window},
      {"watch_interval", &Thresholds::watch_interval},
      {"emergency_checkins_for", &Thresholds::emergency_checkins_for},
  };
  std::vector<std::string> keys = {"rollback_security_cvss", "observe_window", "transient_retries",
                                   "diagnostics_timeout"};
  for (const auto& [key, member] : percents) keys.push_back(key);
  for (const auto& [key, member] : durations) keys.push_back(key);
  if (!CheckKeys(node, "'thresholds'", keys)) return;
  for (const auto& [key, member] : percents) {
    if (auto value = ReadPercent(node, key)) thresholds.*member = *value;
  }
  for (const auto& [key, member] : durations) {
    if (auto value = ReadDuration(node, key, false)) thresholds.*member = *value;
  }
  if (auto retries = ReadInteger(node, "transient_retries", 0, 10)) {
    thresholds.transient_retries = static_cast<int>(*retries);
  }
  if (auto value = ReadDuration(node, "diagnostics_timeout", false)) {
    if (*value > std::chrono::minutes(10)) {
      Error(*Find(node, "diagnostics_timeout"),
            "'thresholds.diagnostics_timeout' must be at most 10m");
    } else {
      thresholds.diagnostics_timeout = *value;
    }
  }
  // 0 turns the observation at the end of a deployment off.
  if (auto value = ReadDuration(node, "observe_window", true)) {
    if (*value > std::chrono::hours(24)) {
      Error(*Find(node, "observe_window"), "'thresholds.observe_window' must be at most 24h");
    } else {
      thresholds.observe_window = *value;
    }
  }
  if (auto node_cvss = Find(node, "rollback_security_cvss")) {
    auto item = ReadScalar(node, "rollback_security_cvss");
    if (item) {
      double value = 0;
      std::string_view text = item->value;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() ||
          !std::isfinite(value) || value < 0 || value > 10 || text.front() == '-') {
        Error(item->position,
              fmt::format("'rollback_security_cvss' must be a CVSS score from 0.0 to 10.0, got {}",
                          Quote(text)));
      } else {
        thresholds.rollback_security_cvss = value;
      }
    }
  }
}

std::vector<TriggerOverride> Loader::ReadTriggers(const YAML::Node& node, const std::string& path) {
  std::vector<TriggerOverride> out;
  if (node.IsNull()) return out;
  if (!node.IsMap()) {
    Error(node,
          fmt::format("'{}' must be a mapping of trigger to action, got {}", path, Describe(node)));
    return out;
  }
  std::vector<std::string> kinds;
  for (TriggerKind kind : AllTriggerKinds()) kinds.emplace_back(TriggerKindName(kind));
  if (!CheckKeys(node, fmt::format("'{}'", path), kinds)) return out;
  auto action_of = [&](const Item& item, const std::string& where) -> std::optional<TriggerAction> {
    auto action = ParseTriggerAction(item.value);
    if (!action.ok()) {
      Error(item.position, fmt::format("'{}' must be rollback, evaluate or off, got {}{}", where,
                                       Quote(item.value),
                                       Suggestion(item.value, {"rollback", "evaluate", "off"})));
      return std::nullopt;
    }
    return *action;
  };
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    if (!key.IsScalar()) continue;  // reported by CheckKeys
    auto kind = ParseTriggerKind(key.Scalar());
    if (!kind.ok()) continue;  // reported by CheckKeys
    std::string where = fmt::format("{}.{}", path, key.Scalar());
    TriggerOverride entry;
    entry.kind = *kind;
    if (value.IsScalar()) {
      entry.action = action_of({value.Scalar(), PositionOf(value)}, where);
      if (!entry.action) continue;
    } else if (value.IsMap()) {
      if (!CheckKeys(value, fmt::format("'{}'", where), {"action", "deadline", "default"})) {
        continue;
      }
      auto action = ReadScalar(value, "action");
      if (!Find(value, "action")) {
        Error(value, fmt::format("'{}' needs an 'action': rollback, evaluate or off", where));
        continue;
      }
      if (!action) continue;
      entry.action = action_of(*action, where + ".action");
      if (!entry.action) continue;
      if (auto deadline = ReadScalar(value, "deadline")) {
        auto duration = ParseDuration(deadline->value);
        if (!duration.ok()) {
          Error(deadline->position,
                fmt::format("'{}.deadline' must be a duration such as 15m, 1h or 1h30m, got {}",
                            where, Quote(deadline->value)));
        } else {
          entry.deadline = *duration;
        }
      }
      if (auto decision = ReadScalar(value, "default")) {
        auto parsed = ParseDecisionDefault(decision->value);
        if (!parsed.ok()) {
          Error(decision->position,
                fmt::format("'{}.default' must be rollback or continue, got {}{}", where,
                            Quote(decision->value),
                            Suggestion(decision->value, {"rollback", "continue"})));
        } else {
          entry.on_deadline = *parsed;
        }
      }
      if (*entry.action != TriggerAction::kEvaluate) {
        for (const char* extra : {"deadline", "default"}) {
          if (Find(value, extra)) {
            Error(PositionIn(value, extra),
                  fmt::format("'{}.{}' applies only to action: evaluate (the action is {})", where,
                              extra, TriggerActionName(*entry.action)));
          }
        }
      }
    } else {
      Error(value.IsNull() ? key : value,
            fmt::format("'{}' must be an action (rollback, evaluate, off) or a mapping "
                        "{{action, deadline, default}}, got {}",
                        where, Describe(value)));
      continue;
    }
    out.push_back(entry);
  }
  return out;
}

void Loader::FillTriggerPolicies(Config& config) {
  for (Environment& env : config.environments) {
    std::vector<TriggerPolicy> policies = DefaultTriggerPolicies(config, env);
    if (auto it = environment_triggers_.find(env.name); it != environment_triggers_.end()) {
      for (const TriggerOverride& entry : it->second) {
        for (TriggerPolicy& policy : policies) {
          if (policy.kind == entry.kind) policy = entry.ApplyTo(policy);
        }
      }
    }
    env.triggers = std::move(policies);
  }
}

void Loader::ReadSystemTriggers(const YAML::Node& node, const Config& config, System& system) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    Error(node, fmt::format("'triggers' must be a mapping of environment to triggers, got {}",
                            Describe(node)));
    return;
  }
  std::vector<std::string> environments;
  for (const Environment& env : config.environments) environments.push_back(env.name);
  std::map<std::string, Position> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      Error(key,
            fmt::format("keys of 'triggers' must be environment names, got {}", Describe(key)));
      continue;
    }
    Item env_name{key.Scalar(), PositionOf(key)};
    CheckUnique(seen, env_name, "environment in 'triggers'");
    const Environment* env = config.FindEnvironment(env_name.value);
    std::string path = "triggers." + key.Scalar();
    if (env == nullptr) {
      Error(key, fmt::format("'{}': unknown environment {}{}", path, Quote(env_name.value),
                             Suggestion(env_name.value, environments)));
      continue;
    }
    std::vector<TriggerPolicy> policies;
    for (const TriggerOverride& entry : ReadTriggers(it->second, path)) {
      const TriggerPolicy* base = FindPolicy(env->triggers, entry.kind);
      policies.push_back(entry.ApplyTo(base != nullptr ? *base : TriggerPolicy{}));
    }
    system.triggers[env->name] = std::move(policies);
  }
}

void Loader::ReadMetrics(const YAML::Node& node, System& system) {
  if (!IsMapOrNull(node, "metrics") || !node.IsMap()) return;
  if (!CheckKeys(node, "'metrics'",
                 {"path", "requests_metric", "errors_metric", "prometheus_url", "prometheus_query",
                  "probe_paths"})) {
    return;
  }
  System::MetricsSource& metrics = system.metrics;
  if (auto paths = ReadStringList(node, "probe_paths")) {
    for (const Item& path : *paths) {
      bool ok = !path.value.empty() && path.value.front() == '/' && path.value.size() <= 1024 &&
                std::all_of(path.value.begin(), path.value.end(), [](char c) {
                  auto u = static_cast<unsigned char>(c);
                  return u > 0x20 && u < 0x7F && c != '"' && c != '\'' && c != '`' && c != '\\';
                });
      if (!ok) {
        Error(path.position,
              fmt::format("'metrics.probe_paths' entries must be URL paths such as /api/orders, "
                          "got {}",
                          Quote(path.value)));
      } else {
        metrics.probe_paths.push_back(path.value);
      }
    }
  }
  if (auto path = ReadString(node, "path", false, 1024)) {
    bool ok = !path->value.empty() && path->value.front() == '/' &&
              std::all_of(path->value.begin(), path->value.end(), [](char c) {
                auto u = static_cast<unsigned char>(c);
                return u > 0x20 && u < 0x7F && c != '"' && c != '\'' && c != '`' && c != '\\';
              });
    if (!ok) {
      Error(path->position,
            fmt::format("'metrics.path' must be a URL path such as /metrics, got {}",
                        Quote(path->value)));
    } else {
      metrics.metrics_path = path->value;
    }
  }
  for (const char* key : {"requests_metric", "errors_metric"}) {
    if (auto name = ReadString(node, key, false, 256)) {
      Status status = ValidateMetricName(name->value);
      if (!status.ok()) {
        Error(name->position, fmt::format("'metrics.{}': {}", key, status.message()));
      } else {
        (std::string_view(key) == "requests_metric" ? metrics.requests_metric
                                                    : metrics.errors_metric) = name->value;
      }
    }
  }
  if (Find(node, "requests_metric").has_value() != Find(node, "errors_metric").has_value()) {
    const char* missing = Find(node, "requests_metric") ? "errors_metric" : "requests_metric";
    Error(node, fmt::format("'metrics.{}' is missing: requests_metric and errors_metric go "
                            "together (the error share is errors / requests)",
                            missing));
  }
  if (auto url = ReadString(node, "prometheus_url", false, 2048)) {
    Status status = ValidateHttpUrl(url->value);
    if (!status.ok()) {
      Error(url->position, fmt::format("'metrics.prometheus_url': {}", status.message()));
    } else {
      metrics.prometheus_url = url->value;
    }
  }
  if (auto query = ReadString(node, "prometheus_query", false, 4096)) {
    if (Trim(query->value).empty()) {
      Error(query->position, "'metrics.prometheus_query' is empty");
    } else {
      metrics.prometheus_query = query->value;
    }
  }
  bool has_url = Find(node, "prometheus_url").has_value();
  bool has_query = Find(node, "prometheus_query").has_value();
  if (has_url && !has_query) {
    Error(node,
          "'metrics.prometheus_query' is missing: prometheus_url needs the query whose "
          "value is the percentage of requests in error");
  } else if (has_query && !has_url) {
    Error(node,
          "'metrics.prometheus_url' is missing: prometheus_query needs the Prometheus "
          "server to ask (http:// or https://)");
  }
}

void Loader::ReadAlertmanager(const YAML::Node& node, System& system) {
  if (!IsMapOrNull(node, "alertmanager") || !node.IsMap()) return;
  if (!CheckKeys(node, "'alertmanager'", {"url", "matchers", "severities"})) return;
  System::AlertmanagerSource source;
  if (auto url = ReadString(node, "url", true, 2048)) {
    Status status = ValidateHttpUrl(url->value);
    if (!status.ok()) {
      Error(url->position, fmt::format("'alertmanager.url': {}", status.message()));
    } else {
      source.url = url->value;
    }
  }
  if (auto matchers = ReadStringList(node, "matchers")) {
    for (const Item& matcher : *matchers) {
      Result<AlertMatcher> parsed = ParseAlertMatcher(matcher.value);
      if (!parsed.ok()) {
        Error(matcher.position,
              fmt::format("'alertmanager.matchers': {}", parsed.error().message()));
      } else {
        source.matchers.push_back(matcher.value);
      }
    }
    if (matchers->empty()) {
      Error(PositionIn(node, "matchers"),
            "'alertmanager.matchers' is empty: name at least one label (system=NAME) so that "
            "only this system's alerts count");
    }
  } else {
    source.matchers = {"system=" + system.name};
  }
  if (auto severities = ReadStringList(node, "severities")) {
    source.severities.clear();
    for (const Item& severity : *severities) {
      bool ok = !severity.value.empty() && severity.value.size() <= 64 &&
                std::all_of(severity.value.begin(), severity.value.end(), [](char c) {
                  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
                });
      if (!ok) {
        Error(severity.position,
              fmt::format("'alertmanager.severities' entries are severity label values such as "
                          "critical, got {}",
                          Quote(severity.value)));
      } else {
        source.severities.push_back(severity.value);
      }
    }
    if (severities->empty()) {
      Error(PositionIn(node, "severities"),
            "'alertmanager.severities' is empty: name the severities that count, e.g. [critical]");
    }
  }
  system.alertmanager = std::move(source);
}

void Loader::ReadNotification(const YAML::Node& parent, std::string_view key,
                              NotificationRule& rule, Position fallback,
                              const std::string& default_note) {
  auto node = Find(parent, key);
  bool has_recipients = false, has_channels = false;
  if (node && IsMapOrNull(*node, key) && node->IsMap() &&
      CheckKeys(*node, fmt::format("'{}'", key),
                {"recipients", "before_min", "before_max", "channels"})) {
    if (auto recipients = ReadStringList(*node, "recipients")) {
      has_recipients = true;
      rule.notify.clear();
      for (const Item& recipient : *recipients) {
        AddReference(ReferenceKind::kRecipient, recipient);
        rule.notify.push_back(recipient.value);
      }
    }
    if (auto channels = ReadStringList(*node, "channels")) {
      has_channels = true;
      rule.channels.clear();
      for (const Item& channel : *channels) {
        AddReference(ReferenceKind::kChannel, channel);
        rule.channels.push_back(channel.value);
      }
    }
    auto before_min = ReadDuration(*node, "before_min", true);
    auto before_max = ReadDuration(*node, "before_max", true);
    if (before_min) {
      rule.before_min = *before_min;
      if (!before_max && !Find(*node, "before_max")) rule.before_max = *before_min;
    }
    if (before_max) rule.before_max = *before_max;
    if (rule.before_max < rule.before_min) {
      Error(Find(*node, "before_max") ? *Find(*node, "before_max") : *node,
            fmt::format("'before_max' ({}) must not be less than 'before_min' ({})",
                        FormatDuration(rule.before_max), FormatDuration(rule.before_min)));
    }
  }
  if (!has_recipients)
    AddReferences(ReferenceKind::kRecipient, rule.notify, fallback, default_note);
  if (!has_channels) AddReferences(ReferenceKind::kChannel, rule.channels, fallback, default_note);
}

// ---------------------------------------------------------------------------------------------
// People and systems

void Loader::ReadPeople(const YAML::Node& root, Config& config) {
  std::map<std::string, Position> names;
  ForEachMap(root, "people", [&](const YAML::Node& node) {
    if (!CheckKeys(node, "a person",
                   {"name", "full_name", "email", "phone", "unix_user", "roles"})) {
      return;
    }
    Person person;
    if (auto name = ReadString(node, "name", true, 64)) {
      Status status = ValidatePersonName(name->value);
      if (!status.ok()) {
        Error(name->position, status.message());
      } else {
        CheckUnique(names, *name, "person");
        person.name = name->value;
      }
    }
    if (auto full_name = ReadString(node, "full_name", false, 200)) {
      person.full_name = full_name->value;
    }
    if (auto email = ReadString(node, "email", false, 254)) {
      Status status = ValidateEmail(email->value);
      if (!status.ok()) {
        Error(email->position, status.message());
      } else {
        person.email = email->value;
      }
    }
    if (auto phone = ReadString(node, "phone", false, 64)) {
      Status status = ValidatePhone(phone->value);
      if (!status.ok()) {
        Error(phone->position, status.message());
      } else {
        person.phone = phone->value;
      }
    }
    if (auto unix_user = ReadString(node, "unix_user", false, 64)) {
      Status status = ValidateUnixUser(unix_user->value);
      if (!status.ok()) {
        Error(unix_user->position, status.message());
      } else {
        CheckUnique(unix_users_, *unix_user, "unix_user");
        person.unix_user = unix_user->value;
      }
    }
    if (auto roles = ReadStringList(node, "roles")) {
      for (const Item& role : *roles) {
        AddReference(ReferenceKind::kRole, role);
        if (std::find(person.roles.begin(), person.roles.end(), role.value) != person.roles.end()) {
          Error(role.position, fmt::format("duplicate role {}", Quote(role.value)));
          continue;
        }
        person.roles.push_back(role.value);
      }
    }
    config.people.push_back(std::move(person));
  });
}

void Loader::ReadSystems(const YAML::Node& root, Config& config) {
  ForEachMap(root, "systems", [&](const YAML::Node& node) { ReadSystem(node, config); });
  std::map<std::string, Position> seen;
  if (auto node = Find(root, "systems"); node && node->IsSequence()) {
    for (const YAML::Node& system : *node) {
      auto name = Find(system, "name");
      if (name && name->IsScalar())
        CheckUnique(seen, {name->Scalar(), PositionOf(*name)}, "system");
    }
  }
}

void Loader::ReadDatabase(const YAML::Node& node, std::string& url_out, std::string& password_out) {
  if (auto url = ReadString(node, "url", true, 2048)) {
    Status status = ValidateDatabaseUrl(url->value);
    if (!status.ok()) {
      Error(url->position, status.message());
    } else {
      url_out = url->value;
    }
  }
  if (auto password_node = Find(node, "password")) {
    // Never echo the value: it may be the password itself.
    if (!password_node->IsScalar()) {
      Error(*password_node, "'password' must be a secret reference such as env:NAME");
    } else {
      Status status = ValidateSecretReference(password_node->Scalar());
      if (!status.ok()) {
        Error(*password_node, fmt::format("'password': {}", status.message()));
      } else {
        password_out = password_node->Scalar();
      }
    }
  }
}

void Loader::ReadSystem(const YAML::Node& node, Config& config) {
  if (!CheckKeys(node, "a system", {"name",           "description",
                                    "owner",          "hosts",
                                    "service",        "app_dir",
                                    "config_dir",     "app_user",
                                    "app_group",      "port",
                                    "health",         "smoke_command",
                                    "regression",     "logs",
                                    "database",       "critical_tables",
                                    "dependencies",   "work_dir",
                                    "backup_dir",     "host_root_env",
                                    "hooks",          "procedure",
                                    "triggers",       "metrics",
                                    "alertmanager",   "on_writes_since_backup",
                                    "advisory_names", "targeted_tests",
                                    "diagnostics"})) {
    return;
  }
  System system;
  auto name = ReadIdentifier(node, "name", "system", true);
  if (name) {
    // The playbook's layout (§3.1): /opt/[application], /etc/[application],
    // /var/log/[application]/application.log, tests/smoke-test.sh, tests/run-regression.sh.
    system.name = name->value;
    system.service = name->value;
    system.app_dir = "/opt/" + name->value;
    system.config_dir = "/etc/" + name->value;
    system.log_file = "/var/log/" + name->value + "/application.log";
    system.smoke_command = system.app_dir + "/tests/smoke-test.sh";
    system.regression_command = system.app_dir + "/tests/run-regression.sh";
    system.backup_dir = "/var/backups/rollgate/" + name->value;
    system.advisory_names = {name->value};
  }
  // §3.2 step 7: health, ready and metrics.
  system.endpoints = {{"health", "/health"}, {"ready", "/ready"}, {"metrics", "/metrics"}};
  if (auto description = ReadString(node, "description", false, 2000)) {
    system.description = description->value;
  }
  if (auto owner = ReadString(node, "owner", false, 64)) {
    AddReference(ReferenceKind::kPerson, *owner);
    system.owner = owner->value;
  }

  if (auto hosts = Find(node, "hosts")) {
    if (IsMapOrNull(*hosts, "hosts") && hosts->IsMap()) {
      std::map<std::string, Position> environments;
      for (auto it = hosts->begin(); it != hosts->end(); ++it) {
        if (!it->first.IsScalar()) {
          Error(it->first, fmt::format("keys of 'hosts' must be environment names, got {}",
                                       Describe(it->first)));
          continue;
        }
        Item env{it->first.Scalar(), PositionOf(it->first)};
        CheckUnique(environments, env, "environment in 'hosts'");
        AddReference(ReferenceKind::kEnvironment, env);
        SystemHost entry;
        entry.environment = env.value;
        auto list = ScalarList(it->second, "hosts");
        if (!list) continue;
        std::map<std::string, Position> seen;
        for (const Item& host : *list) {
          Status status = ValidateHost(host.value);
          if (!status.ok()) {
            Error(host.position, status.message());
            continue;
          }
          CheckUnique(seen, host, "host");
          entry.hosts.push_back(host.value);
        }
        system.hosts.push_back(std::move(entry));
      }
    }
  }

  if (auto service = Find(node, "service")) {
    auto check_unit = [&](const Item& unit) {
      bool ok = !unit.value.empty() && unit.value.size() <= 256 && unit.value.front() != '-' &&
                std::all_of(unit.value.begin(), unit.value.end(), [](char c) {
                  return std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '_' ||
                         c == '.' || c == '@' || c == '-';
                });
      if (!ok) {
        Error(unit.position, fmt::format("invalid service name {}: use letters, digits and "
                                         ":_.@- (not starting with '-')",
                                         Quote(unit.value)));
      }
      return ok;
    };
    if (service->IsScalar()) {
      Item unit{service->Scalar(), PositionOf(*service)};
      if (check_unit(unit)) system.service = unit.value;
    } else if (IsMapOrNull(*service, "service") && service->IsMap() &&
               CheckKeys(*service, "'service'",
                         {"name", "manager", "start_command", "stop_command", "status_command"})) {
      if (auto unit = ReadString(*service, "name", false, 256); unit && check_unit(*unit)) {
        system.service = unit->value;
      }
      if (auto manager = ReadString(*service, "manager", false, 16)) {
        if (manager->value != "systemd" && manager->value != "command") {
          Error(manager->position,
                fmt::format("'manager' must be systemd or command, got {}{}", Quote(manager->value),
                            Suggestion(manager->value, {"systemd", "command"})));
        } else {
          system.service_manager = manager->value;
        }
      }
      ReadCommand(*service, "start_command", system.start_command);
      ReadCommand(*service, "stop_command", system.stop_command);
      ReadCommand(*service, "status_command", system.status_command);
      if (system.service_manager == "command") {
        // The status command tells whether a stop or start really happened (playbook 3.3 step 8).
        for (const char* key : {"start_command", "stop_command", "status_command"}) {
          if (!Find(*service, key)) {
            Error(*service, fmt::format("missing required key '{}' (manager: command)", key));
          }
        }
      }
    }
  }

  ReadPath(node, "app_dir", system.app_dir);
  ReadPath(node, "config_dir", system.config_dir);
  ReadPath(node, "work_dir", system.work_dir);
  ReadPath(node, "backup_dir", system.backup_dir);
  if (auto root_env = ReadIdentifier(node, "host_root_env", "variable", false)) {
    if (root_env->value.find_first_of(".-") != std::string::npos ||
        std::isdigit(static_cast<unsigned char>(root_env->value.front()))) {
      Error(root_env->position,
            fmt::format("'host_root_env' must be an environment variable name such as "
                        "ROLLGATE_HOST_ROOT, got {}",
                        Quote(root_env->value)));
    } else {
      system.host_root_env = root_env->value;
    }
  }
  for (const char* key : {"app_user", "app_group"}) {
    if (auto value = ReadString(node, key, false, 64)) {
      Status status = ValidateUnixUser(value->value);
      if (!status.ok()) {
        Error(value->position, fmt::format("'{}': {}", key, status.message()));
      } else {
        (std::string_view(key) == "app_user" ? system.app_user : system.app_group) = value->value;
      }
    }
  }
  if (auto port = ReadInteger(node, "port", 1, 65535)) system.port = static_cast<int>(*port);

  if (Find(node, "health")) {
    system.endpoints.clear();
    std::map<std::string, Position> seen;
    ForEachMap(node, "health", [&](const YAML::Node& endpoint) {
      if (!CheckKeys(endpoint, "a health endpoint", {"name", "path"})) return;
      HealthEndpoint health;
      if (auto endpoint_name = ReadIdentifier(endpoint, "name", "endpoint", true)) {
        CheckUnique(seen, *endpoint_name, "endpoint");
        health.name = endpoint_name->value;
      }
      if (auto path = ReadString(endpoint, "path", true, 1024)) {
        bool ok = path->value.size() > 0 && path->value.front() == '/' &&
                  std::all_of(path->value.begin(), path->value.end(), [](char c) {
                    auto u = static_cast<unsigned char>(c);
                    return u > 0x20 && u < 0x7F && c != '"' && c != '\'' && c != '`' && c != '\\';
                  });
        if (!ok) {
          Error(path->position,
                fmt::format("invalid endpoint path {}: expected a URL path such as /health",
                            Quote(path->value)));
        } else {
          health.path = path->value;
        }
      }
      system.endpoints.push_back(std::move(health));
    });
  }

  if (auto hooks = Find(node, "hooks")) {
    if (IsMapOrNull(*hooks, "hooks") && hooks->IsMap() &&
        CheckKeys(*hooks, "'hooks'", {"drain", "maintenance_on", "maintenance_off"})) {
      ReadCommand(*hooks, "drain", system.drain_command);
      ReadCommand(*hooks, "maintenance_on", system.maintenance_on_command);
      ReadCommand(*hooks, "maintenance_off", system.maintenance_off_command);
    }
  }
  if (auto procedure = Find(node, "procedure")) {
    if (IsMapOrNull(*procedure, "procedure") && procedure->IsMap() &&
        CheckKeys(*procedure, "'procedure'", {"skip", "add"})) {
      if (auto skip = ReadStringList(*procedure, "skip")) {
        for (const Item& step : *skip) {
          Status status = ValidateIdentifier(step.value, "step");
          if (!status.ok()) {
            Error(step.position, status.message());
            continue;
          }
          system.skip_steps.push_back(step.value);
        }
      }
      ForEachMap(*procedure, "add", [&](const YAML::Node& added) {
        if (!CheckKeys(added, "an added step", {"phase", "after", "name", "type", "params"})) {
          return;
        }
        System::ExtraStep extra;
        if (auto phase = ReadIdentifier(added, "phase", "phase", true)) extra.phase = phase->value;
        if (auto after = ReadIdentifier(added, "after", "step", false)) extra.after = after->value;
        if (auto name = ReadIdentifier(added, "name", "step", true)) extra.name = name->value;
        if (auto type = ReadIdentifier(added, "type", "step type", true)) extra.type = type->value;
        if (auto params = Find(added, "params")) {
          if (IsMapOrNull(*params, "params") && params->IsMap()) {
            for (auto it = params->begin(); it != params->end(); ++it) {
              if (!it->first.IsScalar() || !it->second.IsScalar()) {
                Error(it->first, "'params' maps names to single values");
                continue;
              }
              Status status = ValidateText(it->second.Scalar(), 4096);
              if (!status.ok()) {
                Error(it->second, status.message());
                continue;
              }
              extra.params[it->first.Scalar()] = it->second.Scalar();
            }
          }
        }
        system.extra_steps.push_back(std::move(extra));
      });
    }
  }

  ReadCommand(node, "smoke_command", system.smoke_command);
  ReadCommand(node, "targeted_tests", system.targeted_test_command);
  if (auto regression = Find(node, "regression")) {
    if (IsMapOrNull(*regression, "regression") && regression->IsMap() &&
        CheckKeys(*regression, "'regression'", {"command", "results"})) {
      ReadCommand(*regression, "command", system.regression_command);
      ReadPath(*regression, "results", system.regression_results);
    }
  }
  if (auto logs = Find(node, "logs")) {
    if (IsMapOrNull(*logs, "logs") && logs->IsMap() &&
        CheckKeys(*logs, "'logs'", {"file", "error_patterns"})) {
      ReadPath(*logs, "file", system.log_file);
      if (auto patterns = ReadStringList(*logs, "error_patterns")) {
        system.error_patterns.clear();
        for (const Item& pattern : *patterns) {
          Status status = ValidateText(pattern.value, 200);
          if (!status.ok() || pattern.value.empty()) {
            Error(pattern.position, fmt::format("invalid error pattern {}", Quote(pattern.value)));
            continue;
          }
          system.error_patterns.push_back(pattern.value);
        }
      }
    }
  }
  if (auto database = Find(node, "database")) {
    if (IsMapOrNull(*database, "database") && database->IsMap() &&
        CheckKeys(*database, "'database'", {"url", "password", "environments"})) {
      ReadDatabase(*database, system.database_url, system.database_password);
      if (auto environments = Find(*database, "environments")) {
        if (IsMapOrNull(*environments, "environments") && environments->IsMap()) {
          for (auto it = environments->begin(); it != environments->end(); ++it) {
            if (!it->first.IsScalar()) {
              Error(it->first, "keys of 'environments' must be environment names");
              continue;
            }
            Item env{it->first.Scalar(), PositionOf(it->first)};
            AddReference(ReferenceKind::kEnvironment, env);
            if (!IsMapOrNull(it->second, "an environment's database") || !it->second.IsMap() ||
                !CheckKeys(it->second, "an environment's database", {"url", "password"})) {
              continue;
            }
            auto& target = system.environment_databases[env.value];
            ReadDatabase(it->second, target.first, target.second);
          }
        }
      }
    }
  }
  if (auto diagnostics = Find(node, "diagnostics")) {
    if (IsMapOrNull(*diagnostics, "diagnostics") && diagnostics->IsMap() &&
        CheckKeys(*diagnostics, "'diagnostics'",
                  {"binaries", "config_check", "dependency_command"})) {
      if (auto binaries = ReadStringList(*diagnostics, "binaries")) {
        for (const Item& binary : *binaries) {
          Status status = ValidateAbsolutePath(binary.value);
          if (!status.ok()) {
            Error(binary.position, fmt::format("'diagnostics.binaries': {}", status.message()));
            continue;
          }
          system.diagnostics.binaries.push_back(binary.value);
        }
      }
      ReadCommand(*diagnostics, "config_check", system.diagnostics.config_check);
      ReadCommand(*diagnostics, "dependency_command", system.diagnostics.dependency_command);
    }
  }
  if (auto tables = ReadStringList(node, "critical_tables")) {
    for (const Item& table : *tables) {
      Status status = ValidateTableName(table.value);
      if (!status.ok()) {
        Error(table.position, status.message());
        continue;
      }
      system.critical_tables.push_back(table.value);
    }
  }
  if (auto dependencies = ReadStringList(node, "dependencies")) {
    for (const Item& dependency : *dependencies) {
      Status status = ValidateDependency(dependency.value);
      if (!status.ok()) {
        Error(dependency.position, status.message());
        continue;
      }
      system.dependencies.push_back(dependency.value);
    }
  }
  if (auto triggers = Find(node, "triggers")) ReadSystemTriggers(*triggers, config, system);
  if (auto metrics = Find(node, "metrics")) ReadMetrics(*metrics, system);
  if (auto alertmanager = Find(node, "alertmanager")) ReadAlertmanager(*alertmanager, system);
  if (auto policy = ReadString(node, "on_writes_since_backup", false, 16)) {
    if (policy->value != "hold" && policy->value != "restore") {
      Error(policy->position,
            fmt::format("'on_writes_since_backup' must be hold or restore, got {}{}",
                        Quote(policy->value), Suggestion(policy->value, {"hold", "restore"})));
    } else {
      system.on_writes_since_backup = policy->value;
    }
  }
  if (auto names = ReadStringList(node, "advisory_names")) {
    if (names->empty()) {
      Error(PositionIn(node, "advisory_names"),
            "'advisory_names' must name at least one product (or be left out for the system's "
            "name)");
    }
    std::vector<std::string> accepted;
    for (const Item& advisory_name : *names) {
      Status status = ValidateText(advisory_name.value, 200);
      if (!status.ok() || Trim(advisory_name.value).empty()) {
        Error(advisory_name.position,
              fmt::format("'advisory_names': invalid product name {}", Quote(advisory_name.value)));
        continue;
      }
      accepted.push_back(advisory_name.value);
    }
    if (!accepted.empty()) system.advisory_names = std::move(accepted);
  }
  config.systems.push_back(std::move(system));
}

// ---------------------------------------------------------------------------------------------
// Contacts, groups, escalation, channels, emergency

void Loader::ReadContacts(const YAML::Node& root, Config& config) {
  std::vector<Contact> contacts;
  std::map<std::string, Position> seen;
  bool present = ForEachMap(root, "contacts", [&](const YAML::Node& node) {
    if (!CheckKeys(node, "a contact", {"name", "primary", "backup", "hours"})) return;
    Contact contact;
    if (auto name = ReadIdentifier(node, "name", "contact", true)) {
      CheckUnique(seen, *name, "contact");
      contact.name = name->value;
    }
    for (const char* key : {"primary", "backup"}) {
      if (auto person = ReadString(node, key, false, 64)) {
        AddReference(ReferenceKind::kPerson, *person);
        (std::string_view(key) == "primary" ? contact.primary : contact.backup) = person->value;
      }
    }
    if (auto hours = ReadString(node, "hours", false, 100)) contact.hours = hours->value;
    contacts.push_back(std::move(contact));
  });
  if (present) config.contacts = std::move(contacts);
}

void Loader::ReadGroups(const YAML::Node& root, Config& config) {
  std::vector<ContactGroup> groups;
  std::map<std::string, Position> seen;
  bool present = ForEachMap(root, "groups", [&](const YAML::Node& node) {
    if (!CheckKeys(node, "a contact group", {"name", "email", "channel", "people"})) return;
    ContactGroup group;
    if (auto name = ReadIdentifier(node, "name", "contact group", true)) {
      CheckUnique(seen, *name, "contact group");
      group.name = name->value;
    }
    if (auto email = ReadString(node, "email", false, 254)) {
      Status status = ValidateEmail(email->value);
      if (!status.ok()) {
        Error(email->position, status.message());
      } else {
        group.email = email->value;
      }
    }
    if (auto channel = ReadString(node, "channel", false, 100)) group.channel = channel->value;
    if (auto people = ReadStringList(node, "people")) {
      for (const Item& person : *people) {
        AddReference(ReferenceKind::kPerson, person);
        group.people.push_back(person.value);
      }
    }
    groups.push_back(std::move(group));
  });
  if (present) config.groups = std::move(groups);
}

void Loader::ReadEscalation(const YAML::Node& root, Config& config) {
  std::vector<EscalationPath> paths;
  std::map<std::string, Position> seen;
  bool present = ForEachMap(root, "escalation", [&](const YAML::Node& node) {
    if (!CheckKeys(node, "an escalation path", {"name", "levels"})) return;
    EscalationPath path;
    if (auto name = ReadIdentifier(node, "name", "escalation path", true)) {
      CheckUnique(seen, *name, "escalation path");
      path.name = name->value;
    }
    if (!Find(node, "levels")) Error(node, "missing required key 'levels'");
    ForEachMap(node, "levels", [&](const YAML::Node& level_node) {
      if (!CheckKeys(level_node, "an escalation level", {"contact", "response_time"})) return;
      EscalationLevel level;
      level.level = static_cast<int>(path.levels.size()) + 1;
      if (auto contact = ReadString(level_node, "contact", true, 64)) {
        AddReference(ReferenceKind::kEscalationContact, *contact);
        level.contact = contact->value;
      }
      if (!Find(level_node, "response_time")) {
        Error(level_node, "missing required key 'response_time'");
      } else if (auto response = ReadDuration(level_node, "response_time", true)) {
        level.response_time = *response;
        if (!path.levels.empty() && level.response_time < path.levels.back().response_time) {
          Error(PositionIn(level_node, "response_time"),
                "'response_time' must not be shorter than the previous level's");
        }
      }
      path.levels.push_back(std::move(level));
    });
    if (auto levels = Find(node, "levels");
        levels && (levels->IsNull() || (levels->IsSequence() && levels->size() == 0))) {
      Error(PositionIn(node, "levels"), "'levels' must list at least one level");
    }
    paths.push_back(std::move(path));
  });
  if (present) config.escalation = std::move(paths);
}

void Loader::ReadChannels(const YAML::Node& root, Config& config) {
  std::vector<Channel> channels;
  std::map<std::string, Position> seen;
  bool present = ForEachMap(root, "channels", [&](const YAML::Node& node) {
    if (!CheckKeys(node, "a channel", {"name", "type", "settings"})) return;
    Channel channel;
    if (auto name = ReadIdentifier(node, "name", "channel", true)) {
      CheckUnique(seen, *name, "channel");
      channel.name = name->value;
    }
    const std::vector<std::string> types = {"email", "webhook", "command", "file", "alertmanager"};
    if (auto type = ReadString(node, "type", true, 16)) {
      if (std::find(types.begin(), types.end(), type->value) == types.end()) {
        Error(type->position,
              fmt::format("unknown channel type {}{}", Quote(type->value),
                          Suggestion(type->value, types).empty()
                              ? " (expected email, webhook, command, file or alertmanager)"
                              : Suggestion(type->value, types)));
      } else {
        channel.type = type->value;
      }
    }
    if (auto settings = Find(node, "settings")) {
      if (IsMapOrNull(*settings, "settings") && settings->IsMap()) {
        std::map<std::string, Position> keys;
        for (auto it = settings->begin(); it != settings->end(); ++it) {
          if (!it->first.IsScalar()) {
            Error(it->first, "keys in 'settings' must be plain names");
            continue;
          }
          Item key{it->first.Scalar(), PositionOf(it->first)};
          Status key_status = ValidateIdentifier(key.value, "setting");
          if (!key_status.ok()) {
            Error(key.position, key_status.message());
            continue;
          }
          CheckUnique(keys, key, "setting");
          if (key.value == "headers" && channel.type == "webhook" && it->second.IsMap()) {
            // Extra HTTP headers of a webhook, stored as settings "header:NAME".
            for (auto h = it->second.begin(); h != it->second.end(); ++h) {
              bool name_ok =
                  h->first.IsScalar() && !h->first.Scalar().empty() &&
                  h->first.Scalar().size() <= 64 &&
                  std::all_of(h->first.Scalar().begin(), h->first.Scalar().end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-';
                  });
              if (!name_ok) {
                Error(h->first, "a header name must be letters, digits and '-'");
                continue;
              }
              if (!h->second.IsScalar() || !ValidateText(h->second.Scalar(), 1024).ok() ||
                  h->second.Scalar().find_first_of("\r\n") != std::string::npos) {
                Error(h->second, "a header value must be one line of text");
                continue;
              }
              channel.settings["header:" + h->first.Scalar()] = h->second.Scalar();
            }
            continue;
          }
          if (key.value == "labels" && channel.type == "alertmanager" && it->second.IsMap()) {
            // Extra labels of the alerts an alertmanager channel posts, stored as settings
            // "label:NAME".
            static const std::set<std::string> kOwnLabels = {"alertname", "severity", "system",
                                                             "environment", "change_request"};
            for (auto l = it->second.begin(); l != it->second.end(); ++l) {
              std::string name = l->first.IsScalar() ? l->first.Scalar() : std::string();
              bool name_ok = !name.empty() && name.size() <= 64 &&
                             (std::isalpha(static_cast<unsigned char>(name.front())) != 0 ||
                              name.front() == '_') &&
                             std::all_of(name.begin(), name.end(), [](char c) {
                               return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
                             });
              if (!name_ok) {
                Error(l->first,
                      "a label name must be letters, digits and '_', not starting "
                      "with a digit");
                continue;
              }
              if (kOwnLabels.contains(name)) {
                Error(l->first, fmt::format("label {} is set by Rollgate itself (alertname, "
                                            "severity, system, environment, change_request)",
                                            Quote(name)));
                continue;
              }
              if (!l->second.IsScalar() || !ValidateText(l->second.Scalar(), 1024).ok() ||
                  l->second.Scalar().find_first_of("\r\n") != std::string::npos) {
                Error(l->second, "a label value must be one line of text");
                continue;
              }
              channel.settings["label:" + name] = l->second.Scalar();
            }
            continue;
          }
          if (!it->second.IsScalar()) {
            Error(it->second, fmt::format("setting {} must be a single value, got {}",
                                          Quote(key.value), Describe(it->second)));
            continue;
          }
          const std::string value = it->second.Scalar();
          std::string lowered = ToLower(key.value);
          bool secret = lowered.find("password") != std::string::npos ||
                        lowered.find("secret") != std::string::npos ||
                        lowered.find("token") != std::string::npos;
          if (key.value == "password_env") {
            // The NAME of the environment variable holding the password.
            Status status = ValidateSecretReference("env:" + value);
            if (!status.ok()) {
              Error(it->second, fmt::format("setting 'password_env': expected the name of an "
                                            "environment variable (letters, digits and '_')"));
              continue;
            }
          } else if (secret) {
            Status status = ValidateSecretReference(value);
            if (!status.ok()) {
              Error(it->second, fmt::format("setting {}: {}", Quote(key.value), status.message()));
              continue;
            }
          } else if (Status status = ValidateText(value, 2048); !status.ok()) {
            Error(it->second, fmt::format("setting {}: {}", Quote(key.value), status.message()));
            continue;
          } else if (key.value == "url" && channel.type == "email") {
            bool smtp = (StartsWith(value, "smtp://") || StartsWith(value, "smtps://")) &&
                        value.size() > 9 &&
                        value.find_first_of(" \t\r\n'\"`\\") == std::string::npos;
            if (!smtp) {
              Error(it->second, fmt::format("invalid SMTP URL {}: expected smtp://host:port or "
                                            "smtps://host:port",
                                            Quote(value)));
              continue;
            }
          } else if (key.value == "severity" && channel.type == "alertmanager" &&
                     (value.empty() || value.size() > 64 ||
                      !std::all_of(value.begin(), value.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' ||
                               c == '-';
                      }))) {
            Error(it->second, fmt::format("setting 'severity': a severity label value such as "
                                          "warning or critical, got {}",
                                          Quote(value)));
            continue;
          } else if (key.value == "url") {
            if (Status url = ValidateHttpUrl(value); !url.ok()) {
              Error(it->second, url.message());
              continue;
            }
          }
          channel.settings[key.value] = value;
        }
      }
    }
    if (channel.type == "alertmanager" && !Find(node, "settings").has_value()) {
      Error(node, "an alertmanager channel needs settings.url (http://HOST:9093)");
    } else if (channel.type == "alertmanager" && !channel.settings.contains("url")) {
      if (auto settings = Find(node, "settings"); settings && !Find(*settings, "url")) {
        Error(*settings, "an alertmanager channel needs settings.url (http://HOST:9093)");
      }
    }
    channels.push_back(std::move(channel));
  });
  if (present) config.channels = std::move(channels);
}

void Loader::ReadNotificationDelivery(const YAML::Node& node, Config& config) {
  if (!IsMapOrNull(node, "notifications") || node.IsNull()) return;
  if (!CheckKeys(node, "'notifications'", {"backoff", "max_attempts"})) return;
  if (auto backoff = ReadStringList(node, "backoff")) {
    std::vector<Seconds> delays;
    for (const Item& item : *backoff) {
      Result<Seconds> delay = ParseDuration(item.value);
      if (!delay.ok()) {
        Error(item.position, delay.error().message());
        continue;
      }
      delays.push_back(*delay);
    }
    if (backoff->empty()) {
      Error(PositionIn(node, "backoff"), "'backoff' must list at least one delay, e.g. [30s, 2m]");
    }
    config.notification_backoff = std::move(delays);
  }
  if (auto attempts = ReadInteger(node, "max_attempts", 1, 100)) {
    config.notification_max_attempts = static_cast<int>(*attempts);
  }
}

void Loader::ReadTemplates(const YAML::Node& node, Config& config) {
  if (!IsMapOrNull(node, "templates") || node.IsNull()) return;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      Error(it->first, "template names must be plain names");
      continue;
    }
    std::string name = it->first.Scalar();
    const auto& known = MessageTemplatePlaceholders();
    if (!known.contains(name)) {
      std::vector<std::string> names;
      names.reserve(known.size());
      for (const auto& [template_name, placeholders] : known) names.push_back(template_name);
      Error(it->first,
            fmt::format("unknown message template {}{}", Quote(name),
                        Suggestion(name, names).empty() ? " (known: " + Join(names, ", ") + ")"
                                                        : Suggestion(name, names)));
      continue;
    }
    YAML::Node body = it->second;
    if (!body.IsMap()) {
      Error(body,
            fmt::format("template {} must be a mapping with 'subject' and/or 'body'", Quote(name)));
      continue;
    }
    if (!CheckKeys(body, "a template", {"subject", "body"})) continue;
    MessageTemplateOverride override_text;
    if (auto subject = ReadString(body, "subject", false, 1024)) {
      if (Status status = CheckTemplateText(name, subject->value); !status.ok()) {
        Error(subject->position, status.message());
      } else if (subject->value.find_first_of("\r\n") != std::string::npos) {
        Error(subject->position, "a template subject must be one line");
      } else {
        override_text.subject = subject->value;
      }
    }
    if (auto text = ReadString(body, "body", false, 65536)) {
      if (Status status = CheckTemplateText(name, text->value); !status.ok()) {
        Error(text->position, status.message());
      } else {
        override_text.body = text->value;
      }
    }
    config.message_templates[name] = std::move(override_text);
  }
}

void Loader::ReadEmergency(const YAML::Node& root, Config& config) {
  auto node = Find(root, "emergency");
  std::string note = " (the playbook's emergency default; set it under 'emergency')";
  bool has_roles = false;
  if (node && IsMapOrNull(*node, "emergency") && node->IsMap() &&
      CheckKeys(*node, "'emergency'", {"approver_roles", "notify"})) {
    if (auto roles = ReadStringList(*node, "approver_roles")) {
      has_roles = true;
      if (roles->empty()) {
        Error(PositionIn(*node, "approver_roles"), "'approver_roles' must name at least one role");
      }
      config.emergency_approver_roles.clear();
      for (const Item& role : *roles) {
        AddReference(ReferenceKind::kRole, role);
        config.emergency_approver_roles.push_back(role.value);
      }
    }
    ReadNotification(*node, "notify", config.emergency_notification, PositionOf(*node), note);
  } else {
    AddReferences(ReferenceKind::kRecipient, config.emergency_notification.notify, root_position_,
                  note);
    AddReferences(ReferenceKind::kChannel, config.emergency_notification.channels, root_position_,
                  note);
  }
  if (!has_roles) {
    AddReferences(ReferenceKind::kRole, config.emergency_approver_roles,
                  node ? PositionOf(*node) : root_position_, note);
  }
}

// ---------------------------------------------------------------------------------------------
// Checks across sections

void Loader::CheckQuorums(const Config& config) {
  // Without people the file describes policy only (the demo's embedded defaults); with people,
  // every environment must be approvable: at least `quorum` people hold an approver role.
  // Environments whose quorum or roles are already reported as wrong are not checked again.
  if (config.people.empty()) return;
  for (const Environment& env : config.environments) {
    if (env.approval.approver_roles.empty() || bad_quorums_.count(env.name)) continue;
    bool roles_known = std::all_of(env.approval.approver_roles.begin(),
                                   env.approval.approver_roles.end(), [&](const std::string& role) {
                                     return std::find(config.roles.begin(), config.roles.end(),
                                                      role) != config.roles.end();
                                   });
    if (!roles_known) continue;
    std::vector<std::string> holders;
    for (const Person& person : config.people) {
      for (const std::string& role : env.approval.approver_roles) {
        if (!person.name.empty() && config.PersonHasRole(person.name, role)) {
          holders.push_back(person.name);
          break;
        }
      }
    }
    if (static_cast<int>(holders.size()) >= env.approval.quorum) continue;
    auto where = quorum_positions_.find(env.name);
    Position position = where == quorum_positions_.end() ? root_position_ : where->second;
    Error(position, fmt::format("quorum {} for environment {} needs {} {} holding {}; {}",
                                env.approval.quorum, Quote(env.name), env.approval.quorum,
                                env.approval.quorum == 1 ? "person" : "people",
                                Join(env.approval.approver_roles, " or "),
                                holders.empty() ? std::string("nobody does")
                                                : fmt::format("only {} {} ({})", holders.size(),
                                                              holders.size() == 1 ? "does" : "do",
                                                              Join(holders, ", "))));
  }
}

void Loader::ResolveReferences(const Config& config) {
  std::vector<std::string> roles = config.roles;
  std::vector<std::string> environments, people, contacts, groups, channels;
  for (const auto& e : config.environments) environments.push_back(e.name);
  for (const auto& p : config.people) people.push_back(p.name);
  for (const auto& c : config.contacts) contacts.push_back(c.name);
  for (const auto& g : config.groups) groups.push_back(g.name);
  for (const auto& c : config.channels) channels.push_back(c.name);
  auto contains = [](const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  auto concat = [](std::vector<std::vector<std::string>> lists) {
    std::vector<std::string> out;
    for (auto& list : lists) out.insert(out.end(), list.begin(), list.end());
    return out;
  };
  std::set<std::tuple<int, int, std::string>> reported;
  for (const Reference& ref : references_) {
    std::string what;
    std::vector<std::string> candidates;
    bool found = false;
    switch (ref.kind) {
      case ReferenceKind::kRole:
        what = "role";
        candidates = roles;
        break;
      case ReferenceKind::kEnvironment:
        what = "environment";
        candidates = environments;
        break;
      case ReferenceKind::kPerson:
        what = "person";
        candidates = people;
        break;
      case ReferenceKind::kChannel:
        what = "channel";
        candidates = channels;
        break;
      case ReferenceKind::kRecipient:
        what = "recipient (contact group, role or person)";
        candidates = concat({groups, roles, people});
        break;
      case ReferenceKind::kEscalationContact:
        what = "escalation contact (contact, person or role)";
        candidates = concat({contacts, people, roles});
        break;
    }
    found = contains(candidates, ref.name);
    if (found) continue;
    if (!reported.insert({ref.position.line, ref.position.column, ref.name}).second) continue;
    Error(ref.position, fmt::format("unknown {} {}{}{}", what, Quote(ref.name),
                                    Suggestion(ref.name, candidates), ref.note));
  }
}

}  // namespace

LoadResult LoadConfigText(std::string_view yaml, std::string file_name, const TimeZone& zone) {
  LoadResult result;
  Loader loader(file_name, zone);
  std::optional<Config> config;
  try {
    config = loader.Load(yaml);
  } catch (const std::exception& e) {
    // yaml-cpp may throw from node access on inputs we did not foresee; that is bad input, not a
    // crash (STYLE.md 5).
    std::vector<ConfigError> errors = loader.TakeErrors();
    errors.push_back(
        {file_name, 1, 1,
         fmt::format("the configuration could not be read: {}", EscapeForDisplay(e.what()))});
    result.errors = std::move(errors);
    return result;
  }
  result.errors = loader.TakeErrors();
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                   });
  result.errors.erase(std::unique(result.errors.begin(), result.errors.end()), result.errors.end());
  if (result.errors.empty() && config) {
    config->source_file = std::move(file_name);
    result.config = std::move(config);
  }
  return result;
}

LoadResult LoadConfigText(std::string_view yaml, std::string file_name) {
  SystemTimeZone zone;
  return LoadConfigText(yaml, std::move(file_name), zone);
}

LoadResult LoadConfigFile(const std::filesystem::path& path) {
  std::string name = path.string();
  auto fail = [&](std::string message) {
    LoadResult result;
    result.errors.push_back({name, 0, 0, std::move(message)});
    return result;
  };
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return fail("the configuration file does not exist (run 'rollgate init' to write one)");
  }
  if (std::filesystem::is_directory(status)) return fail("is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("the configuration file cannot be read");
  std::string text;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxConfigBytes) {
      return fail(fmt::format("the file is larger than {} bytes", kMaxConfigBytes));
    }
  }
  if (in.bad()) return fail("the configuration file cannot be read");
  return LoadConfigText(text, name);
}

std::string FormatConfigError(const ConfigError& error) {
  if (error.line <= 0) return fmt::format("{}: {}", error.file, error.message);
  return fmt::format("{}:{}:{}: {}", error.file, error.line, error.column, error.message);
}

}  // namespace rollgate
