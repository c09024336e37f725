#include "domain/config.h"

#include <fmt/format.h>

#include <algorithm>

namespace rollgate {

std::vector<std::string> BuiltInRoles() {
  return {kRoleDevelopmentLead,
          kRoleTestManager,
          kRoleBusinessAnalyst,
          kRoleCabMember,
          kRoleCabChair,
          kRoleItOperationsManager,
          kRoleSecurityLead,
          kRoleEngineer,
          kRoleTestEngineer,
          kRoleHelpDesk,
          kRoleDbaLead,
          kRoleItDirector,
          kRoleCiso,
          kRoleAdmin};
}

std::string_view BackupVerificationName(BackupVerification mode) {
  switch (mode) {
    case BackupVerification::kOff:
      return "off";
    case BackupVerification::kOptional:
      return "optional";
    case BackupVerification::kRequired:
      return "required";
  }
  return "off";
}

std::optional<BackupVerification> ParseBackupVerification(std::string_view text) {
  for (BackupVerification mode :
       {BackupVerification::kOff, BackupVerification::kOptional, BackupVerification::kRequired}) {
    if (text == BackupVerificationName(mode)) return mode;
  }
  return std::nullopt;
}

std::string DescribeLeadTime(const LeadTime& lead_time) {
  switch (lead_time.kind) {
    case LeadTime::Kind::kSameDay:
      return "same day";
    case LeadTime::Kind::kHours:
      return FormatDuration(lead_time.duration);
    case LeadTime::Kind::kBusinessDays:
      return fmt::format("{} business day{}", lead_time.business_days,
                         lead_time.business_days == 1 ? "" : "s");
  }
  return "";
}

namespace {

template <typename T>
const T* FindByName(const std::vector<T>& items, std::string_view name) {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& i) { return i.name == name; });
  return it == items.end() ? nullptr : &*it;
}

}  // namespace

const Environment* Config::FindEnvironment(std::string_view name) const {
  return FindByName(environments, name);
}

const Person* Config::FindPerson(std::string_view name) const { return FindByName(people, name); }

const Person* Config::FindPersonByUnixUser(std::string_view unix_user) const {
  auto it = std::find_if(people.begin(), people.end(), [&](const Person& p) {
    return !p.unix_user.empty() && p.unix_user == unix_user;
  });
  return it == people.end() ? nullptr : &*it;
}

const System* Config::FindSystem(std::string_view name) const { return FindByName(systems, name); }

const Environment* Config::NextEnvironment(std::string_view name) const {
  const Environment* current = FindEnvironment(name);
  if (!current) return nullptr;
  const Environment* best = nullptr;
  for (const auto& e : environments) {
    if (e.order > current->order && (!best || e.order < best->order)) best = &e;
  }
  return best;
}

const Environment* Config::PreviousEnvironment(std::string_view name) const {
  const Environment* current = FindEnvironment(name);
  if (!current) return nullptr;
  const Environment* best = nullptr;
  for (const auto& e : environments) {
    if (e.order < current->order && (!best || e.order > best->order)) best = &e;
  }
  return best;
}

bool Config::PersonHasRole(std::string_view person, std::string_view role) const {
  const Person* p = FindPerson(person);
  return p && std::find(p->roles.begin(), p->roles.end(), role) != p->roles.end();
}

std::pair<std::string, std::string> System::DatabaseFor(std::string_view environment) const {
  auto it = environment_databases.find(std::string(environment));
  if (it != environment_databases.end()) return it->second;
  return {database_url, database_password};
}

const SystemHost* System::HostsIn(std::string_view environment) const {
  for (const SystemHost& entry : hosts) {
    if (entry.environment == environment) return &entry;
  }
  return nullptr;
}

}  // namespace rollgate
