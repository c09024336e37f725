// Signs with Debian's real `minisign` tool in a temporary directory and verifies with Rollgate.
#include "intake/minisign.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>

#include "common/strings.h"

extern char** environ;

namespace rollgate {
namespace {

using ::testing::HasSubstr;

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteText(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// Runs a program without a shell, stdin and stdout/stderr on /dev/null; its exit code.
int RunProgram(std::vector<std::string> args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int error = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::filesystem::path MakeTempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "rollgate-minisign-XXXXXX").string();
  return mkdtemp(pattern.data());
}

class MinisignTest : public ::testing::Test {
 protected:
  // The two key pairs are generated once and shared by the suite.
  static void SetUpTestSuite() {
    keys_dir_ = new std::filesystem::path(MakeTempDir());
    ASSERT_EQ(RunProgram({"minisign", "-v"}), 0)
        << "the minisign tool is required (apt install minisign)";
    for (const char* name : {"release", "other"}) {
      ASSERT_EQ(RunProgram({"minisign", "-G", "-W", "-p",
                            (*keys_dir_ / (std::string(name) + ".pub")).string(), "-s",
                            (*keys_dir_ / (std::string(name) + ".key")).string()}),
                0);
    }
  }
  static void TearDownTestSuite() {
    std::error_code error;
    std::filesystem::remove_all(*keys_dir_, error);
    delete keys_dir_;
    keys_dir_ = nullptr;
  }

  void SetUp() override {
    dir_ = MakeTempDir();
    package_ = dir_ / "app-1.2.tar.gz";
    WriteText(package_, "pretend this is a tarball, version 1.2\n");
  }
  void TearDown() override {
    std::error_code error;
    std::filesystem::remove_all(dir_, error);
  }

