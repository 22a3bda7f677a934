"""JQL for the fake Jira: a tokenizer and recursive-descent parser for the subset a sync uses.

Grammar (keywords case-insensitive, as in Jira):

    query    := [or] [ORDER BY field [ASC|DESC] {, field [ASC|DESC]}]
    or       := and {(OR | ||) and}
    and      := not {(AND | &&) not}
    not      := (NOT | !) not | "(" or ")" | clause
    clause   := field op operand
    op       := = | != | > | >= | < | <= | ~ | !~ | IN | NOT IN | IS | IS NOT
    operand  := value | function "(" [value {, value}] ")" | "(" operand {, operand} ")" | EMPTY | NULL

Errors are `JqlError`s worded as Jira words them (`Error in the JQL Query: Expecting ... (line 1,
character N)`), which the server answers as 400 `{"errorMessages": [...], "errors": {}}`. Meaning
(which fields exist, what a value names) is checked when a query is compiled against a site, in
`syncd.sandbox.jql_eval`.
"""

from __future__ import annotations

from dataclasses import dataclass

OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "~", "!~")
_VALID_OPS = "'=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'"
_RESERVED = set("{}*%^$#@[];?|&`")
_WORD_EXTRA = set("-_./:+")  # characters allowed inside an unquoted word besides letters and digits


class JqlError(ValueError):
    """A query Jira would refuse with 400; the message is Jira's own wording."""


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "string", "op", "(", ")", ",", "end"
    text: str
    pos: int  # 1-based character position, as Jira reports it

    def is_kw(self, *words: str) -> bool:
        """True for an unquoted word equal (case-insensitively) to one of `words`."""
        return self.kind == "word" and self.text.upper() in words


@dataclass(frozen=True)
class Value:
    text: str
    quoted: bool = False


@dataclass(frozen=True)
class Function:
    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Empty:
    pass


Operand = Value | Function | Empty | tuple["Value | Function", ...]


@dataclass(frozen=True)
class Clause:
    field: str
    op: str  # upper-case: "=", "IN", "NOT IN", "IS", "IS NOT", ...
    operand: Operand
    pos: int


@dataclass(frozen=True)
class BoolOp:
    op: str  # "AND" or "OR"
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


Node = Clause | BoolOp | Not


@dataclass(frozen=True)
class OrderBy:
    field: str
    desc: bool = False


@dataclass(frozen=True)
class Query:
    where: Node | None
    order: tuple[OrderBy, ...] = ()


def _error(message: str, pos: int | None = None) -> JqlError:
    where = f" (line 1, character {pos})" if pos is not None else ""
    return JqlError(f"Error in the JQL Query: {message}{where}")


