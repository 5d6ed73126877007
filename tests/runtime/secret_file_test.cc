// ReadSecretFile: the one rule for key, token, password and credentials files.
#include "runtime/secrets/secret_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/runtime/temp_dir.h"

namespace ekv::runtime {
namespace {

std::string Write(const std::string& path, const std::string& contents, mode_t mode) {
  std::ofstream(path, std::ios::binary) << contents;
  EXPECT_EQ(chmod(path.c_str(), mode), 0) << path;
  return path;
}

TEST(SecretFileTest, OwnerOnlyFilesAreReadWhole) {
  TempDir dir;
  const std::string contents("line one\nsecret\0with a zero byte\n", 34);
  EXPECT_EQ(*ReadSecretFile(Write(dir.Child("a"), contents, 0600), "a key"), contents);
  EXPECT_EQ(*ReadSecretFile(Write(dir.Child("b"), contents, 0400), "a key"), contents);
  // Writable by others is a different problem (who may replace it) and not this check's.
  EXPECT_EQ(*ReadSecretFile(Write(dir.Child("c"), "x", 0622), "a key"), "x");
  EXPECT_EQ(*ReadSecretFile(Write(dir.Child("empty"), "", 0600), "a key"), "");
}

TEST(SecretFileTest, GroupOrOtherReadableFilesAreRefusedWithoutTheirContents) {
  TempDir dir;
  for (mode_t mode : {0640, 0604, 0644, 0660, 0444}) {
    const std::string path = Write(dir.Child("secret"), "hunter2", mode);
    absl::StatusOr<std::string> read = ReadSecretFile(path, "passwords");
    ASSERT_FALSE(read.ok()) << std::oct << mode;
    EXPECT_TRUE(absl::IsInvalidArgument(read.status()));
    char expected[64];
    snprintf(expected, sizeof(expected), "(mode %04o)", mode);
    EXPECT_EQ(read.status().message(),
              absl::StrCat(path, " is readable by users other than its owner ", expected,
                           "; refusing passwords others can read (chmod 600 it)"));
    EXPECT_EQ(read.status().message().find("hunter2"), std::string::npos);
  }
}

TEST(SecretFileTest, MissingDirectoriesFifosAndHugeFilesAreRefused) {
  TempDir dir;
  absl::StatusOr<std::string> missing = ReadSecretFile(dir.Child("none"), "a token");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            absl::StrCat("cannot read ", dir.Child("none"), ": No such file or directory"));
  EXPECT_EQ(ReadSecretFile(dir.path(), "a token").status().message(),
            absl::StrCat(dir.path(), " is not a regular file"));
  const std::string fifo = dir.Child("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // Must not block waiting for a writer.
  EXPECT_EQ(ReadSecretFile(fifo, "a token").status().message(),
            absl::StrCat(fifo, " is not a regular file"));
  const std::string big = Write(dir.Child("big"), std::string(kMaxSecretFileBytes + 1, 'k'), 0600);
  EXPECT_EQ(ReadSecretFile(big, "a token").status().message(),
            absl::StrCat(big, " is larger than ", kMaxSecretFileBytes, " bytes"));
  const std::string limit = Write(dir.Child("limit"), std::string(kMaxSecretFileBytes, 'k'), 0600);
  EXPECT_EQ(ReadSecretFile(limit, "a token")->size(), kMaxSecretFileBytes);
}

}  // namespace
}  // namespace ekv::runtime
