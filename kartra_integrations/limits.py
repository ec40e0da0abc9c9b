"""The ranges the service accepts, in one place, and the one reading of a number given as text.

Every integer and decimal that reaches the database is checked against these first (input
serializers take their min/max from here, so the OpenAPI schema documents them; services check
what only they can compute, such as a score or price x quantity). PostgreSQL would otherwise refuse
the value (a 500) or, for a prepared statement with an `integer` parameter, wrap it.

| value | range | why |
|---|---|---|
| ids (leads, assets, transactions, ...) | 1 .. 2^63-1 | `bigint` primary keys |
| points per call | 1 .. 1,000,000 | `give_points_to_lead`, `remove_points_from_lead` |
| a lead's score | -(2^53-1) .. 2^53-1 | a `bigint` column, kept to what Zapier's JavaScript reads exactly |
| quantity of a sale | 1 .. 9,999 | the platform's own limit |
| price point number, sequence step | 1 .. 10,000 | |
| money | 0 .. 9,999,999,999.99, 2 decimal places | `numeric(12, 2)` |
| JSON nesting | 32 levels | our deepest input is 3 |
"""

from decimal import Decimal

ID_MAX = 2**63 - 1
POINTS_MAX = 1_000_000
SCORE_MAX = 2**53 - 1
QUANTITY_MAX = 9_999
PRICE_POINT_MAX = 10_000
STEP_MAX = 10_000
EXPIRATION_DAYS_MAX = 3_650
MONEY_MAX_DIGITS = 12
MONEY_DECIMAL_PLACES = 2
MONEY_MAX = Decimal("9999999999.99")
JSON_MAX_DEPTH = 32

_ASCII_DIGITS = frozenset("0123456789")


def ascii_int(value: object, *, min_value: int = 1, max_value: int = ID_MAX) -> int | None:
    """An int, or text of ASCII digits (surrounding spaces allowed), within [min_value, max_value];
    None for anything else. `str.isdigit()` accepts "²" (which int() refuses) and `str.isdecimal()`
    accepts "١" (which int() reads as 1): ids are ASCII digits only."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        # Length first: int() of thousands of digits is slow (and refused past 4,300).
        if not text or len(text) > 32 or not _ASCII_DIGITS.issuperset(text):
            return None
        value = int(text)
    if not isinstance(value, int) or not min_value <= value <= max_value:
        return None
    return value