  // Signs `file` with key `name`; extra flags such as "-l" (legacy) or "-t comment".
  std::filesystem::path Sign(const std::filesystem::path& file, const std::string& name,
                             std::vector<std::string> extra = {}) {
    std::filesystem::path signature = file.string() + "." + name + ".minisig";
    std::vector<std::string> args = {
        "minisign", "-S",          "-s", (*keys_dir_ / (name + ".key")).string(),
        "-m",       file.string(), "-x", signature.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    EXPECT_EQ(RunProgram(args), 0);
    return signature;
  }

  TrustedKey Key(const std::string& name) {
    Result<TrustedKey> key = LoadTrustedKeyFile(*keys_dir_ / (name + ".pub"));
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    return key.value_or(TrustedKey{});
  }

  // The key id minisign printed in the public key's comment.
  std::string MinisignKeyId(const std::string& name) {
    std::string first_line = Split(ReadText(*keys_dir_ / (name + ".pub")), '\n')[0];
    return first_line.substr(first_line.rfind(' ') + 1);
  }

  // Replaces line `index` (0-based) of a signature file.
  void EditLine(const std::filesystem::path& signature, size_t index,
                const std::function<void(std::string&)>& edit) {
    std::vector<std::string> lines = Split(ReadText(signature), '\n');
    edit(lines.at(index));
    WriteText(signature, Join(lines, "\n"));
  }

  static inline std::filesystem::path* keys_dir_ = nullptr;
  std::filesystem::path dir_;
  std::filesystem::path package_;
};

TEST_F(MinisignTest, ParsesKeyFilesAndBase64LinesWithMinisignsKeyId) {
  TrustedKey from_file = Key("release");
  EXPECT_EQ(from_file.key_id, MinisignKeyId("release"));
  EXPECT_THAT(from_file.comment, HasSubstr("minisign public key"));
  std::string base64_line = Split(ReadText(*keys_dir_ / "release.pub"), '\n')[1];
  Result<TrustedKey> from_line = ParseTrustedKey("  " + base64_line + "\n");
  ASSERT_TRUE(from_line.ok()) << from_line.status().ToString();
  EXPECT_EQ(from_line->key_id, from_file.key_id);
  EXPECT_EQ(from_line->public_key, from_file.public_key);
}

TEST(MinisignKeyIdTest, PrintsKeyIdsLikeMinisignWithoutLeadingZeros) {
  // Key number bytes 90 43 C1 79 5E 0C 0C 00: the little-endian value 0x000C0C5E79C14390.
  Result<TrustedKey> key =
      ParseTrustedKey("RWSQQ8F5XgwMAAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->key_id, "C0C5E79C14390");
  EXPECT_EQ(key->public_key[31], 31);
}

TEST_F(MinisignTest, RefusesTextThatIsNotAPublicKey) {
  for (std::string_view text : {"", "hello", "RWQ!!!!", "untrusted comment: x\n",
                                "RWT4pMm9TA4UFQOXN4IfhlzrtvSVlXZ71Ea/m0bqojZkD0YZ", "a\nb\nc\n"}) {
    Result<TrustedKey> key = ParseTrustedKey(text);
    ASSERT_FALSE(key.ok()) << text;
    EXPECT_EQ(key.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(key.error().message(), HasSubstr("not a minisign public key"));
  }
  // A valid base64 blob of the right length whose algorithm is not Ed25519.
  Result<TrustedKey> wrong_algorithm =
      ParseTrustedKey("WFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhY");
  ASSERT_FALSE(wrong_algorithm.ok());
  Result<TrustedKey> missing = LoadTrustedKeyFile(dir_ / "absent.pub");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

TEST_F(MinisignTest, AcceptsAValidPrehashedSignature) {
  auto signature = Sign(package_, "release", {"-t", "rollgate release 1.2"});
  Result<SignatureCheck> check =
      VerifyMinisign(package_, signature, {Key("other"), Key("release")});
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_EQ(check->key_id, MinisignKeyId("release"));
  EXPECT_EQ(check->trusted_comment, "rollgate release 1.2");
  EXPECT_TRUE(check->prehashed);
}

TEST_F(MinisignTest, AcceptsAValidLegacySignature) {
  auto signature = Sign(package_, "release", {"-l"});
  Result<SignatureCheck> check = VerifyMinisign(package_, signature, {Key("release")});
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_FALSE(check->prehashed);
  EXPECT_THAT(check->trusted_comment, HasSubstr("file:"));
}

TEST_F(MinisignTest, RefusesASignatureByAnUnknownKey) {
  auto signature = Sign(package_, "other");
  Result<SignatureCheck> check = VerifyMinisign(package_, signature, {Key("release")});
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.error().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(check.error().message(),
              HasSubstr("signed by unknown key " + MinisignKeyId("other")));
  EXPECT_THAT(check.error().message(), HasSubstr(MinisignKeyId("release")));

  Result<SignatureCheck> no_keys = VerifyMinisign(package_, signature, {});
  ASSERT_FALSE(no_keys.ok());
  EXPECT_THAT(no_keys.error().message(), HasSubstr("trusted keys: none"));
}

TEST_F(MinisignTest, RefusesTheSignatureOfAnotherFile) {
  auto other_file = dir_ / "other.tar.gz";
  WriteText(other_file, "a different package\n");
  auto signature = Sign(other_file, "release");
  for (bool legacy : {false, true}) {
    auto used = legacy ? Sign(other_file, "release", {"-l"}) : signature;
    Result<SignatureCheck> check = VerifyMinisign(package_, used, {Key("release")});
    ASSERT_FALSE(check.ok());
    EXPECT_EQ(check.error().code(), StatusCode::kPermissionDenied);
    EXPECT_THAT(check.error().message(), HasSubstr("signature does not match the file"));
  }
}

TEST_F(MinisignTest, RefusesAnOlderSignedVersionOfTheFile) {
  auto signature = Sign(package_, "release");
  ASSERT_TRUE(VerifyMinisign(package_, signature, {Key("release")}).ok());
  WriteText(package_, "pretend this is a tarball, version 1.3 (not the signed one)\n");
  Result<SignatureCheck> check = VerifyMinisign(package_, signature, {Key("release")});
  ASSERT_FALSE(check.ok());
  EXPECT_THAT(check.error().message(), HasSubstr("signature does not match the file"));
}

TEST_F(MinisignTest, RefusesACorruptedSignature) {
  auto signature = Sign(package_, "release");
  // Change one base64 character inside the 64 signature bytes (after the key id).
  EditLine(signature, 1, [](std::string& line) { line[50] = line[50] == 'A' ? 'B' : 'A'; });
  Result<SignatureCheck> check = VerifyMinisign(package_, signature, {Key("release")});
  ASSERT_FALSE(check.ok());
  EXPECT_THAT(check.error().message(), HasSubstr("signature does not match the file"));
}

TEST_F(MinisignTest, RefusesACorruptedTrustedComment) {
  auto signature = Sign(package_, "release", {"-t", "approved for TEST only"});
  EditLine(signature, 2, [](std::string& line) { line = "trusted comment: approved for PROD"; });
  Result<SignatureCheck> check = VerifyMinisign(package_, signature, {Key("release")});
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.error().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(check.error().message(), HasSubstr("trusted comment signature invalid"));
}

TEST_F(MinisignTest, RefusesAKeyThatOnlyClaimsTheRightKeyId) {
  auto signature = Sign(package_, "release");
  TrustedKey impostor = Key("other");
  impostor.key_number = Key("release").key_number;
  Result<SignatureCheck> check = VerifyMinisign(package_, signature, {impostor});
  ASSERT_FALSE(check.ok());
  EXPECT_THAT(check.error().message(), HasSubstr("signature does not match the file"));
}

TEST_F(MinisignTest, RefusesMalformedSignatureFiles) {
  auto good = Sign(package_, "release");
  std::vector<std::string> lines = Split(ReadText(good), '\n');
  auto bad = dir_ / "bad.minisig";
  const std::vector<std::string> broken = {
      "",
      "not a signature at all",
      lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n",  // global signature missing
      lines[0] + "\n" + "!!!!" + "\n" + lines[2] + "\n" + lines[3] + "\n",
      lines[0] + "\n" + lines[1].substr(0, 40) + "\n" + lines[2] + "\n" + lines[3] + "\n",
      lines[0] + "\n" + lines[1] + "\n" + "comment: x" + "\n" + lines[3] + "\n",
      "comment\n" + lines[1] + "\n" + lines[2] + "\n" + lines[3] + "\n",
      lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n" + lines[3].substr(2) + "\n",
      std::string(100'000, 'x'),
  };
  for (const std::string& text : broken) {
    WriteText(bad, text);
    Result<SignatureCheck> check = VerifyMinisign(package_, bad, {Key("release")});
    ASSERT_FALSE(check.ok()) << text.substr(0, 200);
    EXPECT_EQ(check.error().code(), StatusCode::kInvalidArgument) << text.substr(0, 200);
  }
  WriteText(bad, lines[0] + "\r\n" + lines[1] + "\r\n" + lines[2] + "\r\n" + lines[3] + "\r\n");
  EXPECT_TRUE(VerifyMinisign(package_, bad, {Key("release")}).ok()) << "CRLF line ends";
  Result<SignatureCheck> missing =
      VerifyMinisign(package_, dir_ / "absent.minisig", {Key("release")});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace rollgate
