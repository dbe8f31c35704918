"""SOQL tokens: the tokenizer, string-literal decoding and Salesforce's error layout."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2})
    |(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))
    |(?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    |(?P<string>'(?:[^'\\]|\\.)*')
    |(?P<op><>|!=|<=|>=|=|<|>)
    |(?P<punct>[(),:])
    """,
    re.VERBOSE | re.DOTALL,
)
# A literal glued to letters (``2021-09-01T09``, ``10abc``) is one bad token, not two good ones.
_GLUED = re.compile(r"[A-Za-z0-9_.:]")
_BAD_CHUNK = re.compile(r"[^\s(),=<>!']+")
_SIMPLE_ESCAPES = {
    "n": "\n",
    "N": "\n",
    "r": "\r",
    "R": "\r",
    "t": "\t",
    "T": "\t",
    "b": "\b",
    "B": "\b",
    "f": "\f",
    "F": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}


class SoqlError(Exception):
    """A query Salesforce would refuse, with its REST ``errorCode`` and ``message``.

    Codes: MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE, and, where Salesforce uses them,
    INVALID_QUERY_FILTER_OPERATOR, NUMBER_OUTSIDE_VALID_RANGE and QUERY_TOO_COMPLICATED.
    All are HTTP 400.
    """

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code = error_code
        self.message = message


def located(text: str, pos: int, detail: str) -> str:
    """Salesforce's layout: the offending line, a caret under the column, Row:Column, detail."""
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start : len(text) if line_end < 0 else line_end]
    row = text.count("\n", 0, pos) + 1
    column = pos - line_start + 1
    return f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{detail}"


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # ws-free kinds: word string number date datetime op punct eof
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``eof`` token at the end of the text."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _bad_character(text, pos)
        kind = match.lastgroup or ""
        end = match.end()
        if kind in ("number", "date", "datetime") and end < len(text) and _GLUED.match(text, end):
            chunk = _BAD_CHUNK.match(text, pos)
            raise unexpected(text, Token("word", chunk.group() if chunk else text[pos], pos))
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = end
    tokens.append(Token("eof", "<EOF>", len(text)))
    return tokens


def _bad_character(text: str, pos: int) -> SoqlError:
    if text[pos] == "'":
        return SoqlError(
            "MALFORMED_QUERY", located(text, pos, "mismatched character '<EOF>' expecting '''")
        )
    return unexpected(text, Token("punct", text[pos], pos))


def unexpected(text: str, token: Token) -> SoqlError:
    return SoqlError(
        "MALFORMED_QUERY", located(text, token.pos, f"unexpected token: '{token.text}'")
    )


def decode_string(text: str, token: Token, *, like: bool) -> list[tuple[str, bool]]:
    """The characters of a string literal, each flagged True when it was escaped.

    ``\\%`` and ``\\_`` are legal only in a LIKE pattern; any other unknown escape is refused.
    """
    body = token.text[1:-1]
    chars: list[tuple[str, bool]] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            chars.append((char, False))
            index += 1
            continue
        code = body[index + 1]
        if code in _SIMPLE_ESCAPES:
            chars.append((_SIMPLE_ESCAPES[code], True))
            index += 2
        elif code in "%_" and like:
            chars.append((code, True))
            index += 2
        elif code == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", body[index + 2 : index + 6]):
            chars.append((chr(int(body[index + 2 : index + 6], 16)), True))
            index += 6
        else:
            detail = (
                f"Invalid string literal '{body}'. "
                f"Illegal character sequence '\\{code}' in string literal."
            )
            raise SoqlError("MALFORMED_QUERY", located(text, token.pos, detail))
    return chars
