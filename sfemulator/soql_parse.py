"""SOQL text → syntax tree: the recursive-descent parser of the emulator's subset.

Grammar (keywords case-insensitive)::

    query      := SELECT (COUNT '(' ')' | path (',' path)*) FROM name
                  [WHERE condition] [ORDER BY order (',' order)*] [LIMIT int] [OFFSET int]
    condition  := term (AND term)* | term (OR term)*     -- mixing AND/OR needs parentheses
    term       := NOT term | '(' condition ')' | path operator value
                | path LIKE string | path [NOT] IN '(' value (',' value)* ')'
    order      := path [ASC | DESC] [NULLS (FIRST | LAST)]
    value      := string | number | date | datetime | TRUE | FALSE | NULL | date-literal [':' int]

String literals stay undecoded in the tree: whether ``\\%`` and ``\\_`` are legal depends on
whether the literal is a LIKE pattern, which only the compiler knows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sfemulator.soql_lex import SoqlError, Token, located, tokenize, unexpected

MAX_OFFSET = 2000
MAX_INT32 = 2_147_483_647
MAX_NESTING = 100
TOO_COMPLICATED = (
    "Query is either selecting too many fields or the filter conditions are too complicated."
)

RESERVED = frozenset(
    "SELECT FROM WHERE ORDER BY LIMIT OFFSET AND OR NOT IN LIKE ASC DESC NULLS FIRST LAST "
    "TRUE FALSE NULL GROUP HAVING WITH USING INCLUDES EXCLUDES".split()
)
FIXED_DATE_LITERALS = frozenset(
    "YESTERDAY TODAY TOMORROW LAST_WEEK THIS_WEEK NEXT_WEEK LAST_MONTH THIS_MONTH NEXT_MONTH "
    "LAST_QUARTER THIS_QUARTER NEXT_QUARTER LAST_YEAR THIS_YEAR NEXT_YEAR "
    "LAST_90_DAYS NEXT_90_DAYS".split()
)
N_DATE_LITERAL = re.compile(
    r"(LAST_N|NEXT_N)_(DAYS|WEEKS|MONTHS|QUARTERS|YEARS)|N_(DAYS|WEEKS|MONTHS|QUARTERS|YEARS)_AGO"
)


@dataclass(frozen=True, slots=True)
class FieldRef:
    path: str
    pos: int


@dataclass(frozen=True, slots=True)
class Literal:
    kind: str  # string number boolean null date datetime dateliteral
    value: object  # string: the raw body; dateliteral: (name, n or None); others: decoded
    token: Token


@dataclass(frozen=True, slots=True)
class Comparison:
    field: FieldRef
    op: str  # = != < <= > >= LIKE IN NOT IN
    values: tuple[Literal, ...]
    op_pos: int


@dataclass(frozen=True, slots=True)
class Junction:
    op: str  # AND or OR
    operands: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Negation:
    operand: Condition


Condition = Comparison | Junction | Negation


@dataclass(frozen=True, slots=True)
class OrderItem:
    field: FieldRef
    descending: bool
    nulls_first: bool


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    fields: tuple[FieldRef, ...]
    count_only: bool
    sobject: str
    sobject_pos: int
    where: Condition | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int


def parse(text: str) -> Query:
    """Parse a whole SELECT statement; raise SoqlError(MALFORMED_QUERY) on a syntax error."""
    if not text.strip():
        raise SoqlError("MALFORMED_QUERY", "SOQL statements cannot be empty or null")
    return _Parser(text).query()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    # --- token helpers -------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        self.index += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        return self.peek().upper in words

    def expect_keyword(self, word: str) -> Token:
        if not self.at_keyword(word):
            raise unexpected(self.text, self.peek())
        return self.advance()

    def expect_punct(self, char: str) -> Token:
        token = self.peek()
        if token.kind != "punct" or token.text != char:
            raise unexpected(self.text, token)
        return self.advance()

    def at_punct(self, char: str) -> bool:
        token = self.peek()
        return token.kind == "punct" and token.text == char

    def name(self) -> Token:
        token = self.peek()
        if token.kind != "word" or token.upper in RESERVED:
            raise unexpected(self.text, token)
        return self.advance()

    def integer(self) -> int:
        token = self.peek()
        if token.kind != "number" or not token.text.isdigit():
            raise unexpected(self.text, token)
        value = int(token.text)
        if value > MAX_INT32:
            raise SoqlError(
                "MALFORMED_QUERY",
                located(self.text, token.pos, f'For input string: "{token.text}"'),
            )
        self.advance()
        return value

    # --- clauses -------------------------------------------------------------------------

    def query(self) -> Query:
        self.expect_keyword("SELECT")
        count_only, fields = self.select_list()
        self.expect_keyword("FROM")
        sobject = self.name()
        where = self.where_clause()
        order_by = self.order_clause()
        limit = self.limit_clause()
        offset = self.offset_clause()
        if self.peek().kind != "eof":
            raise unexpected(self.text, self.peek())
        return Query(
            self.text, fields, count_only, sobject.text, sobject.pos, where, order_by, limit, offset
        )

    def select_list(self) -> tuple[bool, tuple[FieldRef, ...]]:
        if self.at_keyword("COUNT") and self.peek(1).text == "(":
            self.advance()
            self.expect_punct("(")
            self.expect_punct(")")
            return True, ()
        fields = [self.field_ref()]
        while self.at_punct(","):
            self.advance()
            fields.append(self.field_ref())
        return False, tuple(fields)

    def field_ref(self) -> FieldRef:
        token = self.name()
        return FieldRef(token.text, token.pos)

    def where_clause(self) -> Condition | None:
        if not self.at_keyword("WHERE"):
            return None
        self.advance()
        return self.condition()

    def order_clause(self) -> tuple[OrderItem, ...]:
        if not self.at_keyword("ORDER"):
            return ()
        self.advance()
        self.expect_keyword("BY")
        items = [self.order_item()]
        while self.at_punct(","):
            self.advance()
            items.append(self.order_item())
        return tuple(items)

    def order_item(self) -> OrderItem:
        field = self.field_ref()
        descending = False
        if self.at_keyword("ASC", "DESC"):
            descending = self.advance().upper == "DESC"
        # Salesforce sorts nulls as the smallest value: first ascending, last descending.
        nulls_first = not descending
        if self.at_keyword("NULLS"):
            self.advance()
            if not self.at_keyword("FIRST", "LAST"):
                raise unexpected(self.text, self.peek())
            nulls_first = self.advance().upper == "FIRST"
        return OrderItem(field, descending, nulls_first)

    def limit_clause(self) -> int | None:
        if not self.at_keyword("LIMIT"):
            return None
        self.advance()
        return self.integer()

    def offset_clause(self) -> int:
        if not self.at_keyword("OFFSET"):
            return 0
        self.advance()
        offset = self.integer()
        if offset > MAX_OFFSET:
            raise SoqlError(
                "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}"
            )
        return offset

    # --- conditions ----------------------------------------------------------------------

    def condition(self) -> Condition:
        first = self.term()
        if not self.at_keyword("AND", "OR"):
            return first
        connective = self.peek().upper
        operands = [first]
        while self.at_keyword("AND", "OR"):
            if self.peek().upper != connective:
                # SOQL has no precedence between AND and OR: mixing them needs parentheses.
                raise unexpected(self.text, self.peek())
            self.advance()
            operands.append(self.term())
        return Junction(connective, tuple(operands))

    def term(self) -> Condition:
        if not self.at_keyword("NOT") and not self.at_punct("("):
            return self.comparison()
        self.depth += 1
        if self.depth > MAX_NESTING:
            # Parsing and compiling recurse once per level: refuse before Python's stack does.
            raise SoqlError("QUERY_TOO_COMPLICATED", TOO_COMPLICATED)
        if self.advance().upper == "NOT":
            inner = Negation(self.term())
        else:
            inner = self.condition()
            self.expect_punct(")")
        self.depth -= 1
        return inner

    def comparison(self) -> Comparison:
        field = self.field_ref()
        token = self.peek()
        if token.kind == "op":
            self.advance()
            op = "!=" if token.text == "<>" else token.text
            return Comparison(field, op, (self.value(),), token.pos)
        if token.upper == "LIKE":
            self.advance()
            return Comparison(field, "LIKE", (self.value(),), token.pos)
        op = "IN"
        if token.upper == "NOT":
            self.advance()
            op = "NOT IN"
        if not self.at_keyword("IN"):
            raise unexpected(self.text, self.peek())
        self.advance()
        return Comparison(field, op, self.value_list(), token.pos)

    def value_list(self) -> tuple[Literal, ...]:
        self.expect_punct("(")
        values = [self.value()]
        while self.at_punct(","):
            self.advance()
            values.append(self.value())
        self.expect_punct(")")
        return tuple(values)

    def value(self) -> Literal:
        token = self.peek()
        if token.kind == "string":
            return Literal("string", token.text, self.advance())
        if token.kind == "number":
            number = float(token.text) if "." in token.text else int(token.text)
            return Literal("number", number, self.advance())
        if token.kind in ("date", "datetime"):
            return Literal(token.kind, token.text, self.advance())
        word = token.upper
        if word in ("TRUE", "FALSE"):
            return Literal("boolean", word == "TRUE", self.advance())
        if word == "NULL":
            return Literal("null", None, self.advance())
        if word in FIXED_DATE_LITERALS:
            return Literal("dateliteral", (word, None), self.advance())
        if N_DATE_LITERAL.fullmatch(word):
            self.advance()
            self.expect_punct(":")
            return Literal("dateliteral", (word, self.integer()), token)
        raise unexpected(self.text, token)
