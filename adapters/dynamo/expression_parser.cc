// Recursive-descent parser of DynamoDB's expression grammar (expression.h). Bounded: the
// text is at most kMaxExpressionBytes (DynamoDB's 4 KB limit) and nesting at most
// kMaxDepth, so neither memory nor recursion depends on the client beyond that.
#include <algorithm>
#include <cctype>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adapters/dynamo/errors.h"
#include "adapters/dynamo/expression.h"
#include "adapters/dynamo/projection.h"
#include "adapters/dynamo/reserved_words.h"

namespace ekv::dynamo {
namespace {

constexpr size_t kMaxExpressionBytes = 4096;
// DynamoDB allows 300 operators and functions in one expression; nesting (parentheses,
// NOT) is bounded separately so recursion stays shallow whatever the text.
constexpr int kMaxOperators = 300;
constexpr size_t kMaxInOperands = 100;
constexpr int kMaxDepth = 300;
constexpr size_t kMaxPathLevels = 32;

struct Token {
  enum class Kind { kIdent, kName, kValue, kNumber, kPunct, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;
  size_t offset = 0;
};

bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Parser {
 public:
  Parser(absl::string_view text, absl::string_view what, ExpressionContext* context)
      : text_(text), what_(what), context_(context) {}

  absl::Status Tokenize() {
    if (text_.size() > kMaxExpressionBytes) {
      return ValidationError(absl::StrCat("Invalid ", what_,
                                          ": Expression size has exceeded the maximum allowed "
                                          "size; expression size: ",
                                          text_.size()));
    }
    size_t i = 0;
    while (i < text_.size()) {
      const char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
        continue;
      }
      Token t;
      t.offset = i;
      if (c == '#' || c == ':') {
        size_t j = i + 1;
        while (j < text_.size() && IsIdentChar(text_[j])) ++j;
        if (j == i + 1) return SyntaxErrorAt(std::string(1, c), i);
        t.kind = c == '#' ? Token::Kind::kName : Token::Kind::kValue;
        t.text = std::string(text_.substr(i, j - i));
        i = j;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        size_t j = i;
        while (j < text_.size() && std::isdigit(static_cast<unsigned char>(text_[j]))) ++j;
        t.kind = Token::Kind::kNumber;
        t.text = std::string(text_.substr(i, j - i));
        i = j;
      } else if (std::isalpha(static_cast<unsigned char>(c))) {
        // A name starts with a letter ("_a" is a syntax error in DynamoDB's lexer).
        size_t j = i;
        while (j < text_.size() && IsIdentChar(text_[j])) ++j;
        t.kind = Token::Kind::kIdent;
        t.text = std::string(text_.substr(i, j - i));
        i = j;
      } else {
        t.kind = Token::Kind::kPunct;
        const absl::string_view rest = text_.substr(i);
        if (absl::StartsWith(rest, "<>") || absl::StartsWith(rest, "<=") ||
            absl::StartsWith(rest, ">=")) {
          t.text = std::string(rest.substr(0, 2));
        } else if (absl::string_view("()[],.=<>+-").find(c) != absl::string_view::npos) {
          t.text = std::string(1, c);
        } else {
          return SyntaxErrorAt(std::string(1, c), i);
        }
        i += t.text.size();
      }
      tokens_.push_back(std::move(t));
    }
    Token end;
    end.offset = text_.size();
    tokens_.push_back(end);
    return absl::OkStatus();
  }

  // condition := or
  Condition ParseConditionTop() {
    Condition c = ParseOr(0);
    if (!AtEnd()) Fail();
    return c;
  }

  std::vector<UpdateAction> ParseUpdateTop() {
    std::vector<UpdateAction> actions;
    std::set<std::string> seen_clauses;
    if (AtEnd()) Fail();
    while (ok() && !AtEnd()) {
      const Token& t = Peek();
      const std::string keyword = absl::AsciiStrToUpper(t.text);
      if (t.kind != Token::Kind::kIdent ||
          (keyword != "SET" && keyword != "REMOVE" && keyword != "ADD" && keyword != "DELETE")) {
        Fail();
        break;
      }
      if (!seen_clauses.insert(keyword).second) {
        SetError(ValidationError(absl::StrCat("Invalid UpdateExpression: The \"", keyword,
                                              "\" section can only be used once in an update "
                                              "expression;")));
        break;
      }
      Next();
      do {
        UpdateAction action;
        action.path = ParsePath();
        if (keyword == "SET") {
          action.kind = UpdateAction::Kind::kSet;
          Expect("=");
          action.value = ParseSetValue();
        } else if (keyword == "REMOVE") {
          action.kind = UpdateAction::Kind::kRemove;
        } else {
          action.kind = keyword == "ADD" ? UpdateAction::Kind::kAdd : UpdateAction::Kind::kDelete;
          action.value = ParseValueOperand();
        }
        actions.push_back(std::move(action));
      } while (ok() && Accept(","));
    }
    return actions;
  }

