// CommandTable: request parsing, validation and dispatch (no sockets).
#include "ctrl/protocol.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace vsgate {
namespace {

Json parse_reply(const std::string& line) {
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  return Json::parse(line);
}

// The error message of an error reply ("" and a test failure when the reply is ok).
std::string error_of(const std::string& line) {
  Json reply = parse_reply(line);
  EXPECT_EQ(reply.at("ok"), false) << line;
  EXPECT_FALSE(reply.contains("result")) << line;
  return reply.value("error", "");
}

class ProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    table_.add("echo", [](const Json& args) -> Result<Json> { return Json{{"args", args}}; });
    table_.add("port.stats", [](const Json& args) -> Result<Json> {
      auto name = optional_string_arg(args, "name");
      if (!name) return name.error();
      if (name->has_value() && **name != "dpdk0") return make_error("no such port: " + **name);
      return Json{{"ports", Json::array({{{"name", "dpdk0"}}})}};
    });
    table_.add("fail", [](const Json&) -> Result<Json> { return make_error("it failed"); });
    table_.add("throw.std", [](const Json&) -> Result<Json> { throw std::runtime_error("boom"); });
    table_.add("throw.json", [](const Json& args) -> Result<Json> {
      return Json(args.at("missing").get<int>());  // throws out_of_range
    });
    table_.add("throw.int", [](const Json&) -> Result<Json> { throw 42; });
  }
  CommandTable table_;
};

TEST_F(ProtocolTest, ValidRequestWithArgs) {
  Json reply = parse_reply(table_.dispatch(R"({"cmd":"echo","args":{"a":1,"b":"x"}})"));
  EXPECT_EQ(reply["ok"], true);
  EXPECT_EQ(reply["result"]["args"], (Json{{"a", 1}, {"b", "x"}}));
  EXPECT_FALSE(reply.contains("error"));
}

TEST_F(ProtocolTest, ArgsAbsentOrNullIsEmptyObject) {
  for (const char* req :
       {R"({"cmd":"echo"})", R"({"cmd":"echo","args":null})", R"({"args":{},"cmd":"echo"})"}) {
    Json reply = parse_reply(table_.dispatch(req));
    EXPECT_EQ(reply["ok"], true) << req;
    EXPECT_EQ(reply["result"]["args"], Json::object()) << req;
  }
}

TEST_F(ProtocolTest, ToleratesSurroundingWhitespaceAndCr) {
  Json reply = parse_reply(table_.dispatch("  {\"cmd\": \"echo\"} \r"));
  EXPECT_EQ(reply["ok"], true);
}

TEST_F(ProtocolTest, HandlerResultAndErrorThroughArgHelper) {
  Json reply = parse_reply(table_.dispatch(R"({"cmd":"port.stats","args":{"name":"dpdk0"}})"));
  EXPECT_EQ(reply["result"]["ports"][0]["name"], "dpdk0");
  EXPECT_EQ(error_of(table_.dispatch(R"({"cmd":"port.stats","args":{"name":"dpdk9"}})")),
            "no such port: dpdk9");
  EXPECT_EQ(error_of(table_.dispatch(R"({"cmd":"port.stats","args":{"name":7}})")),
            "argument 'name' must be a string");
}

TEST_F(ProtocolTest, MalformedJson) {
  for (const char* req :
       {"{", "{\"cmd\":", "not json", "", "{\"cmd\":\"echo\"} trailing", "{\"cmd\":\"echo\",}"}) {
    std::string msg = error_of(table_.dispatch(req));
    EXPECT_TRUE(msg.starts_with("malformed request: ")) << req << " -> " << msg;
  }
}

TEST_F(ProtocolTest, InvalidUtf8IsMalformed) {
  std::string msg = error_of(table_.dispatch("{\"cmd\":\"e\xff\"}"));
  EXPECT_TRUE(msg.starts_with("malformed request: ")) << msg;
}

TEST_F(ProtocolTest, NonObjectRequest) {
  EXPECT_EQ(error_of(table_.dispatch("[1,2]")),
            "malformed request: expected a JSON object, got array");
  EXPECT_EQ(error_of(table_.dispatch("\"echo\"")),
            "malformed request: expected a JSON object, got string");
  EXPECT_EQ(error_of(table_.dispatch("null")),
            "malformed request: expected a JSON object, got null");
}

TEST_F(ProtocolTest, CmdMissingOrNotString) {
  EXPECT_EQ(error_of(table_.dispatch("{}")), "malformed request: missing 'cmd'");
  EXPECT_EQ(error_of(table_.dispatch(R"({"args":{}})")), "malformed request: missing 'cmd'");
  EXPECT_EQ(error_of(table_.dispatch(R"({"cmd":1})")), "malformed request: 'cmd' must be a string");
  EXPECT_EQ(error_of(table_.dispatch(R"({"cmd":null})")),
            "malformed request: 'cmd' must be a string");
}

TEST_F(ProtocolTest, UnknownCommand) {
  EXPECT_EQ(error_of(table_.dispatch(R"({"cmd":"nope"})")), "unknown command 'nope'");
  // A huge name is not echoed back in full.
  std::string big(10000, 'x');
  std::string msg = error_of(table_.dispatch(R"({"cmd":")" + big + "\"}"));
  EXPECT_LT(msg.size(), 100u);
  EXPECT_TRUE(msg.starts_with("unknown command 'xxx")) << msg;
}

