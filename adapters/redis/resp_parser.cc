#include "adapters/redis/resp_parser.h"

#include <cctype>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ekv::redis {

bool ParseRedisInt64(absl::string_view text, long long* value) {
  if (text.empty() || text.size() > 20) return false;
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    i = 1;
    if (text.size() == 1) return false;
  }
  if (text.size() == 1 && text[0] == '0') {
    *value = 0;
    return true;
  }
  // Like string2ll: the first digit is 1-9, so "007" and "-0" are not integers.
  if (text[i] < '1' || text[i] > '9') return false;
  unsigned long long magnitude = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return false;
    const unsigned long long digit = static_cast<unsigned long long>(c - '0');
    if (magnitude > (std::numeric_limits<unsigned long long>::max() - digit) / 10) return false;
    magnitude = magnitude * 10 + digit;
  }
  const unsigned long long max_positive = std::numeric_limits<long long>::max();
  if (negative) {
    if (magnitude > max_positive + 1) return false;
    *value = magnitude == max_positive + 1 ? std::numeric_limits<long long>::min()
                                           : -static_cast<long long>(magnitude);
  } else {
    if (magnitude > max_positive) return false;
    *value = static_cast<long long>(magnitude);
  }
  return true;
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

}  // namespace

bool SplitInlineArguments(absl::string_view line, std::vector<std::string>* args) {
  args->clear();
  size_t p = 0;
  while (true) {
    while (p < line.size() && IsSpace(line[p])) ++p;
    if (p == line.size()) return true;
    std::string current;
    bool in_double = false;
    bool in_single = false;
    bool done = false;
    while (!done) {
      if (in_double) {
        if (p == line.size()) return false;  // unterminated quotes
        if (line[p] == '\\' && p + 3 < line.size() && line[p + 1] == 'x' &&
            HexValue(line[p + 2]) >= 0 && HexValue(line[p + 3]) >= 0) {
          current.push_back(static_cast<char>(HexValue(line[p + 2]) * 16 + HexValue(line[p + 3])));
          p += 3;
        } else if (line[p] == '\\' && p + 1 < line.size()) {
          ++p;
          char c = line[p];
          switch (c) {
            case 'n':
              c = '\n';
              break;
            case 'r':
              c = '\r';
              break;
            case 't':
              c = '\t';
              break;
            case 'b':
              c = '\b';
              break;
            case 'a':
              c = '\a';
              break;
            default:
              break;
          }
          current.push_back(c);
        } else if (line[p] == '"') {
          // The closing quote must end the word.
          if (p + 1 < line.size() && !IsSpace(line[p + 1])) return false;
          done = true;
        } else {
          current.push_back(line[p]);
        }
      } else if (in_single) {
        if (p == line.size()) return false;
        if (line[p] == '\\' && p + 1 < line.size() && line[p + 1] == '\'') {
          ++p;
          current.push_back('\'');
        } else if (line[p] == '\'') {
          if (p + 1 < line.size() && !IsSpace(line[p + 1])) return false;
          done = true;
        } else {
          current.push_back(line[p]);
        }
      } else {
        if (p == line.size()) break;
        switch (line[p]) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0':
            done = true;
            break;
          case '"':
            in_double = true;
            break;
          case '\'':
            in_single = true;
            break;
          default:
            current.push_back(line[p]);
        }
      }
      if (p < line.size()) ++p;
    }
    args->push_back(std::move(current));
  }
}

RespParser::Result RespParser::Fail(std::string message) {
  error_ = std::move(message);
  args_.clear();
  return Result::kError;
}

RespParser::Result RespParser::ParseInline(absl::string_view input, size_t* consumed) {
  const size_t newline = input.find('\n');
  if (newline == absl::string_view::npos) {
    if (input.size() > limits_.max_line_bytes) {
      return Fail("Protocol error: too big inline request");
    }
    return Result::kNeedMore;
  }
  if (newline > limits_.max_line_bytes) return Fail("Protocol error: too big inline request");
  absl::string_view line = input.substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  *consumed += newline + 1;
  if (!SplitInlineArguments(line, &args_)) {
    return Fail("Protocol error: unbalanced quotes in request");
  }
  if (args_.size() > limits_.max_arguments) return Fail("Protocol error: invalid multibulk length");
  return args_.empty() ? Result::kNeedMore : Result::kCommand;
}