  // projection := path ("," path)*
  std::vector<Path> ParseProjectionTop() {
    std::vector<Path> paths;
    do {
      paths.push_back(ParsePath());
    } while (ok() && Accept(","));
    if (ok() && !AtEnd()) Fail();
    return paths;
  }

  bool ok() const { return error_.ok(); }
  const absl::Status& error() const { return error_; }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& Next() {
    const Token& t = Peek();
    if (pos_ < tokens_.size() - 1) ++pos_;
    return t;
  }
  bool AtEnd() const { return Peek().kind == Token::Kind::kEnd; }
  bool IsPunct(absl::string_view p, size_t ahead = 0) const {
    return Peek(ahead).kind == Token::Kind::kPunct && Peek(ahead).text == p;
  }
  bool IsKeyword(absl::string_view k) const {
    return Peek().kind == Token::Kind::kIdent && absl::EqualsIgnoreCase(Peek().text, k);
  }
  bool Accept(absl::string_view p) {
    if (!IsPunct(p)) return false;
    Next();
    return true;
  }
  void Expect(absl::string_view p) {
    if (!Accept(p)) Fail();
  }
  void SetError(absl::Status status) {
    if (error_.ok()) error_ = std::move(status);
  }
  absl::Status SyntaxErrorAt(const std::string& token, size_t offset) const {
    const size_t from = offset >= 10 ? offset - 10 : 0;
    return ValidationError(absl::StrCat("Invalid ", what_, ": Syntax error; token: \"", token,
                                        "\", near: \"", text_.substr(from, 25), "\""));
  }
  // Counts one operator or function; DynamoDB refuses the 301st.
  void CountOperator() {
    if (++operators_ > kMaxOperators) {
      SetError(ValidationError(absl::StrCat(
          "Invalid ", what_,
          ": The expression contains too many operators; operator count: ", operators_)));
    }
  }
  // A syntax error at the current token.
  void Fail() {
    const Token& t = Peek();
    SetError(SyntaxErrorAt(t.kind == Token::Kind::kEnd ? "<EOF>" : t.text, t.offset));
  }

  std::string ResolveName(const std::string& placeholder) {
    auto it = context_->names.find(placeholder);
    if (it == context_->names.end()) {
      SetError(ValidationError(absl::StrCat(
          "Invalid ", what_,
          ": An expression attribute name used in the document path is not defined; attribute "
          "name: ",
          placeholder)));
      return "";
    }
    context_->used_names.insert(placeholder);
    return it->second;
  }

  AttributeValue ResolveValue(const std::string& placeholder) {
    auto it = context_->values.find(placeholder);
    if (it == context_->values.end()) {
      SetError(ValidationError(absl::StrCat(
          "Invalid ", what_,
          ": An expression attribute value used in expression is not defined; attribute value: ",
          placeholder)));
      return AttributeValue();
    }
    context_->used_values.insert(placeholder);
    return it->second;
  }

  PathElement ParsePathName() {
    const Token& t = Peek();
    if (t.kind == Token::Kind::kName) return {ResolveName(Next().text), -1};
    if (t.kind == Token::Kind::kIdent) {
      // A bare name may not be a reserved word (a #placeholder may stand for one).
      if (IsReservedWord(t.text)) {
        SetError(ValidationError(absl::StrCat("Invalid ", what_,
                                              ": Attribute name is a reserved keyword; reserved "
                                              "keyword: ",
                                              t.text)));
        return {};
      }
      return {Next().text, -1};
    }
    Fail();
    return {};
  }

