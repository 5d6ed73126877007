#include "adapters/redis/resp_writer.h"

#include "gtest/gtest.h"

namespace ekv::redis {
namespace {

TEST(RespWriterTest, Resp2Shapes) {
  RespWriter w(2);
  w.SimpleString("OK");
  w.Error("ERR bad\r\nthing");
  w.Integer(-7);
  w.Bulk(std::string("a\0b", 3));
  w.Bulk("");
  w.Null();
  w.ArrayHeader(2);
  w.MapHeader(2);
  w.SetHeader(3);
  EXPECT_EQ(w.bytes(), std::string("+OK\r\n-ERR bad  thing\r\n:-7\r\n$3\r\na\0b\r\n$0\r\n\r\n"
                                   "$-1\r\n*2\r\n*4\r\n*3\r\n",
                                   59));
}

TEST(RespWriterTest, Resp3Shapes) {
  RespWriter w(3);
  w.Null();
  w.MapHeader(2);
  w.SetHeader(3);
  w.ArrayHeader(1);
  EXPECT_EQ(w.bytes(), "_\r\n%2\r\n~3\r\n*1\r\n");
}

}  // namespace
}  // namespace ekv::redis