def tokenize(text: str) -> list[Token]:
    """Split a JQL string into tokens; unterminated strings and reserved characters are errors."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "(),":
            tokens.append(Token(c, c, i + 1))
            i += 1
        elif c in "\"'":
            start, i, out = i, i + 1, []
            while i < n and text[i] != c:
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                out.append(text[i])
                i += 1
            if i >= n:
                raise _error(f"The quoted string '{text[start + 1:]}' has not been completed.", start + 1)
            tokens.append(Token("string", "".join(out), start + 1))
            i += 1
        elif c in "=!<>~":
            two = text[i:i + 2]
            if two in ("!=", ">=", "<=", "!~"):
                tokens.append(Token("op", two, i + 1))
                i += 2
            elif c == "!":
                tokens.append(Token("word", "NOT", i + 1))
                i += 1
            else:
                tokens.append(Token("op", c, i + 1))
                i += 1
        elif text.startswith("&&", i) or text.startswith("||", i):
            tokens.append(Token("word", "AND" if c == "&" else "OR", i + 1))
            i += 2
        elif c.isalnum() or c in _WORD_EXTRA:
            start = i
            while i < n and (text[i].isalnum() or text[i] in _WORD_EXTRA):
                i += 1
            if text[start:i].lower() == "cf" and i < n and text[i] == "[":  # cf[10016]
                close = text.find("]", i)
                if close < 0 or not text[i + 1:close].isdigit():
                    raise _error("Expecting a custom field id in 'cf[...]'.", start + 1)
                i = close + 1
            tokens.append(Token("word", text[start:i], start + 1))
        else:
            if c in _RESERVED:
                raise _error(f"The character '{c}' is a reserved JQL character. You must enclose it in a string "
                             f"or use the escape '\\u{ord(c):04x}' instead.", i + 1)
            raise _error(f"Illegal character '{c}'.", i + 1)
    tokens.append(Token("end", "", n + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def query(self) -> Query:
        where = None
        if not self.tok.is_kw("ORDER") and self.tok.kind != "end":
            where = self.or_expr()
        order: list[OrderBy] = []
        if self.tok.is_kw("ORDER"):
            self.take()
            if not self.tok.is_kw("BY"):
                raise _error(f"Expecting 'BY' but got '{self.tok.text}'.", self.tok.pos)
            self.take()
            while True:
                field = self.field_name("Expecting a field name after 'ORDER BY'")
                desc = False
                if self.tok.is_kw("ASC", "DESC"):
                    desc = self.take().text.upper() == "DESC"
                order.append(OrderBy(field, desc))
                if self.tok.kind != ",":
                    break
                self.take()
            if len(order) > 7:
                raise JqlError("The ORDER BY clause can contain at most 7 fields.")
        if self.tok.kind != "end":
            if where is not None or order:
                raise _error(f"Expecting either 'OR' or 'AND' but got '{self.tok.text}'.", self.tok.pos)
            raise _error(f"Expecting a field name but got '{self.tok.text}'.", self.tok.pos)
        return Query(where, tuple(order))

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.tok.is_kw("OR"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else BoolOp("OR", tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.not_expr()]
        while self.tok.is_kw("AND"):
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else BoolOp("AND", tuple(parts))

    def not_expr(self) -> Node:
        if self.tok.is_kw("NOT"):
            self.take()
            return Not(self.not_expr())
        if self.tok.kind == "(":
            self.take()
            inner = self.or_expr()
            if self.tok.kind != ")":
                if self.tok.kind == "end":
                    raise _error("Expecting ')' before the end of the query.")
                raise _error(f"Expecting ')' but got '{self.tok.text}'.", self.tok.pos)
            self.take()
            return inner
        return self.clause()

    def field_name(self, expecting: str) -> str:
        tok = self.tok
        if tok.kind == "string" or (tok.kind == "word" and not tok.is_kw("AND", "OR", "NOT", "ORDER", "BY", "IN",
                                                                            "IS", "EMPTY", "NULL", "ASC", "DESC")):
            self.take()
            return tok.text
        got = "the end of the query" if tok.kind == "end" else f"'{tok.text}'"
        raise _error(f"{expecting} but got {got}.", tok.pos)

    def clause(self) -> Clause:
        start = self.tok.pos
        field = self.field_name("Expecting a field name")
        tok = self.tok
        if tok.kind == "op":
            self.take()
            op = tok.text
        elif tok.is_kw("IN"):
            self.take()
            op = "IN"
        elif tok.is_kw("IS"):
            self.take()
            op = "IS"
            if self.tok.is_kw("NOT"):
                self.take()
                op = "IS NOT"
        elif tok.is_kw("NOT") and self.tokens[self.i + 1].is_kw("IN"):
            self.i += 2
            op = "NOT IN"
        elif tok.is_kw("WAS", "CHANGED"):
            raise JqlError(f"The history operator '{tok.text.upper()}' is not supported by the syncd sandbox.")
        else:
            got = "the end of the query" if tok.kind == "end" else f"'{tok.text}'"
            raise _error(f"Expecting operator but got {got}. The valid operators are {_VALID_OPS}.", tok.pos)
        operand = self.operand(op)
        return Clause(field, op, operand, start)

    def operand(self, op: str) -> Operand:
        tok = self.tok
        if op in ("IS", "IS NOT"):
            if tok.is_kw("EMPTY", "NULL"):
                self.take()
                return Empty()
            raise _error(f"Expecting 'EMPTY' or 'NULL' but got '{tok.text}'.", tok.pos)
        if tok.kind == "(":
            self.take()
            items: list[Value | Function] = []
            while True:
                item = self.single()
                if isinstance(item, Empty):
                    raise _error("Expecting a value but got 'EMPTY' inside a list.", tok.pos)
                items.append(item)
                if self.tok.kind == ",":
                    self.take()
                    continue
                if self.tok.kind != ")":
                    raise _error(f"Expecting ')' but got '{self.tok.text or 'the end of the query'}'.", self.tok.pos)
                self.take()
                break
            if op not in ("IN", "NOT IN"):
                raise _error(f"The operator '{op}' does not accept a list of values.", tok.pos)
            return tuple(items)
        single = self.single()
        if op in ("IN", "NOT IN") and not isinstance(single, Function):
            raise _error(f"Expecting a list of values or a function after '{op}' but got '{tok.text}'.", tok.pos)
        return single

    def single(self) -> Value | Function | Empty:
        tok = self.tok
        if tok.kind == "string":
            self.take()
            return Value(tok.text, quoted=True)
        if tok.kind == "word" and not tok.is_kw("AND", "OR", "ORDER"):
            self.take()
            if tok.is_kw("EMPTY", "NULL"):
                return Empty()
            if self.tok.kind == "(":
                self.take()
                args: list[str] = []
                while self.tok.kind != ")":
                    arg = self.take()
                    if arg.kind not in ("word", "string"):
                        raise _error(f"Expecting a function argument but got '{arg.text}'.", arg.pos)
                    args.append(arg.text)
                    if self.tok.kind == ",":
                        self.take()
                self.take()
                return Function(tok.text, tuple(args))
            return Value(tok.text)
        got = "the end of the query" if tok.kind == "end" else f"'{tok.text}'"
        raise _error(f"Expecting either a value, list or function but got {got}.", tok.pos)


def parse_jql(text: str) -> Query:
    """Parse a JQL string (where clause and ORDER BY); raise JqlError with Jira's wording."""
    return _Parser(text or "").query()