  Path ParsePath() {
    Path path;
    path.push_back(ParsePathName());
    while (ok()) {
      if (Accept(".")) {
        path.push_back(ParsePathName());
      } else if (Accept("[")) {
        const Token& t = Peek();
        if (t.kind != Token::Kind::kNumber) {
          Fail();
          break;
        }
        // Indexes DynamoDB can hold: a list has at most 400 KB of elements.
        if (t.text.size() > 9) {
          SetError(ValidationError(absl::StrCat(
              "Invalid ", what_, ": List index is not within the allowable range; index: [", t.text,
              "]")));
          break;
        }
        path.push_back({"", std::stoi(Next().text)});
        Expect("]");
      } else {
        break;
      }
    }
    // DynamoDB documents 32 levels of nesting, the top-level attribute included.
    if (ok() && path.size() > kMaxPathLevels) {
      SetError(ValidationError(absl::StrCat(
          "Invalid ", what_,
          ": The document path has too many nesting levels; nesting levels: ", path.size())));
    }
    return path;
  }

  // operand := path | :value | size(operand)
  Operand ParseOperand(int depth = 0) {
    Operand o;
    const Token& t = Peek();
    if (depth > kMaxDepth) {
      Fail();
      return o;
    }
    if (t.kind == Token::Kind::kValue) {
      Next();
      o.kind = Operand::Kind::kValue;
      o.value = ResolveValue(t.text);
    } else if (t.kind == Token::Kind::kIdent && IsPunct("(", 1)) {
      const std::string name = Next().text;
      if (name != "size") {
        NotAnOperandFunction(name);
        return o;
      }
      Next();  // (
      CountOperator();
      o.kind = Operand::Kind::kSize;
      do {
        o.args.push_back(ParseOperand(depth + 1));
      } while (ok() && Accept(","));
      Expect(")");
      if (ok() && o.args.size() != 1) {
        SetError(OperandCountError(name, o.args.size()));
      } else if (ok()) {
        CheckSizeArgument(o.args[0]);
      }
    } else if (t.kind == Token::Kind::kIdent || t.kind == Token::Kind::kName) {
      o.kind = Operand::Kind::kPath;
      o.path = ParsePath();
    } else {
      Fail();
    }
    return o;
  }

  // A function name where an operand is expected (size is parsed by the caller): the
  // update-only functions and the boolean ones are known but not allowed there.
  void NotAnOperandFunction(const std::string& name) {
    static const char* const kKnown[] = {
        "if_not_exists",  "list_append", "attribute_exists", "attribute_not_exists",
        "attribute_type", "begins_with", "contains"};
    for (const char* known : kKnown) {
      if (name == known) {
        SetError(ValidationError(absl::StrCat("Invalid ", what_,
                                              ": The function is not allowed to be used this "
                                              "way in an expression; function: ",
                                              name)));
        return;
      }
    }
    SetError(ValidationError(
        absl::StrCat("Invalid ", what_, ": Invalid function name; function: ", name)));
  }

  absl::Status OperandCountError(absl::string_view function, size_t count) const {
    return ValidationError(absl::StrCat("Invalid ", what_,
                                        ": Incorrect number of operands for operator or "
                                        "function; operator or function: ",
                                        function, ", number of operands: ", count));
  }

  absl::Status OperandTypeError(absl::string_view function, absl::string_view type) const {
    return ValidationError(absl::StrCat("Invalid ", what_,
                                        ": Incorrect operand type for operator or function; "
                                        "operator or function: ",
                                        function, ", operand type: ", type));
  }

  // The type an operand has whatever the item is: a value's own, N for size(); nullopt for
  // a path. DynamoDB refuses a wrong type known from the request itself as a
  // ValidationException, while a wrong type found in the item only makes the condition
  // false.
  static std::optional<AttributeType> ConstantType(const Operand& o) {
    if (o.kind == Operand::Kind::kValue) return o.value.type;
    if (o.kind == Operand::Kind::kSize) return AttributeType::kN;
    return std::nullopt;
  }

  void CheckSizeArgument(const Operand& argument) {
    const std::optional<AttributeType> type = ConstantType(argument);
    if (!type.has_value()) return;
    switch (*type) {
      case AttributeType::kS:
      case AttributeType::kB:
      case AttributeType::kSS:
      case AttributeType::kNS:
      case AttributeType::kBS:
      case AttributeType::kL:
      case AttributeType::kM:
        return;
      default:
        SetError(OperandTypeError("size", TypeName(*type)));
    }
  }

  // Ordering comparisons and BETWEEN take S, N or B.
  void CheckOrderable(absl::string_view op, const Operand& o) {
    const std::optional<AttributeType> type = ConstantType(o);
    if (!ok() || !type.has_value()) return;
    if (*type != AttributeType::kS && *type != AttributeType::kN && *type != AttributeType::kB) {
      SetError(OperandTypeError(op, TypeName(*type)));
    }
  }

