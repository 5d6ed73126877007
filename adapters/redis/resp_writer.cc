#include "adapters/redis/resp_writer.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace ekv::redis {
namespace {

// Simple strings and errors are one line: a CR or LF inside would end the reply early
// and desynchronize the client, so they become spaces (Redis does the same).
void AppendOneLine(std::string* out, absl::string_view text) {
  for (char c : text) out->push_back(c == '\r' || c == '\n' ? ' ' : c);
}

}  // namespace

void RespWriter::SimpleString(absl::string_view text) {
  out_.push_back('+');
  AppendOneLine(&out_, text);
  out_.append("\r\n");
}

void RespWriter::Error(absl::string_view message) {
  out_.push_back('-');
  AppendOneLine(&out_, message);
  out_.append("\r\n");
}

void RespWriter::Integer(int64_t value) { absl::StrAppend(&out_, ":", value, "\r\n"); }

void RespWriter::Bulk(absl::string_view bytes) {
  absl::StrAppend(&out_, "$", bytes.size(), "\r\n");
  out_.append(bytes.data(), bytes.size());
  out_.append("\r\n");
}

void RespWriter::Null() { out_.append(resp3_ ? "_\r\n" : "$-1\r\n"); }

void RespWriter::NullArray() { out_.append(resp3_ ? "_\r\n" : "*-1\r\n"); }

void RespWriter::Double(double value) {
  std::string text;
  if (std::isinf(value)) {
    text = value > 0 ? "inf" : "-inf";
  } else {
    char buffer[64];
    const int n = std::snprintf(buffer, sizeof(buffer), "%.17g", value);
    text.assign(buffer, n > 0 ? static_cast<size_t>(n) : 0);
  }
  DoubleText(text);
}

void RespWriter::DoubleText(absl::string_view text) {
  if (!resp3_) return Bulk(text);
  absl::StrAppend(&out_, ",", text, "\r\n");
}

void RespWriter::ArrayHeader(size_t count) { absl::StrAppend(&out_, "*", count, "\r\n"); }

void RespWriter::MapHeader(size_t pairs) {
  if (resp3_) {
    absl::StrAppend(&out_, "%", pairs, "\r\n");
  } else {
    absl::StrAppend(&out_, "*", 2 * pairs, "\r\n");
  }
}

void RespWriter::SetHeader(size_t count) {
  absl::StrAppend(&out_, resp3_ ? "~" : "*", count, "\r\n");
}

void RespWriter::Verbatim(absl::string_view text) { Verbatim("txt", text); }

void RespWriter::Verbatim(absl::string_view format, absl::string_view text) {
  if (!resp3_) return Bulk(text);
  absl::StrAppend(&out_, "=", text.size() + 4, "\r\n", format, ":");
  out_.append(text.data(), text.size());
  out_.append("\r\n");
}

void RespWriter::Bool(bool value) {
  if (resp3_) {
    out_.append(value ? "#t\r\n" : "#f\r\n");
  } else {
    out_.append(value ? ":1\r\n" : ":0\r\n");
  }
}

void RespWriter::BigNumber(absl::string_view digits) {
  if (!resp3_) return Bulk(digits);
  out_.push_back('(');
  AppendOneLine(&out_, digits);
  out_.append("\r\n");
}

void RespWriter::PushHeader(size_t count) {
  absl::StrAppend(&out_, resp3_ ? ">" : "*", count, "\r\n");
}

std::string ErrorReply(absl::string_view message) {
  RespWriter writer(2);
  writer.Error(message);
  return writer.Take();
}

std::string SimpleStringReply(absl::string_view text) {
  RespWriter writer(2);
  writer.SimpleString(text);
  return writer.Take();
}

std::string IntegerReply(int64_t value) {
  RespWriter writer(2);
  writer.Integer(value);
  return writer.Take();
}

}  // namespace ekv::redis
