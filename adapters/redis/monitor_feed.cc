#include "adapters/redis/monitor_feed.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "adapters/redis/acl_catalog.h"
#include "adapters/redis/command_table.h"

namespace ekv::redis {

namespace {

bool InAdminCategory(absl::string_view full_name) {
  static const size_t kAdmin = *AclCatalog::CategoryIndex("admin");
  const AclCatalog& catalog = AclCatalog::Get();
  const std::optional<size_t> id = catalog.Find(full_name);
  return id.has_value() && (catalog.categories(*id) & (uint32_t{1} << kAdmin)) != 0;
}

// Redis's sdscatrepr: quoted, with \\ \" \n \r \t \a \b escaped, other unprintable bytes
// as \xHH.
void AppendRepr(std::string* out, absl::string_view arg) {
  out->push_back('"');
  for (const char c : arg) {
    switch (c) {
      case '\\':
      case '"':
        out->push_back('\\');
        out->push_back(c);
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\a':
        out->append("\\a");
        break;
      case '\b':
        out->append("\\b");
        break;
      default:
        if (std::isprint(static_cast<unsigned char>(c))) {
          out->push_back(c);
        } else {
          absl::StrAppendFormat(out, "\\x%02x", static_cast<unsigned char>(c));
        }
    }
  }
  out->push_back('"');
}

}  // namespace

bool ShownToMonitors(const CommandSpec& spec, const std::vector<std::string>& args) {
  if (spec.flags & kFlagAdmin) return false;
  if (InAdminCategory(spec.name)) return false;
  if (args.size() >= 2) {
    const std::string sub = absl::StrCat(spec.name, "|", absl::AsciiStrToLower(args[1]));
    if (InAdminCategory(sub)) return false;
  }
  return true;
}

std::vector<std::string> RedactedForMonitors(const std::vector<std::string>& args) {
  std::vector<std::string> shown = args;
  if (shown.empty()) return shown;
  static const std::string kRedacted = "(redacted)";
  const std::string name = absl::AsciiStrToLower(shown[0]);
  if (name == "auth" && shown.size() <= 3) {
    // AUTH password | AUTH username password: Redis always redacts argument 1, and the
    // password of the two-argument form.
    if (shown.size() >= 2) shown[1] = kRedacted;
    if (shown.size() == 3) shown[2] = kRedacted;
  } else if (name == "acl" && shown.size() >= 3 && absl::EqualsIgnoreCase(shown[1], "setuser")) {
    // ACL SETUSER: the user name and every rule (aclCommand redacts them all first).
    for (size_t j = 2; j < shown.size(); ++j) shown[j] = kRedacted;
  } else if (name == "config" && shown.size() >= 4 && absl::EqualsIgnoreCase(shown[1], "set")) {
    // CONFIG SET: the values of Redis's SENSITIVE_CONFIG settings, wherever they stand.
    for (size_t j = 2; j + 1 < shown.size(); j += 2) {
      if (absl::EqualsIgnoreCase(shown[j], "requirepass") ||
          absl::EqualsIgnoreCase(shown[j], "masterauth") ||
          absl::EqualsIgnoreCase(shown[j], "masteruser")) {
        shown[j + 1] = kRedacted;
      }
    }
  } else if (name == "hello" && shown.size() >= 2) {
    // Redacted as HELLO goes through its options, after a valid protocol version.
    int64_t version = 0;
    if (!absl::SimpleAtoi(shown[1], &version) || version < 2 || version > 3) return shown;
    for (size_t j = 2; j < shown.size(); ++j) {
      const size_t more = shown.size() - 1 - j;
      if (absl::EqualsIgnoreCase(shown[j], "auth") && more >= 2) {
        shown[j + 1] = kRedacted;
        shown[j + 2] = kRedacted;
        j += 2;
      } else if (absl::EqualsIgnoreCase(shown[j], "setname") && more >= 1) {
        ++j;
      } else {
        break;
      }
    }
  }
  return shown;
}

std::string MonitorLine(int64_t unix_micros, absl::string_view peer,
                        const std::vector<std::string>& args) {
  std::string line =
      absl::StrFormat("+%d.%06d [0 %s] ", unix_micros / 1000000, unix_micros % 1000000, peer);
  for (size_t j = 0; j < args.size(); ++j) {
    if (j > 0) line.push_back(' ');
    AppendRepr(&line, args[j]);
  }
  line.append("\r\n");
  return line;
}

}  // namespace ekv::redis