  void CheckBetweenBounds(const Operand& lower, const Operand& upper) {
    if (!ok() || lower.kind != Operand::Kind::kValue || upper.kind != Operand::Kind::kValue) {
      return;
    }
    if (lower.value.type != upper.value.type) {
      SetError(ValidationError(absl::StrCat(
          "Invalid ", what_,
          ": The BETWEEN operator requires same data type for lower and upper bounds; lower "
          "bound operand type: ",
          TypeName(lower.value.type), ", upper bound operand type: ", TypeName(upper.value.type))));
      return;
    }
    std::optional<int> order = CompareValues(lower.value, upper.value);
    if (order.has_value() && *order > 0) {
      SetError(ValidationError(absl::StrCat(
          "Invalid ", what_,
          ": The BETWEEN operator requires upper bound to be greater than or equal to lower "
          "bound")));
    }
  }

  Operand ParseValueOperand() {
    const Token& t = Peek();
    if (t.kind != Token::Kind::kValue) {
      Fail();
      return {};
    }
    Next();
    Operand o;
    o.value = ResolveValue(t.text);
    return o;
  }

  // set_term := operand | if_not_exists(path, set_term) | list_append(set_term, set_term)
  Operand ParseSetTerm(int depth) {
    if (depth > kMaxDepth) {
      Fail();
      return {};
    }
    const Token& t = Peek();
    if (t.kind == Token::Kind::kIdent && IsPunct("(", 1) &&
        (t.text == "if_not_exists" || t.text == "list_append")) {
      const bool if_not_exists = t.text == "if_not_exists";
      Next();
      Next();
      CountOperator();
      Operand o;
      if (if_not_exists) {
        o.kind = Operand::Kind::kIfNotExists;
        o.path = ParsePath();
        Expect(",");
        o.args.push_back(ParseSetTerm(depth + 1));
      } else {
        o.kind = Operand::Kind::kListAppend;
        o.args.push_back(ParseSetTerm(depth + 1));
        Expect(",");
        o.args.push_back(ParseSetTerm(depth + 1));
      }
      Expect(")");
      return o;
    }
    if (t.kind == Token::Kind::kIdent && IsPunct("(", 1)) {
      SetError(
          ValidationError(absl::StrCat("Invalid UpdateExpression: Invalid function name; "
                                       "function: ",
                                       t.text)));
      return {};
    }
    return ParseOperand();
  }

  Operand ParseSetValue() {
    Operand left = ParseSetTerm(0);
    if (IsPunct("+") || IsPunct("-")) {
      Operand o;
      o.kind = Next().text == "+" ? Operand::Kind::kPlus : Operand::Kind::kMinus;
      CountOperator();
      o.args.push_back(std::move(left));
      o.args.push_back(ParseSetTerm(0));
      return o;
    }
    return left;
  }

  Condition ParseOr(int depth) {
    Condition left = ParseAnd(depth);
    while (ok() && IsKeyword("OR")) {
      Next();
      CountOperator();
      Condition c;
      c.kind = Condition::Kind::kOr;
      c.children.push_back(std::move(left));
      c.children.push_back(ParseAnd(depth));
      left = std::move(c);
    }
    return left;
  }

  Condition ParseAnd(int depth) {
    Condition left = ParseNot(depth);
    while (ok() && IsKeyword("AND")) {
      Next();
      CountOperator();
      Condition c;
      c.kind = Condition::Kind::kAnd;
      c.children.push_back(std::move(left));
      c.children.push_back(ParseNot(depth));
      left = std::move(c);
    }
    return left;
  }

  Condition ParseNot(int depth) {
    if (depth > kMaxDepth) {
      Fail();
      return {};
    }
    if (IsKeyword("NOT")) {
      Next();
      CountOperator();
      Condition c;
      c.kind = Condition::Kind::kNot;
      c.children.push_back(ParseNot(depth + 1));
      return c;
    }
    return ParsePrimary(depth);
  }