TEST_F(ProtocolTest, ArgsNotAnObject) {
  EXPECT_EQ(error_of(table_.dispatch(R"({"cmd":"echo","args":[1]})")),
            "malformed request: 'args' must be an object, got array");
  EXPECT_EQ(error_of(table_.dispatch(R"({"cmd":"echo","args":"x"})")),
            "malformed request: 'args' must be an object, got string");
  // Checked before the command is looked up, so the message is about args for any command.
  EXPECT_EQ(error_of(table_.dispatch(R"({"cmd":"nope","args":3})")),
            "malformed request: 'args' must be an object, got number");
}

TEST_F(ProtocolTest, HandlerError) {
  EXPECT_EQ(error_of(table_.dispatch(R"({"cmd":"fail"})")), "it failed");
}

TEST_F(ProtocolTest, HandlerThrowing) {
  EXPECT_EQ(error_of(table_.dispatch(R"({"cmd":"throw.std"})")), "throw.std: internal error: boom");
  std::string msg = error_of(table_.dispatch(R"({"cmd":"throw.json"})"));
  EXPECT_TRUE(msg.starts_with("throw.json: bad arguments: ")) << msg;
  EXPECT_EQ(error_of(table_.dispatch(R"({"cmd":"throw.int"})")), "throw.int: internal error");
}

TEST_F(ProtocolTest, HandleReportsOkFlag) {
  EXPECT_TRUE(table_.handle(R"({"cmd":"echo"})").ok);
  EXPECT_FALSE(table_.handle(R"({"cmd":"fail"})").ok);
  EXPECT_FALSE(table_.handle("{").ok);
}

TEST_F(ProtocolTest, DeeplyNestedRequestIsRejectedBeforeParsing) {
  auto nested = [](int depth) {
    return R"({"cmd":"echo","args":{"x":)" + std::string(depth, '[') + std::string(depth, ']') +
           "}}";
  };
  // Would overflow the stack when the handler copies or the server dumps it.
  EXPECT_EQ(error_of(table_.dispatch(nested(100000))),
            "malformed request: nested deeper than 64 levels");
  EXPECT_EQ(error_of(table_.dispatch(nested(63))),
            "malformed request: nested deeper than 64 levels");
  EXPECT_EQ(parse_reply(table_.dispatch(nested(62)))["ok"], true);  // 62 + 2 objects = 64
  // Brackets inside strings (also after escaped quotes) do not count.
  std::string in_string = R"({"cmd":"echo","args":{"x":"\"[[[[)" + std::string(100, '[') + R"("}})";
  EXPECT_EQ(parse_reply(table_.dispatch(in_string))["ok"], true);
}

TEST_F(ProtocolTest, AddReplacesAndContains) {
  EXPECT_TRUE(table_.contains("echo"));
  EXPECT_FALSE(table_.contains("ech"));
  table_.add("echo", [](const Json&) -> Result<Json> { return Json("v2"); });
  EXPECT_EQ(parse_reply(table_.dispatch(R"({"cmd":"echo"})"))["result"], "v2");
}

TEST(ProtocolReplies, OkAndErrorReplies) {
  EXPECT_EQ(ok_reply(Json{{"a", 1}}), R"({"ok":true,"result":{"a":1}})");
  EXPECT_EQ(error_reply("bad \"thing\""), R"({"ok":false,"error":"bad \"thing\""})");
  // Invalid UTF-8 from a handler is replaced instead of breaking the reply.
  Json reply = Json::parse(ok_reply(Json("ab\xff")));
  EXPECT_EQ(reply["result"], "ab\xEF\xBF\xBD");
}

TEST(ProtocolArgs, Helpers) {
  Json args = {{"s", "x"}, {"n", 5}, {"neg", -1}, {"f", 1.5}, {"b", true}, {"null", nullptr}};
  EXPECT_EQ(optional_string_arg(args, "s")->value(), "x");
  EXPECT_FALSE(optional_string_arg(args, "absent")->has_value());
  EXPECT_FALSE(optional_string_arg(args, "null")->has_value());
  EXPECT_EQ(optional_string_arg(args, "n").message(), "argument 'n' must be a string");
  EXPECT_EQ(required_string_arg(args, "s").value(), "x");
  EXPECT_EQ(required_string_arg(args, "absent").message(), "missing argument 'absent'");
  EXPECT_EQ(required_string_arg(args, "b").message(), "argument 'b' must be a string");
  EXPECT_EQ(optional_uint_arg(args, "n")->value(), 5u);
  EXPECT_EQ(optional_uint_arg(args, "neg").message(),
            "argument 'neg' must be a non-negative integer");
  EXPECT_FALSE(optional_uint_arg(args, "f").ok());
  EXPECT_EQ(optional_bool_arg(args, "b")->value(), true);
  EXPECT_EQ(optional_bool_arg(args, "s").message(), "argument 's' must be true or false");
}

}  // namespace
}  // namespace vsgate
