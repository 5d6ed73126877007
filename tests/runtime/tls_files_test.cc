// The TLS flag rules: both or neither of cert and key, a CA only with them, files that
// can be read, and a key only its owner can read.
#include "runtime/metrics/tls_files.h"

#include <sys/stat.h>

#include <fstream>
#include <string>

#include <httplib.h>

#include "gtest/gtest.h"
#include "tests/runtime/temp_dir.h"

namespace ekv::runtime::metrics {
namespace {

std::string Write(const std::string& path, mode_t mode) {
  std::ofstream(path) << "-----BEGIN TEST-----\n";
  chmod(path.c_str(), mode);
  return path;
}

TEST(TlsFilesTest, FlagRules) {
  EXPECT_TRUE(ValidateTlsFiles({}).ok());
  EXPECT_EQ(ValidateTlsFiles({"cert.pem", "", ""}).message(),
            "--tls_cert_file and --tls_key_file go together: give both or neither");
  EXPECT_EQ(ValidateTlsFiles({"", "", "ca.pem"}).message(),
            "--tls_ca_file needs --tls_cert_file and --tls_key_file");
}

TEST(TlsFilesTest, FilesMustBeReadableAndTheKeyPrivate) {
  TempDir dir;
  const std::string cert = Write(dir.Child("cert.pem"), 0644);
  const std::string key = Write(dir.Child("key.pem"), 0600);
  const std::string ca = Write(dir.Child("ca.pem"), 0644);
  EXPECT_TRUE(ValidateTlsFiles({cert, key, ca}).ok());
  absl::Status group = ValidateTlsFiles({cert, Write(dir.Child("group.pem"), 0640), ""});
  EXPECT_NE(group.message().find("--tls_key_file: "), std::string::npos) << group;
  EXPECT_NE(group.message().find("is readable by users other than its owner (mode 0640)"),
            std::string::npos)
      << group;
  absl::Status open = ValidateTlsFiles({cert, Write(dir.Child("open.pem"), 0644), ""});
  EXPECT_TRUE(absl::IsInvalidArgument(open));
  EXPECT_NE(open.message().find("is readable by users other than its owner (mode 0644)"),
            std::string::npos)
      << open;
  absl::Status missing = ValidateTlsFiles({dir.Child("none.pem"), key, ""});
  EXPECT_NE(missing.message().find("--tls_cert_file: cannot read"), std::string::npos) << missing;
  EXPECT_NE(ValidateTlsFiles({cert, key, dir.Child("none.pem")})
                .message()
                .find("--tls_ca_file: cannot read"),
            std::string::npos);
}

TEST(TlsFilesTest, NewHttpServerRefusesFilesThatAreNotAKeyPair) {
  TempDir dir;
  const std::string cert = Write(dir.Child("cert.pem"), 0644);
  const std::string key = Write(dir.Child("key.pem"), 0600);
  EXPECT_TRUE(NewHttpServer({}).ok());
  absl::StatusOr<std::unique_ptr<httplib::Server>> server = NewHttpServer({cert, key, ""});
  EXPECT_FALSE(server.ok());
}

}  // namespace
}  // namespace ekv::runtime::metrics