RespParser::Result RespParser::Parse(absl::string_view input, size_t* consumed) {
  *consumed = 0;
  if (failed()) return Result::kError;
  while (true) {
    absl::string_view rest = input.substr(*consumed);
    switch (state_) {
      case State::kStart: {
        if (rest.empty()) return Result::kNeedMore;
        if (rest[0] != '*') {
          const size_t before = *consumed;
          Result r = ParseInline(rest, consumed);
          // A blank line is skipped; look for the next command.
          if (r == Result::kNeedMore && *consumed > before) continue;
          return r;
        }
        const size_t newline = rest.find("\r\n");
        if (newline == absl::string_view::npos) {
          if (rest.size() > limits_.max_line_bytes) {
            return Fail("Protocol error: too big mbulk count string");
          }
          return Result::kNeedMore;
        }
        if (newline > limits_.max_line_bytes) {
          return Fail("Protocol error: too big mbulk count string");
        }
        long long count = 0;
        if (!ParseRedisInt64(rest.substr(1, newline - 1), &count) ||
            (count > 0 && static_cast<unsigned long long>(count) > limits_.max_arguments)) {
          return Fail("Protocol error: invalid multibulk length");
        }
        // Before AUTH, Redis bounds what a stranger can make it allocate (CVE-2021-32675).
        if (unauthenticated_ && count > kUnauthenticatedMaxArguments) {
          return Fail("Protocol error: unauthenticated multibulk length");
        }
        *consumed += newline + 2;
        if (count <= 0) continue;  // "*0" and "*-1" are empty requests: no reply
        args_.clear();
        command_bytes_ = 0;
        arguments_left_ = static_cast<size_t>(count);
        state_ = State::kArgumentHeader;
        break;
      }
      case State::kArgumentHeader: {
        if (rest.empty()) return Result::kNeedMore;
        if (rest[0] != '$') {
          return Fail(absl::StrCat("Protocol error: expected '$', got '", rest.substr(0, 1), "'"));
        }
        const size_t newline = rest.find("\r\n");
        if (newline == absl::string_view::npos) {
          if (rest.size() > limits_.max_line_bytes) {
            return Fail("Protocol error: too big bulk count string");
          }
          return Result::kNeedMore;
        }
        if (newline > limits_.max_line_bytes) {
          return Fail("Protocol error: too big bulk count string");
        }
        long long length = 0;
        if (!ParseRedisInt64(rest.substr(1, newline - 1), &length) || length < 0 ||
            static_cast<unsigned long long>(length) > limits_.max_bulk_bytes) {
          return Fail("Protocol error: invalid bulk length");
        }
        if (unauthenticated_ && static_cast<size_t>(length) > kUnauthenticatedMaxBulkBytes) {
          return Fail("Protocol error: unauthenticated bulk length");
        }
        if (command_bytes_ + static_cast<size_t>(length) > limits_.max_command_bytes) {
          return Fail(absl::StrCat("Protocol error: command larger than ",
                                   limits_.max_command_bytes, " bytes"));
        }
        *consumed += newline + 2;
        bulk_bytes_ = static_cast<size_t>(length);
        state_ = State::kArgumentBody;
        break;
      }
      case State::kArgumentBody: {
        // Wait for the whole argument and its CRLF: an argument is copied once, whole.
        if (rest.size() < bulk_bytes_ + 2) return Result::kNeedMore;
        if (rest[bulk_bytes_] != '\r' || rest[bulk_bytes_ + 1] != '\n') {
          return Fail("Protocol error: bulk argument not followed by CRLF");
        }
        args_.emplace_back(rest.substr(0, bulk_bytes_));
        command_bytes_ += bulk_bytes_;
        *consumed += bulk_bytes_ + 2;
        if (--arguments_left_ == 0) {
          state_ = State::kStart;
          return Result::kCommand;
        }
        state_ = State::kArgumentHeader;
        break;
      }
    }
  }
}

}  // namespace ekv::redis