  Condition ParsePrimary(int depth) {
    Condition c;
    if (Accept("(")) {
      c = ParseOr(depth + 1);
      Expect(")");
      return c;
    }
    const Token& t = Peek();
    if (t.kind == Token::Kind::kIdent && IsPunct("(", 1) && IsConditionFunction(t.text)) {
      return ParseFunction();
    }
    Operand left = ParseOperand();
    if (!ok()) return c;
    if (IsKeyword("BETWEEN")) {
      Next();
      CountOperator();
      c.kind = Condition::Kind::kBetween;
      c.operands.push_back(std::move(left));
      c.operands.push_back(ParseOperand());
      if (!IsKeyword("AND")) {
        Fail();
        return c;
      }
      Next();
      c.operands.push_back(ParseOperand());
      for (const Operand& o : c.operands) CheckOrderable("BETWEEN", o);
      if (ok()) CheckBetweenBounds(c.operands[1], c.operands[2]);
      return c;
    }
    if (IsKeyword("IN")) {
      Next();
      CountOperator();
      c.kind = Condition::Kind::kIn;
      c.operands.push_back(std::move(left));
      Expect("(");
      do {
        c.operands.push_back(ParseOperand());
      } while (ok() && Accept(","));
      Expect(")");
      // DynamoDB allows at most 100 candidates after IN (the left operand not counted).
      if (ok() && c.operands.size() - 1 > kMaxInOperands) {
        SetError(ValidationError(absl::StrCat(
            "Invalid ", what_,
            ": The IN operator is provided with too many operands; number of operands: ",
            c.operands.size() - 1)));
      }
      return c;
    }
    static const std::pair<const char*, CompareOp> kOps[] = {
        {"=", CompareOp::kEq},  {"<>", CompareOp::kNe}, {"<", CompareOp::kLt},
        {"<=", CompareOp::kLe}, {">", CompareOp::kGt},  {">=", CompareOp::kGe}};
    for (const auto& [text, op] : kOps) {
      if (IsPunct(text)) {
        Next();
        CountOperator();
        c.kind = Condition::Kind::kCompare;
        c.op = op;
        c.operands.push_back(std::move(left));
        c.operands.push_back(ParseOperand());
        if (op != CompareOp::kEq && op != CompareOp::kNe) {
          for (const Operand& o : c.operands) CheckOrderable(text, o);
        }
        return c;
      }
    }
    Fail();
    return c;
  }

  Condition ParseFunction() {
    const std::string name = Next().text;
    Next();  // (
    CountOperator();
    Condition c;
    size_t arity = 2;
    if (name == "attribute_exists") {
      c.kind = Condition::Kind::kAttributeExists;
      arity = 1;
    } else if (name == "attribute_not_exists") {
      c.kind = Condition::Kind::kAttributeNotExists;
      arity = 1;
    } else if (name == "attribute_type") {
      c.kind = Condition::Kind::kAttributeType;
    } else if (name == "begins_with") {
      c.kind = Condition::Kind::kBeginsWith;
    } else if (name == "contains") {
      c.kind = Condition::Kind::kContains;
    } else {
      SetError(ValidationError(
          absl::StrCat("Invalid ", what_, ": Invalid function name; function: ", name)));
      return c;
    }
    do {
      c.operands.push_back(ParseOperand());
    } while (ok() && Accept(","));
    Expect(")");
    if (ok() && c.operands.size() != arity) {
      SetError(OperandCountError(name, c.operands.size()));
    }
    if (!ok()) return c;
    const bool needs_path = c.kind == Condition::Kind::kAttributeExists ||
                            c.kind == Condition::Kind::kAttributeNotExists;
    if (needs_path && c.operands.front().kind != Operand::Kind::kPath) {
      SetError(ValidationError(absl::StrCat(
          "Invalid ", what_,
          ": Operator or function requires a document path; operator or function: ", name)));
    }
    if (c.kind == Condition::Kind::kAttributeType) CheckTypeName(c.operands[1]);
    if (c.kind == Condition::Kind::kBeginsWith) {
      for (const Operand& o : c.operands) {
        const std::optional<AttributeType> type = ConstantType(o);
        if (ok() && type.has_value() && *type != AttributeType::kS && *type != AttributeType::kB) {
          SetError(OperandTypeError(name, TypeName(*type)));
        }
      }
    }
    return c;
  }

  static bool IsConditionFunction(absl::string_view name) {
    return name == "attribute_exists" || name == "attribute_not_exists" ||
           name == "attribute_type" || name == "begins_with" || name == "contains";
  }

  // attribute_type's second operand: a value naming one of DynamoDB's ten types.
  void CheckTypeName(const Operand& o) {
    if (o.kind != Operand::Kind::kValue) {
      const std::optional<AttributeType> type = ConstantType(o);
      SetError(OperandTypeError("attribute_type", type.has_value() ? TypeName(*type) : "path"));
      return;
    }
    if (o.value.type != AttributeType::kS) {
      SetError(OperandTypeError("attribute_type", TypeName(o.value.type)));
      return;
    }
    static const char* const kTypes[] = {"S", "N", "B", "SS", "NS", "BS", "BOOL", "NULL", "L", "M"};
    for (const char* type : kTypes) {
      if (o.value.scalar == type) return;
    }
    SetError(ValidationError(absl::StrCat(
        "Invalid ", what_, ": Invalid attribute type name found; type: ", o.value.scalar,
        ", valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }")));
  }

  absl::string_view text_;
  absl::string_view what_;
  ExpressionContext* context_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int operators_ = 0;
  absl::Status error_;
};

}  // namespace

std::string PathToString(const Path& path) {
  std::string out;
  for (const PathElement& e : path) {
    if (e.index >= 0) {
      absl::StrAppend(&out, "[", e.index, "]");
    } else {
      absl::StrAppend(&out, out.empty() ? "" : ".", e.name);
    }
  }
  return out;
}

absl::StatusOr<Condition> ParseCondition(absl::string_view text, absl::string_view what,
                                         ExpressionContext* context) {
  if (text.empty()) {
    return ValidationError(absl::StrCat("Invalid ", what, ": The expression can not be empty;"));
  }
  Parser parser(text, what, context);
  if (absl::Status s = parser.Tokenize(); !s.ok()) return s;
  Condition condition = parser.ParseConditionTop();
  if (!parser.ok()) return parser.error();
  return condition;
}

absl::StatusOr<std::vector<UpdateAction>> ParseUpdate(absl::string_view text,
                                                      ExpressionContext* context) {
  if (text.empty()) {
    return ValidationError("Invalid UpdateExpression: The expression can not be empty;");
  }
  Parser parser(text, "UpdateExpression", context);
  if (absl::Status s = parser.Tokenize(); !s.ok()) return s;
  std::vector<UpdateAction> actions = parser.ParseUpdateTop();
  if (!parser.ok()) return parser.error();
  // Two actions on overlapping paths (one a prefix of the other) are refused.
  for (size_t i = 0; i < actions.size(); ++i) {
    for (size_t j = i + 1; j < actions.size(); ++j) {
      const Path& a = actions[i].path;
      const Path& b = actions[j].path;
      const size_t n = std::min(a.size(), b.size());
      const size_t differ = std::mismatch(a.begin(), a.begin() + n, b.begin()).first - a.begin();
      // The same parent used as a map by one path and as a list by the other.
      if (differ < n && (a[differ].index < 0) != (b[differ].index < 0)) {
        return ValidationError(absl::StrCat(
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove "
            "or rewrite one of these paths; path one: ",
            PathListString(a), ", path two: ", PathListString(b)));
      }
      if (differ == n) {
        return ValidationError(absl::StrCat(
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove "
            "or rewrite one of these paths; path one: ",
            PathListString(a), ", path two: ", PathListString(b)));
      }
    }
  }
  return actions;
}

absl::StatusOr<std::vector<Path>> ParseProjection(absl::string_view text,
                                                  ExpressionContext* context) {
  if (text.empty()) {
    return ValidationError("Invalid ProjectionExpression: The expression can not be empty;");
  }
  Parser parser(text, "ProjectionExpression", context);
  if (absl::Status s = parser.Tokenize(); !s.ok()) return s;
  std::vector<Path> paths = parser.ParseProjectionTop();
  if (!parser.ok()) return parser.error();
  return paths;
}

absl::Status CheckAllPlaceholdersUsed(const ExpressionContext& context) {
  std::vector<std::string> unused;
  for (const auto& [placeholder, value] : context.values) {
    if (context.used_values.count(placeholder) == 0) unused.push_back(placeholder);
  }
  if (!unused.empty()) {
    return ValidationError(
        absl::StrCat("Value provided in ExpressionAttributeValues unused in expressions: keys: {",
                     absl::StrJoin(unused, ", "), "}"));
  }
  for (const auto& [placeholder, name] : context.names) {
    if (context.used_names.count(placeholder) == 0) unused.push_back(placeholder);
  }
  if (!unused.empty()) {
    return ValidationError(
        absl::StrCat("Value provided in ExpressionAttributeNames unused in expressions: keys: {",
                     absl::StrJoin(unused, ", "), "}"));
  }
  return absl::OkStatus();
}

}  // namespace ekv::dynamo
